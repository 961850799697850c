"""English queries are centered by the default model's shipped mean; Arabic queries and other models are not."""

import numpy as np
import pytest

from jisr.answers.centering import center, shift


def test_only_queries_not_in_arabic_move_and_stay_unit_length():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    moved = np.float32(0.5) * vectors[1]
    out = center(["Which carrier?", "أي حاملة طائرات؟", "porte-avions"], vectors, moved)
    assert np.array_equal(out[1], vectors[1])  # Arabic: untouched
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    expected = (vectors[[0, 2]] - moved) / np.linalg.norm(vectors[[0, 2]] - moved, axis=1, keepdims=True)
    assert np.allclose(out[[0, 2]], expected, atol=1e-6)
    assert out[0] @ vectors[0] < 1.0 - 1e-3  # it did move
    assert center(["Which carrier?"], vectors[:1], None) is not None
    assert np.array_equal(center(["Which carrier?"], vectors[:1], None), vectors[:1])


def test_a_model_without_an_entry_is_left_as_it_is(tiny_model, tiny_model_path):
    from jisr.answers.query_encoder import QueryEncoder

    assert shift(tiny_model) is None
    encoder = QueryEncoder(tiny_model, threads=1, tokens=64)
    assert np.allclose(encoder.read("Which carrier?")[0], tiny_model.encode_query(["Which carrier?"])[0], atol=1e-6)


@pytest.mark.slow
def test_the_default_model_centers_english_queries_in_search_and_eval(default_model, seed_searcher, monkeypatch):
    from jisr.evaluate import Query, evaluate

    moved = shift(default_model)
    assert moved is not None and moved.shape == (384,) and np.linalg.norm(moved) > 0.01
    english, arabic = "Which French aircraft carrier did Putin order the navy to contact?", "حاملة الطائرات الفرنسية"
    # one at a time, as search encodes a lone query: padded into one batch, the two differ by ~1e-3 under bfloat16
    plain = np.concatenate([default_model.encode_query([english]), default_model.encode_query([arabic])])
    assert np.allclose(seed_searcher.encode_query(english), center([english], plain[:1], moved)[0], atol=1e-5)
    assert np.allclose(seed_searcher.encode_query(arabic), plain[1], atol=1e-5)
    seen, texts, rank = [], [], seed_searcher.rank  # eval ranks with the texts and vectors search would use
    monkeypatch.setattr(
        seed_searcher,
        "rank",
        lambda text, *a, vector=None, **k: (
            seen.append(vector) or texts.append(text) or rank(text, *a, vector=vector, **k)
        ),
    )
    long = " ".join([english] * 12)  # past the query token budget: search reads only its beginning
    evaluate(
        seed_searcher,
        [Query(english, "en", "tune", {"x"}), Query(arabic, "ar", "tune", {"x"}), Query(long, "en", "tune", {"x"})],
        ["hybrid"],
        by_text=False,
        split="tune",
    )
    # eval encodes its queries in padded batches: under bfloat16 that moves a vector by ~1e-3 (cosine
    # > 0.9999), far less than centering moves it (cosine 0.990)
    assert seen[0] @ seed_searcher.encode_query(english) > 0.9999 > 0.995 > seen[0] @ plain[0]
    assert seen[1] @ plain[1] > 0.9999
    vector, read, tokens = seed_searcher.read_query(long)
    assert tokens > seed_searcher.query_tokens and len(read) < len(long)
    assert texts == [english, arabic, read] and seen[2] @ vector > 0.9999
