"""A live index: a server (or an Index opened with follow) searches each new commit of its folder
without a restart; searches in flight finish on the commit they began on; a bad commit changes nothing."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request

import pytest

import jisr
from jisr.index.options import BuildOptions
from tests.conftest import ROOT, SEEDS, build_tiny_model, free_port, segments_on_disk, spawn, wait_http, wait_until

WORD = "زعفران"  # in no seed passage: found by BM25 only once the document holding it is searched


def found(index: jisr.Index, word: str = WORD) -> list[str]:
    return [r["doc_id"] for r in index.search(word, k=5, mode="lexical").to_json()["results"] if word in r["text"]]


def add_document(corpus, name: str = "new.txt", word: str = WORD) -> None:
    (corpus / name).write_text(f"تقرير قصير عن {word} في الأسواق.\n\nفقرة ثانية عن {word} والتجارة.", encoding="utf-8")


@pytest.fixture()
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


def test_an_open_index_follows_the_commits_of_its_folder(tmp_path, corpus, tiny_model_path, tiny_model):
    index_dir = tmp_path / "index"
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
    with jisr.Index.open(index_dir, tiny_model, follow=True) as index:
        first = index.manifest["generation"]
        assert found(index) == []
        add_document(corpus)
        jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
        wait_until(lambda: found(index) == ["new.txt"], "the new commit searched")
        assert index.manifest["generation"] > first and index.size == 10 + len(index.document("new.txt")) > 10
        # the seeds' segment is shared by both commits: opened once, not again
        seeds_segment = index.searcher.index.segments[0]
        assert seeds_segment.name in index.searcher.index.shared and seeds_segment._readers == 1

        (corpus / "new.txt").unlink()
        jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
        wait_until(lambda: found(index) == [], "the document's removal searched")
        assert index.size == 10


def test_a_search_in_flight_finishes_on_its_commit_and_the_old_files_go_with_its_last_reader(
    tmp_path, corpus, tiny_model_path, tiny_model
):
    index_dir = tmp_path / "index"
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
    add_document(corpus)
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
    index = jisr.Index.open(index_dir, tiny_model, follow=True)
    try:
        with index._following.lease() as old:  # a search that began before the next commit
            new_segment = next(s for s in old.index.segments if "new.txt" in s.documents())
            (corpus / "new.txt").unlink()
            # drops that segment, deletes its files
            jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
            wait_until(lambda: index.searcher is not old, "the new commit swapped in")
            assert new_segment.name not in segments_on_disk(index_dir)
            # the old commit still answers in full from the files the build removed
            assert [r["doc_id"] for r in old.search(WORD, mode="lexical").to_json()["results"]][:1] == ["new.txt"]
            assert old.index.document("new.txt") and new_segment._readers == 1
            assert found(index) == []  # while new searches see the new commit
        assert new_segment._readers == 0  # closed with its last reader
        assert index.search("بوتين", k=3).to_json()["results"]
    finally:
        index.close()


def test_a_commit_that_cannot_be_searched_leaves_the_old_one_answering(
    tmp_path, corpus, tiny_model_path, tiny_model, caplog
):
    index_dir = tmp_path / "index"
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
    with jisr.Index.open(index_dir, tiny_model, follow=True) as index:
        gen = index.manifest["generation"]
        with caplog.at_level(logging.WARNING, logger="jisr"):
            (index_dir / "CURRENT").write_text("garbage\n")  # a damaged pointer
            assert not index.refresh()
            assert "cannot be searched" in caplog.text and index.search("بوتين").to_json()["results"]
            (index_dir / "CURRENT").write_text(f"{gen:08d}\n")

            other = build_tiny_model(tmp_path / "other")  # the folder rebuilt with another model
            caplog.clear()
            jisr.build(corpus, index_dir, str(other), BuildOptions(companion="none"))
            wait_until(lambda: "cannot be searched" in caplog.text, "the other model's commit refused")
            assert "built with model" in caplog.text
        assert index.manifest["generation"] == gen and index.search("بوتين").to_json()["results"]
        jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))  # the index's own model again
        wait_until(lambda: index.manifest["generation"] > gen + 1, "a good commit searched again")


def test_searches_never_fail_while_builds_commit(tmp_path, corpus, tiny_model_path, tiny_model):
    index_dir = tmp_path / "index"
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
    failures, answers, stop = [], [0], threading.Event()
    with jisr.Index.open(index_dir, tiny_model, follow=True) as index:

        def client():
            while not stop.is_set():
                try:
                    docs = {r["doc_id"] for r in index.search("بوتين", k=20, mode="hybrid").to_json()["results"]}
                    assert docs, "no results"
                    answers[0] += 1
                except Exception as exc:  # noqa: BLE001
                    failures.append(repr(exc))

        clients = [threading.Thread(target=client) for _ in range(4)]
        for c in clients:
            c.start()
        try:
            for i in range(6):  # documents in and out, one commit each
                if i % 2 == 0:
                    add_document(corpus, f"doc{i}.txt", f"{WORD}{i}")
                else:
                    (corpus / f"doc{i - 1}.txt").unlink()
                jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
                wait_until(
                    lambda: index.manifest["generation"] == int((index_dir / "CURRENT").read_text()),
                    "the commit searched",
                )
        finally:
            stop.set()
            for c in clients:
                c.join()
    assert failures == [] and answers[0] > 0


def test_a_server_started_before_its_index_serves_it_once_built(tmp_path, corpus, tiny_model_path, tiny_model):
    from jisr.web import create_app

    index_dir = tmp_path / "index"
    app = create_app({"INDEX": str(index_dir), "MODEL": str(tiny_model_path)})
    client = app.test_client()
    response = client.get("/api/search?q=test")
    assert response.status_code == 503 and "as soon as a build commits it" in response.json["message"]
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
    wait_until(lambda: client.get("/healthz").status_code == 200, "the index served")
    assert client.get("/api/search?q=بوتين").json["results"]


@pytest.mark.slow  # jisr serve and build in child processes
def test_jisr_serve_answers_from_a_build_made_while_it_serves(tmp_path, corpus, tiny_model_path):
    """The issue's case: serve, add a file, `jisr build` the same index; the server finds it, no restart,
    while clients search without pause."""
    index_dir = tmp_path / "index"
    cli = [sys.executable, "-m", "jisr.cli"]
    build = cli + [
        "build",
        "--corpus",
        str(corpus),
        "--index",
        str(index_dir),
        "--model",
        str(tiny_model_path),
        "--companion",
        "none",
    ]
    subprocess.run(build, check=True, cwd=ROOT, capture_output=True, timeout=600)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = spawn(
        cli + ["serve", "--index", str(index_dir), "--port", str(port)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )

    def get(path: str):
        try:
            with urllib.request.urlopen(base + path, timeout=60) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def searched(word: str) -> list[str]:
        status, body = get("/api/search?" + urllib.parse.urlencode({"q": word, "mode": "lexical", "k": 5}))
        assert status == 200, body
        return [r["doc_id"] for r in body["results"] if word in r["text"]]

    failures, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            try:
                status, body = get("/api/search?q=" + urllib.parse.quote("بوتين"))
                if status != 200 or not body["results"]:
                    failures.append((status, body))
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))

    try:
        wait_http(base + "/healthz", proc)
        gen = get("/healthz")[1]["generation"]
        clients = [threading.Thread(target=client) for _ in range(8)]
        for c in clients:
            c.start()
        try:
            add_document(corpus)
            subprocess.run(build, check=True, cwd=ROOT, capture_output=True, timeout=600)
            wait_until(lambda: searched(WORD) == ["new.txt"], "the new document found by the server", proc)
            assert get("/healthz")[1]["generation"] > gen
        finally:
            stop.set()
            for c in clients:
                c.join()
        assert failures == []
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=600)
    assert "now searching commit" in err


@pytest.mark.milvus
def test_an_index_on_milvus_is_followed_too(tmp_path, corpus, tiny_model_path, tiny_model):
    from jisr.index.contract import MilvusTarget

    index_dir = tmp_path / "index"
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(milvus=MilvusTarget()))  # Milvus Lite inside the folder
    with jisr.Index.open(index_dir, tiny_model, follow=True) as index:
        assert index.searcher.index.location.startswith("on Milvus") and found(index) == []
        add_document(corpus)
        jisr.build(corpus, index_dir, tiny_model, BuildOptions(milvus=MilvusTarget()))
        wait_until(lambda: found(index) == ["new.txt"], "the new commit searched on Milvus")
        (corpus / "new.txt").unlink()
        jisr.build(corpus, index_dir, tiny_model, BuildOptions(milvus=MilvusTarget()))
        # (Milvus deletes the replaced rows right after the commit: the old commit's reader stops finding them first)
        wait_until(
            lambda: index.manifest["generation"] == int((index_dir / "CURRENT").read_text()),
            "the removal's commit searched on Milvus",
        )
        assert found(index) == [] and index.size == 10
