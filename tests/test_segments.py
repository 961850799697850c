"""Segments, tombstones, resume and merge: an index that grows by files, on the tiny model."""

import shutil
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from jisr.answers.searcher import Searcher
from jisr.index import commit as commits
from jisr.index.build import build
from jisr.index.local import ann, store
from jisr.index.options import FLOAT32, BuildOptions, CandidatePolicy, SegmentPolicy
from tests.conftest import ROOT, SEEDS, live_segments, more_passages, segments_on_disk
from tests.test_cli import jisr

WORDS = ["الطقس", "المطر", "دمشق", "القاهرة", "الاقتصاد", "النفط", "الكرة", "المدرسة", "الجامعة", "البحر"]


def write_docs(folder: Path, count: int, start: int = 0) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(start, start + count):
        a, b = WORDS[i % len(WORDS)], WORDS[(i * 3 + 1) % len(WORDS)]
        (folder / f"doc{i:03d}.txt").write_text(
            f"خبر رقم {i}\nفقرة عن {a} في اليوم {i}. وجملة ثانية عن {b}.\nفقرة أخرى عن {b} والعدد {i * 7}.\n",
            encoding="utf-8",
        )


class Ranked(list):
    """Results per query, equal to another's when they rank alike up to a perturbation of ``TOLERANCE`` in
    each score: scores rank by rank within it, a passage in both scored within it, and one in only one of
    them no further than it from the other's last score (it may fall either side of the cut). Vectors are
    stored as int8 from a center that depends on what an index stored first (jisr.index.local.vectors),
    so one corpus built in other steps scores differently by up to about 1e-3, and near-ties may swap."""

    TOLERANCE = 3e-3

    def __eq__(self, other) -> bool:
        return len(self) == len(other) and all(self._alike(a, b) and self._alike(b, a) for a, b in zip(self, other))

    @classmethod
    def _alike(cls, a, b) -> bool:
        if len(a) != len(b):
            return False
        scores_b = {(d, o): s for d, o, s in b}
        last = b[-1][2] if b else 0.0
        return all(abs(x[2] - y[2]) <= cls.TOLERANCE for x, y in zip(a, b)) and all(
            abs(s - scores_b[d, o]) <= cls.TOLERANCE if (d, o) in scores_b else abs(s - last) <= cls.TOLERANCE
            for d, o, s in a
        )

    __hash__ = None


def everything(index: Path, tiny_model, mode: str = "dense") -> Ranked:
    searcher = Searcher.open(index, tiny_model)
    return Ranked(
        [
            (r["doc_id"], r["ordinal"], r["score"])
            for r in searcher.search(q, k=10, lang="any", mode=mode).to_json()["results"]
        ]
        for q in WORDS[:4] + ["Damascus rain", "خبر رقم 7"]
    )


def test_a_removed_file_is_deleted_by_tombstone_and_a_changed_one_reembeds_only_what_changed(tmp_path, tiny_model):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 6)
    first = build(corpus, index, tiny_model)
    (corpus / "doc002.txt").unlink()
    text = (corpus / "doc003.txt").read_text(encoding="utf-8")
    (corpus / "doc003.txt").write_text(text.replace("فقرة أخرى", "فقرة جديدة"), encoding="utf-8")
    second = build(corpus, index, tiny_model)
    assert second.passages == first.passages - 2
    assert second.embedded == 2  # the changed paragraph and its one sentence; the other paragraph kept its vectors
    stored = store.load(index)
    assert {p.doc_id for p in stored.passages(stored.ids())} == {f"doc{i:03d}.txt" for i in (0, 1, 3, 4, 5)}
    entries = stored.manifest["segments"]
    assert [e["deleted"] for e in entries] == [4, 0] and entries[0]["deletes"]  # doc002 and the old doc003
    assert everything(index, tiny_model) == everything(_fresh(corpus, tmp_path, tiny_model), tiny_model)


def _fresh(corpus: Path, tmp_path: Path, tiny_model) -> Path:
    fresh = tmp_path / f"fresh-{time.monotonic_ns()}"
    build(corpus, fresh, tiny_model)
    return fresh


