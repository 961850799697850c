"""Index build, incremental rebuild, atomic swap, model mismatch: on the tiny model."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jisr.answers.searcher import ModelMismatch, Searcher
from jisr.index.build import BuildError, build
from jisr.index.local import store
from jisr.index.options import BuildOptions, VectorIndexPolicy
from tests.conftest import (
    HANG,
    ROOT,
    SEEDS,
    build_tiny_model,
    live_segments,
    more_passages,
    segments_on_disk,
    spawn,
    wait_until,
)


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


def test_build_writes_a_self_describing_index(corpus, tmp_path, tiny_model):
    report = build(corpus, tmp_path / "index", tiny_model)
    assert (report.documents, report.passages) == (1, 10)
    index = store.load(tmp_path / "index")
    m = index.manifest
    assert m["model"]["dimension"] == 32 and m["model"]["prompts"] == {"query": "q: ", "document": "d: "}
    assert m["index"]["type"] == "auto" and m["counts"]["passages"] == 10 == index.size
    assert m["chunking"]["max_tokens"] == 512
    assert set(m["files"]) == {SEEDS.glob("*.txt").__next__().name}
    (segment,) = index.segments
    assert segment.meta["vector_index"] == {"kind": "flat"} and segment.meta["vector_dtype"] == "int8"
    assert len(segment.sentence_vectors) == segment.sentence_offsets[-1] == m["counts"]["sentences"]
    assert [p.ordinal for p in index.passages(index.ids())] == list(range(10))


def test_incremental_rebuild_embeds_only_what_changed(corpus, tmp_path, tiny_model):
    first = build(corpus, tmp_path / "index", tiny_model)
    assert first.embedded > 0 and first.reused == 0
    again = build(corpus, tmp_path / "index", tiny_model)
    assert again.embedded == 0 and again.reused == first.passages + first.sentences
    (corpus / "new.txt").write_text("خبر جديد\nفقرة جديدة تماما عن الطقس. وجملة ثانية عن المطر.\n", encoding="utf-8")
    third = build(corpus, tmp_path / "index", tiny_model)
    assert third.passages == 11
    assert third.embedded == 3  # the new passage and its two sentences, nothing else


def test_rebuild_with_another_model_embeds_everything(corpus, tmp_path, tiny_model):
    build(corpus, tmp_path / "index", tiny_model)
    other = __import__("embeddings").load_model(str(build_tiny_model(tmp_path / "other")))
    report = build(corpus, tmp_path / "index", other)
    assert report.reused == 0 and report.embedded > 0


def test_opening_with_a_different_model_is_refused(corpus, tmp_path, tiny_model):
    build(corpus, tmp_path / "index", tiny_model)
    other = __import__("embeddings").load_model(str(build_tiny_model(tmp_path / "other")))
    with pytest.raises(ModelMismatch, match="built with model"):
        Searcher.open(tmp_path / "index", other)


@pytest.mark.parametrize("kind", ["ivf", "pq"])
def test_an_approximate_index_records_its_parameters_and_finds_the_same_top_passages(
    corpus, tmp_path, tiny_model, kind
):
    more_passages(corpus)  # PQ trains 16 centroids a sub-quantizer: more passages than the seeds have
    build(corpus, tmp_path / "flat", tiny_model, BuildOptions(index_type="flat"))
    build(corpus, tmp_path / kind, tiny_model, BuildOptions(index_type=kind, vector_index=VectorIndexPolicy(pq_min=16)))
    index = store.load(tmp_path / kind)
    assert index.manifest["index"] == {"type": kind, "metric": "inner_product"}
    params = index.segments[0].meta["vector_index"]
    assert params["kind"] == kind and params["recall@10"] >= 0.97
    assert 1 <= params["nprobe"] <= params["nlist"] if kind == "ivf" else params["depth"] >= params["candidates"]
    flat, approximate = Searcher.open(tmp_path / "flat", tiny_model), Searcher.open(tmp_path / kind, tiny_model)
    for q in ("بوتين", "Syria", "حاملة الطائرات"):
        assert flat.search(q, k=3, mode="dense").hits == approximate.search(q, k=3, mode="dense").hits


def test_queries_from_many_threads_are_encoded_on_one_thread(corpus, tmp_path, tiny_model, monkeypatch):
    """One torch-calling thread: one OpenMP team, and the tokenizer never used from two threads at once."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    build(corpus, tmp_path / "index", tiny_model)
    searcher = Searcher.open(tmp_path / "index", tiny_model)
    expected = {q: searcher.search(q, k=3).to_json() for q in ("بوتين", "Syria", "حاملة الطائرات")}
    callers = set()
    encode = tiny_model.encode_query

    def recording(*args, **kwargs):
        callers.add(threading.get_ident())
        return encode(*args, **kwargs)

    monkeypatch.setattr(tiny_model, "encode_query", recording)
    queries = list(expected) * 8
    passes = searcher._encoder.batches
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda q: searcher.search(q, k=3).to_json(), queries))
    assert len(callers) == 1 and threading.get_ident() not in callers
    assert searcher._encoder.batches - passes < len(queries)  # queries that waited were encoded together
    for q, answer in zip(queries, got):  # the same answers as one at a time, up to float rounding
        assert [r["doc_id"] + str(r["ordinal"]) for r in answer["results"]] == [
            r["doc_id"] + str(r["ordinal"]) for r in expected[q]["results"]
        ]
        assert [r["score"] for r in answer["results"]] == pytest.approx(
            [r["score"] for r in expected[q]["results"]], abs=1e-5
        )


