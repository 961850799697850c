"""The generic model path, on a tiny model the tests build themselves."""

import numpy as np
import pytest
import torch

from jisr.embeddings import ModelError, load_model, model_fingerprint
from jisr.embeddings.batching import encode_documents, token_batches
from tests.conftest import SEEDS, build_tiny_model


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
    model[0].compute_dtype = "float32"  # compared below with a float32 forward pass by hand
    tok = model.tokenizer
    text = " ".join(["وجه الرئيس الروسي فلاديمير بوتين أمرا للبحرية الروسية"] * 6)
    ids = tok(text)["input_ids"]
    assert len(ids) > 40  # several windows of 16
    got = model.encode_document([text])[0]

    body = ids[1:-1]
    windows = [[ids[0]] + body[i : i + 14] + [ids[-1]] for i in range(0, len(body), 14)]
    bert = model[0].auto_model
    with torch.no_grad():
        tokens = torch.cat([bert(input_ids=torch.tensor([w])).last_hidden_state[0] for w in windows])
    expected = tokens.mean(0).numpy()
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(got, expected, atol=1e-5)

    truncated = model.encode_document([tok.decode(ids[1:15])])[0]
    assert float(got @ truncated) < 0.9999  # the rest of the text changed the embedding


def test_token_batches_cover_every_text_once_within_the_budget():
    lengths = [5, 300, 40, 40, 700, 12, 90, 3000, 64, 64, 64, 64]
    batches = token_batches(lengths, budget=256, max_batch=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 256
    in_order = [lengths[i] for b in batches for i in b]
    assert in_order == sorted(lengths)
    assert token_batches([]) == []


def test_encode_documents_matches_encode_document_in_the_callers_order(tiny_model):
    texts = [" ".join(["كلمة"] * n) for n in (30, 1, 12, 3, 30, 7)] + ["بوتين", "روسيا"]
    got = encode_documents(tiny_model, texts, budget=40)
    np.testing.assert_allclose(got, tiny_model.encode_document(texts), atol=1e-5)
    assert encode_documents(tiny_model, []).shape == (0, tiny_model.get_embedding_dimension())


def test_bfloat16_compute_stays_close_to_float32_and_is_saved(tmp_path):
    model = load_model(str(build_tiny_model(tmp_path, windowed=True)))
    assert model[0].compute_dtype == "auto"
    texts = ["وجه الرئيس الروسي فلاديمير بوتين أمرا للبحرية", "Putin", "٢٠١٥ سوريا"]
    model[0].compute_dtype = "float32"
    full = model.encode_document(texts)
    model[0].compute_dtype = "bfloat16"
    half = model.encode_document(texts)
    assert half.dtype == np.float32
    assert not np.array_equal(full, half)  # the matmuls did run in bfloat16
    assert (full * half).sum(1).min() > 0.99
    model.save(str(tmp_path / "saved"))
    assert load_model(str(tmp_path / "saved"))[0].compute_dtype == "bfloat16"


def test_unknown_compute_dtype_is_refused(tmp_path):
    from jisr.embeddings.windowed import WindowedTransformer

    path = build_tiny_model(tmp_path, windowed=True)
    with pytest.raises(ValueError, match="compute_dtype"):
        WindowedTransformer(str(path / "hf"), compute_dtype="float8")


@pytest.mark.parametrize("autocast", [False, True], ids=["float32", "bfloat16"])
def test_prepacked_linears_match_plain_ones_and_follow_weight_changes(autocast):
    import copy
    import pickle

    from jisr.embeddings.precision import PrepackedLinear, prepack_linears, prepacking_works

    torch.manual_seed(0)
    plain = torch.nn.Sequential(torch.nn.Linear(24, 40), torch.nn.GELU(), torch.nn.Linear(40, 8))
    packed = copy.deepcopy(plain)
    prepack_linears(packed)
    assert isinstance(packed[0], PrepackedLinear) and isinstance(packed[2], PrepackedLinear)
    x = torch.randn(3, 5, 24)

    def run(model):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            return model(x).float()

    tolerance = {"atol": 0.05, "rtol": 0.02} if autocast else {"atol": 1e-5, "rtol": 1e-5}
    torch.testing.assert_close(run(packed), run(plain), **tolerance)
    # The prepacked copy exists, so that is what it read; a CPU whose oneDNN cannot run bfloat16 (AVX2
    # only) takes the plain product instead, which the comparison above checked.
    assert (packed[0]._packed is not None) == prepacking_works(torch.bfloat16 if autocast else torch.float32)
    assert list(packed.state_dict()) == list(plain.state_dict())
    assert all(t.dtype == torch.float32 for t in packed.state_dict().values())

    with torch.no_grad():  # in-place writes (an optimizer step, load_state_dict) make a new copy
        plain[0].weight.mul_(-2.0)
        packed[0].weight.mul_(-2.0)
        plain[2].bias += 1.0
    packed.load_state_dict({**packed.state_dict(), "2.bias": plain[2].bias.clone()})
    torch.testing.assert_close(run(packed), run(plain), **tolerance)

    clone = pickle.loads(pickle.dumps(copy.deepcopy(packed)))  # the opaque copy is left behind, made again
    torch.testing.assert_close(run(clone), run(plain), **tolerance)

    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):  # training reads the float32 master
        packed(x).sum().backward()
    assert packed[0].weight.grad is not None and packed[0].weight.grad.dtype == torch.float32


def test_loaded_models_prepack_their_linears_without_changing_their_fingerprint(tmp_path):
    from jisr.embeddings.precision import PrepackedLinear

    model = load_model(str(build_tiny_model(tmp_path, windowed=True)))
    assert any(isinstance(m, PrepackedLinear) for m in model.modules())
    before = model_fingerprint(model)
    for dtype in ("float32", "bfloat16"):
        model[0].compute_dtype = dtype
        model.encode_document(["وجه الرئيس الروسي فلاديمير بوتين أمرا للبحرية"])
    assert model_fingerprint(model) == before


def test_prepacked_linear_falls_back_to_the_plain_product_where_onednn_cannot_run_it():
    from jisr.embeddings import precision

    torch.manual_seed(0)
    plain = torch.nn.Linear(16, 4)
    packed = torch.nn.Sequential(torch.nn.Linear(16, 4))
    packed.load_state_dict({f"0.{k}": v for k, v in plain.state_dict().items()})
    precision.prepack_linears(packed, works=lambda dtype: False)  # a CPU where oneDNN cannot
    x = torch.randn(2, 16)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(packed(x), plain(x))
    assert packed[0]._packed is None


def test_document_lengths_asked_of_the_fast_tokenizer_are_the_tokenizers_own_counts(tiny_model):
    from jisr.embeddings.batching import document_lengths

    assert getattr(tiny_model.tokenizer.backend_tokenizer, "encode_batch_fast", None) is not None  # the fast path runs
    texts = [p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")] + ["", "كلمة", "word " * 700, "ﷺ ﻻ Straße"]
    prompt = tiny_model.prompts.get("document", "")
    by_tokenizer = [len(ids) for ids in tiny_model.tokenizer([prompt + t for t in texts], verbose=False)["input_ids"]]
    assert document_lengths(tiny_model, texts) == by_tokenizer and max(by_tokenizer) > 700
