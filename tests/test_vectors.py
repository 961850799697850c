"""Vectors stored as int8 (sentence and companion vectors as int6) with a scale per row: close to the model's,
stable when copied, and readable beside segments that older builds stored in float32 or all int8."""

import json
import shutil

import numpy as np
import pytest

from jisr.answers.searcher import Searcher
from jisr.index.build import build
from jisr.index.local import store
from jisr.index.local import vectors as stored
from jisr.index.local.segment import kinds as kinds_of
from jisr.index.options import BuildOptions, SegmentPolicy, VectorPrecision
from jisr.passages import passage_input
from tests.conftest import SEEDS, more_passages


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("scale", [1e-3, 1.0, 40.0])
def test_int8_rows_keep_their_direction_and_requantizing_them_changes_nothing(scale):
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(500, 384)).astype(np.float32) * scale
    vectors[0] = 0.0  # a row of zeros stays zeros
    vectors[1, 7] = 30 * scale  # one outlier dimension costs its own row only
    codes, scales = stored.quantize(vectors)
    back = stored.Quantized(codes, scales)[:]
    assert codes.dtype == np.int8 and scales.dtype == np.float32 and not back[0].any()
    assert _cosines(back[1:], vectors[1:]).min() >= 0.999
    assert _cosines(back[2:], vectors[2:]).min() >= 0.9999
    again, again_scales = stored.quantize(back)
    assert np.array_equal(again, codes) and np.allclose(again_scales, scales, rtol=1e-6)
    assert np.array_equal(stored.Quantized(codes, scales)[[5, 2]], back[[5, 2]])
    assert np.array_equal(stored.Quantized(codes, scales)[9], back[9])


@pytest.mark.parametrize(
    "kind, dim, least", [("int4", 384, 0.98), ("int4", 7, 0.97), ("int6", 384, 0.998), ("int6", 10, 0.995)]
)
def test_packed_codes_take_their_bits_and_requantizing_them_changes_nothing(kind, dim, least):
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(300, dim)).astype(np.float32)
    vectors[0] = 0.0
    levels, bits = stored.LEVELS[kind], stored.BITS[kind]
    codes, scales = stored.quantize(vectors, levels=levels)
    assert codes.min() == -levels and codes.max() == levels
    packed = stored.pack(codes, bits)
    assert packed.dtype == np.uint8 and packed.shape == (300, stored.width(kind, dim)) == (
        300,
        -(-dim // 4) * 4 * bits // 8,
    )
    assert np.array_equal(stored.unpack(packed, dim, bits), codes)
    rows = stored.Quantized(packed, scales, None, dim, bits)
    back = rows[:]
    assert rows.shape == (300, dim) and not back[0].any() and rows[[4, 1]].shape == (2, dim)
    assert np.array_equal(rows[7], back[7])
    assert _cosines(back[1:], vectors[1:]).min() >= least
    again, again_scales = stored.quantize(back, levels=levels)
    assert np.array_equal(again, codes) and np.allclose(again_scales, scales, rtol=1e-6)
    q = rng.normal(size=dim).astype(np.float32)
    np.testing.assert_allclose(rows.dot(np.array([2, 9, 299]), q), back[[2, 9, 299]] @ q, rtol=1e-5, atol=1e-5)
    assert b"".join(stored.encoded(vectors, kind)) == packed.tobytes() + scales.tobytes()


def test_a_shared_direction_is_taken_out_before_quantizing_and_copies_keep_their_codes():
    rng = np.random.default_rng(4)
    common = rng.normal(size=384).astype(np.float32)
    vectors = 3 * common + rng.normal(size=(400, 384)).astype(np.float32)  # as embeddings share a mean
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:50] + 0.1 * rng.normal(size=(50, 384)).astype(np.float32)
    center = vectors[:100].mean(axis=0)
    errors = {}
    for name, c in (("plain", None), ("centered", center)):
        codes, scales = stored.quantize(vectors, c)
        back = stored.Quantized(codes, scales, c)[:]
        errors[name] = np.abs((back - vectors) @ queries.T).mean()
        again, _ = stored.quantize(back, c)
        assert np.array_equal(again, codes)
        rows = np.array([3, 17, 250, 399])
        for q in queries[:5]:  # the products read from the codes are the rows' own
            np.testing.assert_allclose(
                stored.dot(stored.Quantized(codes, scales, c), rows, q), back[rows] @ q, rtol=1e-5, atol=1e-5
            )
            assert np.array_equal(stored.dot(vectors, rows, q), vectors[rows] @ q)
    assert errors["centered"] < 0.7 * errors["plain"]


def _stored_sets(rng, dim):
    """Vector sets as segments hold them: int8 and packed int6 codes from one center and from another,
    and float32 (an older build's)."""
    sets = []
    for kind, center in (("int8", 0), ("int8", 0), ("int8", 1), ("int6", 0), ("int6", 1), ("float32", 0)):
        vectors = rng.normal(size=(60, dim)).astype(np.float32)
        c = np.full(dim, 0.5 + center, np.float32)
        if kind == "float32":
            sets.append((kind, vectors))
            continue
        codes, scales = stored.quantize(vectors, c, stored.LEVELS[kind])
        packed = stored.pack(codes, stored.BITS[kind]) if kind in stored.BITS else codes
        sets.append((kind, stored.Quantized(packed, scales, c, dim, stored.BITS.get(kind))))
    return sets