def test_small_segments_are_merged_and_answers_do_not_change(tmp_path, tiny_model):
    merging = BuildOptions(segments=SegmentPolicy(max_small=3))
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 2)
    build(corpus, index, tiny_model, merging)
    merged = []
    for i in range(2, 6):
        write_docs(corpus, 1, start=i)
        (corpus / "doc000.txt").write_text(f"خبر\nنسخة {i} من الخبر الأول عن النفط.\n", encoding="utf-8")
        merged.append(build(corpus, index, tiny_model, merging).merged)
    assert merged == [0, 0, 4, 0]  # the fourth small segment triggers a merge of all four
    assert len(live_segments(index)) == 2 and segments_on_disk(index) == live_segments(index)
    merged_segment = store.load(index).manifest["segments"][0]
    assert (merged_segment["passages"], merged_segment["deleted"]) == (9, 1)  # only live rows were copied
    assert everything(index, tiny_model) == everything(_fresh(corpus, tmp_path, tiny_model), tiny_model)


_KILLED_BUILD = """
import contextlib, os, signal, sys
import jisr.index.build as b, jisr.index.commit, jisr.index.lexical, jisr.index.local.merge
from jisr.embeddings import load_model
from jisr.index.options import BuildOptions, SegmentPolicy
corpus, index, model_path, point = sys.argv[1:5]
model = load_model(model_path)
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
def dying(real, on_call):
    calls = [0]
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == on_call:
            die()
        return real(*args, **kwargs)
    return wrapper
def at(module, name, on_call=1):  # points build() has no hook for
    setattr(module, name, dying(getattr(module, name), on_call))
commit, encoder = contextlib.nullcontext, None  # build()'s hooks: the swap, and what embeds
if point == "embedding":
    encoder = dying(lambda texts: b.encode_documents(model, texts), on_call=6)
elif point == "sealing":
    at(jisr.index.lexical, "write")
elif point == "merging":
    at(jisr.index.local.merge, "_copy", on_call=2)
elif point == "committing":
    commit = lambda: die() or contextlib.nullcontext()
elif point == "cleaning":
    at(jisr.index.commit, "clean", on_call=2)  # the first is before the build, the second after its swap
b.build(corpus, index, model, BuildOptions(batch_passages=4, segments=SegmentPolicy(max_small=2)),
        commit=commit, encoder=encoder)
"""


KILLED_BUILD_OPTIONS = BuildOptions(batch_passages=4, segments=SegmentPolicy(max_small=2))  # as _KILLED_BUILD's


def _killed_build(corpus: Path, index: Path, model_path: Path, point: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_BUILD, str(corpus), str(index), str(model_path), point], cwd=ROOT, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow  # jisr builds in child processes, killed
def test_a_killed_build_resumes_where_it_stopped(tmp_path, tiny_model, tiny_model_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 40)
    _killed_build(corpus, index, tiny_model_path, "embedding")  # in the sixth batch
    assert not commits.exists(index)  # nothing was committed
    resumed = build(corpus, index, tiny_model, KILLED_BUILD_OPTIONS)
    total = resumed.passages + resumed.sentences
    assert resumed.reused == 5 * 2 * (2 + 3)  # five batches of 2 files (2 passages, 3 sentences each) kept
    assert 0 < resumed.embedded <= total - resumed.reused  # repeated sentences are embedded once
    assert segments_on_disk(index) == live_segments(index)
    # Built with the same options, the fresh index stores its vectors from the same center (the first batch's
    # mean), so a resume loses nothing at all: every score is equal, not only alike within Ranked's tolerance.
    fresh = tmp_path / "fresh"
    build(corpus, fresh, tiny_model, KILLED_BUILD_OPTIONS)
    for mode in ("dense", "sentence", "lexical", "hybrid"):
        assert list(everything(index, tiny_model, mode)) == list(everything(fresh, tiny_model, mode)), mode


@pytest.mark.slow  # jisr builds in child processes, killed
@pytest.mark.parametrize("point", ["embedding", "sealing", "merging", "committing", "cleaning"])
def test_a_sigkill_during_build_merge_or_commit_leaves_the_last_commit_answering(
    tmp_path, tiny_model, tiny_model_path, point
):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 3)
    build(corpus, index, tiny_model)
    for i in range(3, 5):  # three small segments: the next build (max_small=2) merges
        write_docs(corpus, 1, start=i)
        build(corpus, index, tiny_model)
    before = everything(index, tiny_model, "hybrid")
    write_docs(corpus, 12, start=5)
    _killed_build(corpus, index, tiny_model_path, point)
    if point == "cleaning":  # killed after its swap: the new commit answers
        assert store.load(index).size == 17 * 2
    else:
        assert everything(index, tiny_model, "hybrid") == before
    assert build(corpus, index, tiny_model).passages == 17 * 2
    assert segments_on_disk(index) == live_segments(index)
    assert everything(index, tiny_model) == everything(_fresh(corpus, tmp_path, tiny_model), tiny_model)