def test_bad_build_requests_leave_the_index_alone(corpus, tmp_path, tiny_model):
    build(corpus, tmp_path / "index", tiny_model)
    before = (tmp_path / "index" / "CURRENT").read_text()
    with pytest.raises(BuildError, match="not found"):
        build(tmp_path / "missing", tmp_path / "index", tiny_model)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="no readable"):
        build(tmp_path / "empty", tmp_path / "index", tiny_model)
    with pytest.raises(BuildError, match="unknown index type"):
        build(corpus, tmp_path / "index", tiny_model, BuildOptions(index_type="ivf-magic"))
    assert (tmp_path / "index" / "CURRENT").read_text() == before


def test_damaged_index_file_is_detected(corpus, tmp_path, tiny_model):
    build(corpus, tmp_path / "index", tiny_model)
    segment = store.load(tmp_path / "index").segments[0].folder
    with open(segment / "passages.sqlite", "ab") as f:
        f.write(b"garbage\n")
    with pytest.raises(store.IndexUnavailable, match="damaged"):
        store.load(tmp_path / "index")


_SLOW_BUILD = """
import sys, time, pathlib
import jisr.index.build as b
from jisr.embeddings import load_model
from jisr.embeddings.batching import encode_documents
model = load_model(sys.argv[4])
def slow(texts):
    pathlib.Path(sys.argv[3]).write_text("embedding")
    time.sleep(120)
    return encode_documents(model, texts)
b.build(sys.argv[1], sys.argv[2], model, encoder=slow)
"""


@pytest.mark.slow  # a jisr build in a child process, killed
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_build_killed_midway_leaves_the_old_index_working(corpus, tmp_path, tiny_model, tiny_model_path, sig):
    index = tmp_path / "index"
    build(corpus, index, tiny_model)
    before = Searcher.open(index, tiny_model).search("بوتين", k=5, lang="any").to_json()["results"]
    (corpus / "more.txt").write_text("عنوان\nفقرة أخرى.\n", encoding="utf-8")
    marker = tmp_path / "marker"
    proc = spawn(
        [sys.executable, "-c", _SLOW_BUILD, str(corpus), str(index), str(marker), str(tiny_model_path)], cwd=ROOT
    )
    wait_until(marker.exists, "the build's embedding step", proc)
    proc.send_signal(sig)
    proc.wait(timeout=HANG)
    assert proc.returncode != 0
    after = Searcher.open(index, tiny_model)
    assert after.size == 10
    assert after.search("بوتين", k=5, lang="any").to_json()["results"] == before
    assert build(corpus, index, tiny_model).passages == 11  # and the next build goes through
    assert segments_on_disk(index) == live_segments(index)


def test_a_file_name_that_is_not_utf8_is_indexed_and_shown_escaped(corpus, tmp_path, tiny_model):
    import os

    name = os.fsencode(str(corpus)) + b"/news-\xff.txt"
    with open(name, "wb") as f:
        f.write("خبر\nفقرة عن الطقس في دمشق.\n".encode())
    report = build(corpus, tmp_path / "index", tiny_model)
    assert report.documents == 2 and not report.skipped
    stored = store.load(tmp_path / "index")
    sources = {p.source for p in stored.passages(stored.ids())}
    assert "news-\\xff.txt" in sources  # printable, and writable into the index's UTF-8 files


