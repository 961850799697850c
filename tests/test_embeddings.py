"""The generic model path, on a tiny model the tests build themselves."""
import numpy as np
import pytest
import torch

from embeddings import ModelError, load_model, model_fingerprint
from tests.conftest import build_tiny_model


def test_encode_query_and_document_are_normalized_float32(tiny_model):
    q = tiny_model.encode_query(["Putin", "بوتين"])
    d = tiny_model.encode_document(["الرئيس الروسي فلاديمير بوتين"])
    assert q.dtype == np.float32 and d.dtype == np.float32
    assert q.shape == (2, 32) and d.shape == (1, 32)
    np.testing.assert_allclose(np.linalg.norm(np.vstack([q, d]), axis=1), 1.0, rtol=1e-5)


def test_prompts_go_through_sentence_transformers(tiny_model):
    text = "بوتين"
    by_prompt = tiny_model.encode_query([text])[0]
    by_hand = tiny_model.encode([tiny_model.prompts["query"] + text], normalize_embeddings=True)[0]
    np.testing.assert_allclose(by_prompt, by_hand, atol=1e-5)
    assert not np.allclose(tiny_model.encode_document([text])[0], by_prompt, atol=1e-3)


def test_model_without_prompts_or_normalize_still_gives_unit_vectors(tmp_path):
    path = build_tiny_model(tmp_path)
    from sentence_transformers import SentenceTransformer

    raw = SentenceTransformer(str(path), device="cpu")
    del raw[len(raw) - 1]  # drop Normalize, as many hub models have none
    raw.save(str(tmp_path / "unnormalized"))
    model = load_model(str(tmp_path / "unnormalized"))
    v = model.encode_query(["سوريا", "Syria"])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="cannot load model"):
        load_model(str(tmp_path / "no-such-model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="local directory"):
        load_model(str(tmp_path / "empty"))


def test_fingerprint_is_stable_and_tells_models_apart(tiny_model_path, tmp_path):
    a = load_model(str(tiny_model_path))
    b = load_model(str(tiny_model_path))
    assert model_fingerprint(a) == model_fingerprint(b)
    with torch.no_grad():
        next(b.parameters())[0, 0] += 1.0
    assert model_fingerprint(a) != model_fingerprint(b)


def test_windowed_transformer_reads_past_the_window(tmp_path):
    """A text longer than the window is embedded from all of it: the mean over its windows' tokens."""
    model = load_model(str(build_tiny_model(tmp_path, max_seq_length=16, windowed=True)))
    tok = model.tokenizer
    text = " ".join(["وجه الرئيس الروسي فلاديمير بوتين أمرا للبحرية الروسية"] * 6)
    ids = tok(text)["input_ids"]
    assert len(ids) > 40  # several windows of 16
    got = model.encode_document([text])[0]

    body = ids[1:-1]
    windows = [[ids[0]] + body[i:i + 14] + [ids[-1]] for i in range(0, len(body), 14)]
    bert = model[0].auto_model
    with torch.no_grad():
        tokens = torch.cat([bert(input_ids=torch.tensor([w])).last_hidden_state[0] for w in windows])
    expected = tokens.mean(0).numpy()
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(got, expected, atol=1e-5)

    truncated = model.encode_document([tok.decode(ids[1:15])])[0]
    assert float(got @ truncated) < 0.9999  # the rest of the text changed the embedding