@pytest.mark.parametrize("kind", ["ivf", "pq"])
def test_approximate_recall_is_measured_and_met_on_clustered_vectors(tmp_path, kind):
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(50, 48))
    vectors = centers[rng.integers(0, 50, 20_000)] + 0.6 * rng.normal(size=(20_000, 48))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16)
    queries = np.asarray(vectors[:200], np.float32) + 0.3 * rng.normal(size=(200, 48)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    params = (ann.train_ivf if kind == "ivf" else ann.train_pq)(tmp_path, vectors, queries, candidates=50)
    index = ann.load(tmp_path, params, vectors)
    assert params["kind"] == kind and params["recall@10"] >= ann.RECALL_TARGET
    depth = ann.depth(params, 50)
    assert ann.recall_at_10(index, vectors, queries, depth) == pytest.approx(params["recall@10"], abs=1e-4)
    if kind == "ivf":
        assert params["nlist"] > 1
        index.nprobe = 1
    else:
        assert params["m"] == 24 and 50 <= depth < len(vectors)
    assert ann.recall_at_10(index, vectors, queries, 10) < params["recall@10"]  # the measure can fail


@pytest.mark.parametrize("rescored", [CandidatePolicy().rescored, 1])  # 1: only the n best proposals re-scored
def test_dense_candidates_do_not_depend_on_how_passages_are_split_into_segments(tmp_path, tiny_model, rescored):
    # float32: int8 rows are stored from a center each build picks from its first batch, which moves scores by
    # ~1e-3 and swaps near-ties at the cut (measured apart, in benchmarks/experiments/compressed_vectors.py)
    passages_float32 = replace(BuildOptions().precision, passages=FLOAT32.passages)
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    more_passages(corpus)
    build(corpus, tmp_path / "one", tiny_model, BuildOptions(precision=passages_float32))
    build(
        corpus,
        tmp_path / "many",
        tiny_model,
        BuildOptions(precision=passages_float32, batch_passages=4, segments=SegmentPolicy(passages=12, max_small=100)),
    )
    candidates = CandidatePolicy(rescored=rescored)
    one, many = (store.load(tmp_path / name, candidates=candidates) for name in ("one", "many"))
    assert len(one.segments) == 1 and len(many.segments) >= 3  # with rescored 1, proposals are cut
    text = {i: p.text for i, p in zip(one.ids(), one.passages(one.ids()))}
    text_many = {i: p.text for i, p in zip(many.ids(), many.passages(many.ids()))}
    for query in ("بوتين", "Syria", "الرياضة"):
        q = tiny_model.encode_query([query], normalize_embeddings=True)[0]
        found = [sorted(t[i] for i in index.dense_candidates(q, 5)) for index, t in ((one, text), (many, text_many))]
        assert found[0] == found[1] and len(found[0]) == 5


def test_all_segments_asked_in_one_call_propose_what_each_asked_alone_does_deleted_rows_left_out(tmp_path, tiny_model):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 30)
    small = BuildOptions(batch_passages=4, segments=SegmentPolicy(passages=12, max_small=100))
    build(corpus, index, tiny_model, small)
    for name in ("doc003.txt", "doc017.txt"):
        (corpus / name).unlink()
    build(corpus, index, tiny_model, small)
    opened = store.load(index)
    gone = {int(i) for d, base in zip(opened.deleted, opened.bases) for i in np.flatnonzero(d) + base}
    assert len(opened.segments) >= 3 and 0 < len(gone) <= opened.candidates.rescored * 5
    for query in WORDS[:5] + ["خبر رقم 3"]:
        q = tiny_model.encode_query([query], normalize_embeddings=True)[0]
        assert opened._proposals(q, 5) is not None  # one call, over every segment
        together = opened.dense_candidates(q, 5)
        opened._proposals = lambda q, n: None  # each segment asked alone
        alone = opened.dense_candidates(q, 5)
        del opened._proposals
        assert together.tolist() == alone.tolist() and len(together) == 5 and not gone & set(together.tolist())