def test_queries_are_encoded_with_the_query_thread_count_and_the_callers_count_is_kept(
    corpus, tmp_path, tiny_model, monkeypatch
):
    import torch

    build(corpus, tmp_path / "index", tiny_model)
    before = torch.get_num_threads()
    seen = []
    encode = tiny_model.encode_query
    monkeypatch.setattr(
        tiny_model, "encode_query", lambda *a, **k: seen.append(torch.get_num_threads()) or encode(*a, **k)
    )
    for threads in (1, 2):
        seen.clear()
        searcher = Searcher(store.load(tmp_path / "index"), tiny_model, query_threads=threads)
        searcher.search("بوتين", k=1)
        assert seen == [threads]
    assert torch.get_num_threads() == before


def test_each_candidates_best_sentence_is_its_closest_one(corpus, tmp_path, tiny_model):
    build(corpus, tmp_path / "index", tiny_model)
    searcher = Searcher.open(tmp_path / "index", tiny_model)
    ids = searcher.index.ids()[::-1]  # any order
    q = searcher.encode_query("بوتين وفرنسا")
    rows, cos = searcher._best_sentences(ids, q)
    for i, pid in enumerate(ids):
        s = int(np.searchsorted(searcher.index.bases, pid, side="right") - 1)
        seg, local = searcher.index.segments[s], pid - searcher.index.bases[s]
        a, b = int(seg.sentence_offsets[local]), int(seg.sentence_offsets[local + 1])
        sims = np.asarray(seg.sentence_vectors[a:b], np.float32) @ q
        assert rows[i] == (int(np.argmax(sims)) if b > a else -1)
        assert b == a or cos[i] == pytest.approx(float(sims.max()), abs=1e-6)


def test_bm25_candidates_are_found_beside_the_dense_search_and_rank_as_one_after_the_other(
    corpus, tmp_path, tiny_model, monkeypatch
):
    import threading

    build(corpus, tmp_path / "index", tiny_model)
    searcher = Searcher.open(tmp_path / "index", tiny_model)
    query, q = "بوتين وحاملة الطائرات", searcher.encode_query("بوتين وحاملة الطائرات")
    alone = searcher.rank(query, "hybrid", vector=q)
    index, started = searcher.index, {"dense": threading.Event(), "lexical": threading.Event()}
    dense, lexical = index.dense_candidates, index.lexical_candidates

    def meet(part, other, call):  # each waits for the other to begin: one after the other, neither would
        def run(*a, **k):
            started[part].set()
            assert started[other].wait(10), f"{other} did not start while {part} ran"
            return call(*a, **k)

        return run

    monkeypatch.setattr(index, "dense_candidates", meet("dense", "lexical", dense))
    monkeypatch.setattr(index, "lexical_candidates", meet("lexical", "dense", lexical))
    together = searcher.rank(query, "hybrid", vector=q)
    assert all(np.array_equal(a, b) for a, b in zip(alone, together)) and len(alone[0])

    def broken(*a, **k):
        raise RuntimeError("postings unreadable")

    monkeypatch.setattr(index, "lexical_candidates", broken)
    with pytest.raises(RuntimeError, match="postings unreadable"):  # BM25's error reaches the caller
        searcher.rank(query, "hybrid", vector=q)
    assert len(searcher.rank(query, "dense", vector=q)[0])  # dense mode asks no BM25


@pytest.mark.slow  # a searcher in a child process
def test_a_searcher_gives_numpy_one_blas_thread_and_leaves_faiss_and_torch_theirs(corpus, tmp_path, tiny_model):
    # in a fresh process: another test's searcher would have set it already in this one
    build(corpus, tmp_path / "index", tiny_model)
    code = (
        "import json, sys, threadpoolctl\n"
        "import faiss  # the local store's: loaded when an index opens, here before the first count\n"
        "from jisr.answers.searcher import Searcher\n"
        "from jisr.index.stores import open_index\n"
        "def threads():\n"
        "    return {i['filepath']: i['num_threads'] for i in threadpoolctl.threadpool_info()}\n"
        "before = threads()\n"
        "Searcher(open_index(sys.argv[1]), None)\n"
        "print(json.dumps([before, threads()]))\n"
    )
    before, after = json.loads(
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "index")], check=True, capture_output=True, text=True
        ).stdout
    )
    numpy_blas = [path for path in after if "numpy" in path and "openblas" in path]
    assert numpy_blas and all(after[p] == 1 and (before[p] > 1 or os.cpu_count() == 1) for p in numpy_blas)
    others = [path for path in after if "torch" in path or "faiss" in path]  # FAISS's OpenBLAS and OpenMP too
    assert any("faiss" in p and "openblas" in p for p in others) and all(after[p] == before[p] for p in others)