@pytest.mark.parametrize("kinds", [("int8",), ("int6",), ("int8", "int6"), ("int8", "float32")])
def test_rows_gathered_from_many_sets_are_each_sets_own(kinds):
    rng = np.random.default_rng(5)
    dim = 10
    sets = [v for kind, v in _stored_sets(rng, dim) if kind in kinds]
    parts = [(v, np.sort(rng.choice(60, size=k, replace=False))) for v, k in zip(sets, (7, 0, 13, 1, 30, 2))]
    want = np.concatenate([np.asarray(v[rows], np.float32).reshape(-1, dim) for v, rows in parts])
    np.testing.assert_allclose(stored.gather(parts, dim), want, rtol=1e-6, atol=1e-6)
    q = rng.normal(size=dim).astype(np.float32)
    np.testing.assert_allclose(stored.gathered_dot(parts, q), want @ q, rtol=1e-5, atol=1e-5)
    assert stored.gather([], dim).shape == (0, dim)


def test_a_build_stores_int8_that_agrees_with_the_model(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    more_passages(corpus)
    build(corpus, tmp_path / "index", tiny_model)
    index = store.load(tmp_path / "index")
    (segment,) = index.segments
    n, dim = segment.size, segment.vectors.shape[1]
    assert segment.meta["vector_dtype"] == "int8"
    assert (segment.folder / "vectors.bin").stat().st_size == n * dim  # a byte a value
    assert (segment.folder / "vectors.scales.bin").stat().st_size == n * 4
    passages = index.passages(index.ids())
    model = tiny_model.encode_document([passage_input(p) for p in passages], normalize_embeddings=True)
    assert _cosines(index.vectors(index.ids()), model).min() >= 0.999
    counts, sentences = index.sentence_vectors(index.ids())
    texts = [t for p in passages for t in p.sentence_texts()]
    assert counts.sum() == len(texts) and segment.meta["sentence_dtype"] == "int6"
    assert (segment.folder / "sentences.bin").stat().st_size == len(texts) * dim * 6 // 8  # 6 bits a value
    model = tiny_model.encode_document(texts, normalize_embeddings=True)
    assert _cosines(sentences, model).min() >= 0.998


@pytest.mark.parametrize("older", ["float32", "int8"])
def test_segments_of_an_older_build_are_served_beside_new_ones_and_merged_into_the_new_kinds(
    tmp_path, tiny_model, older
):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEEDS, corpus)
    # as builds wrote before int8 (float32), or before int4 sentences
    build(corpus, index, tiny_model, BuildOptions(precision=VectorPrecision(older, older, older)))
    for seg in store.load(index).segments:  # older builds wrote no sentence_dtype, companion_dtype
        meta = json.loads((seg.folder / "segment.json").read_text(encoding="utf-8"))
        del meta["sentence_dtype"], meta["companion_dtype"]
        (seg.folder / "segment.json").write_text(json.dumps(meta), encoding="utf-8")
    more_passages(corpus)
    build(corpus, index, tiny_model)
    kinds = [kinds_of(s.meta) for s in store.load(index).segments]
    assert kinds == [
        {"vectors.bin": older, "sentences.bin": older, "companion.bin": older},
        {"vectors.bin": "int8", "sentences.bin": "int6", "companion.bin": "int6"},
    ]
    searcher = Searcher.open(index, tiny_model)
    seed = store.load(index).passages([3])[0]
    for query, found in ((seed.text, seed.doc_id), ("فقرة رقم 4 5 عن موضوع مختلف", "extra4.txt")):
        assert searcher.search(query, k=3, lang="any", mode="hybrid").to_json()["results"][0]["doc_id"] == found
    (corpus / "extra0.txt").unlink()
    new_segment = store.load(index).segments[1]
    centers, codes = new_segment.centers(), np.array(new_segment.sentence_vectors.codes)
    assert {"vectors.bin", "sentences.bin"} <= set(centers)
    assert build(corpus, index, tiny_model, BuildOptions(segments=SegmentPolicy(max_small=1))).merged == 2  # both
    (merged,) = store.load(index).segments
    assert merged.meta["vector_dtype"] == "int8" and merged.meta["sentence_dtype"] == "int6"
    assert all(np.array_equal(merged.centers()[n], centers[n]) for n in centers)  # the index's centers, kept
    # the new segment's sentence rows (extra0's 8 first, removed; the older segment's before them) keep their codes
    assert np.array_equal(np.array(merged.sentence_vectors.codes)[-len(codes) + 8 :], codes[8:])
    assert (merged.folder / "sentences.bin").stat().st_size == merged.meta["sentences"] * merged.vectors.shape[
        1
    ] * 6 // 8
    merged_searcher = Searcher.open(index, tiny_model)
    for query, found in ((seed.text, seed.doc_id), ("فقرة رقم 4 5 عن موضوع مختلف", "extra4.txt")):
        assert merged_searcher.search(query, k=3, lang="any", mode="hybrid").to_json()["results"][0]["doc_id"] == found