def test_check_hashes_every_file_that_open_only_measures(tmp_path, tiny_model, tiny_model_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEEDS, corpus)
    build(corpus, index, tiny_model)
    ok = jisr("check", "--index", str(index))
    assert ok.returncode == 0 and "10 passages" in ok.stdout and "ok" in ok.stdout
    vectors = store.load(index).segments[0].folder / "vectors.bin"
    data = bytearray(vectors.read_bytes())
    data[10] ^= 0xFF
    vectors.write_bytes(bytes(data))
    assert Searcher.open(index, tiny_model).size == 10  # same size: opening does not notice
    bad = jisr("check", "--index", str(index))
    assert bad.returncode == 1 and "vectors.bin is damaged" in bad.stderr and "rebuild" in bad.stderr


def test_files_unchanged_since_the_last_build_are_not_read_again_and_a_changed_one_is(tmp_path, tiny_model, caplog):
    import logging
    import os

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 6)
    (corpus / "feed.jsonl").write_text('{"id": "a", "text": "خبر عن النفط في البحر"}\nnot json\n', encoding="utf-8")
    past = time.time_ns() - 3600 * 10**9  # written an hour ago: old enough to trust its stat
    for path in corpus.iterdir():
        os.utime(path, ns=(past, past))
    first = build(corpus, index, tiny_model)
    caplog.set_level(logging.DEBUG, logger="jisr.index.build")  # the build says each file it reads
    caplog.clear()

    def read() -> list[str]:
        return [r.args[0] for r in caplog.records if r.name == "jisr.index.build" and r.msg == "reading %s"]

    again = build(corpus, index, tiny_model)
    assert read() == [] and again.embedded == 0  # nothing read, nothing embedded
    assert (again.documents, again.passages) == (first.documents, first.passages) == (7, 13)
    assert [s.path for s in again.skipped] == ["feed.jsonl:2"]  # what the unread file skipped is still said

    text = (corpus / "doc003.txt").read_text(encoding="utf-8")
    (corpus / "doc003.txt").write_text(text.replace("فقرة أخرى", "فقرة جديدة"), encoding="utf-8")
    write_docs(corpus, 1, start=6)
    third = build(corpus, index, tiny_model)
    # pass 1 reads the two files whose stat changed; pass 2 reads them again to embed, and nothing else
    assert sorted(read()) == ["doc003.txt", "doc003.txt", "doc006.txt", "doc006.txt"]
    assert third.documents == 8 and third.embedded == 2 + 5  # doc003: a paragraph, 1 sentence; doc006: 2 and 3
    assert everything(index, tiny_model) == everything(_fresh(corpus, tmp_path, tiny_model), tiny_model)
    sources = store.load(index).manifest["sources"]
    assert sources["feed.jsonl"][2] == ["feed.jsonl#a"] and "doc006.txt" not in sources  # written just now


def test_texts_are_stored_compressed_and_an_index_with_plain_texts_still_reads_them(tmp_path, tiny_model):
    import json
    import sqlite3

    from jisr.index.local.segment import META

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_docs(corpus, 6)
    build(corpus, index, tiny_model)
    before = _texts_found(index, tiny_model)
    for name in live_segments(index):  # rewrite each segment's texts as plain text, as before compression
        folder = index / "segments" / name
        with sqlite3.connect(folder / "passages.sqlite") as db:
            stored = db.execute("SELECT id, text FROM passages").fetchall()
            assert any(isinstance(t, bytes) for _, t in stored)  # a text too short to gain stays text
            plain = [(t if isinstance(t, str) else zlib.decompress(t).decode("utf-8"), i) for i, t in stored]
            stored_bytes = sum(len(t if isinstance(t, bytes) else t.encode("utf-8")) for _, t in stored)
            assert stored_bytes < sum(len(t.encode("utf-8")) for t, _ in plain)
            db.executemany("UPDATE passages SET text = ? WHERE id = ?", plain)
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        meta["files"]["passages.sqlite"]["bytes"] = (folder / "passages.sqlite").stat().st_size
        (folder / META).write_text(json.dumps(meta), encoding="utf-8")
        with sqlite3.connect(folder / "passages.sqlite") as db:
            assert {type(t) for (t,) in db.execute("SELECT text FROM passages")} == {str}
    after = _texts_found(index, tiny_model)
    assert after == before and all(text.startswith("فقرة") for _, text in after)


def _texts_found(index: Path, tiny_model) -> list[tuple[str, str]]:
    searcher = Searcher.open(index, tiny_model)
    return [
        (r["doc_id"], r["text"])
        for q in ("المطر", "خبر رقم 3")
        for r in searcher.search(q, k=10, lang="any", mode="hybrid").to_json()["results"]
    ]
