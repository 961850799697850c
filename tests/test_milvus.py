"""The Milvus store (`jisr build --store milvus`): a real Milvus Lite, embedded and as a server on 127.0.0.1,
ranking exactly as the local store does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jisr.answers.searcher import Searcher
from jisr.evaluate import evaluate, xquad_corpus
from jisr.index import commit as commits
from jisr.index.build import build
from jisr.index.contract import MilvusTarget
from jisr.index.local import store
from jisr.index.milvus.store import MilvusWriter
from jisr.index.options import FLOAT32, BuildOptions
from jisr.index.stores import open_index
from tests.conftest import HANG, ROOT, SEEDS, free_port, wait_until
from tests.test_cli import jisr
from tests.test_default_model import XQUAD
from tests.test_ray import _listeners, _loopback
from tests.test_security import one_line_error

pytestmark = pytest.mark.milvus

MODES = ("hybrid", "sentence", "dense", "lexical")


def like_milvus(local: Searcher) -> Searcher:
    """``local`` without what reads the index's vocabulary, which a Milvus index does not keep: the names of a
    Latin query spelled in Arabic (jisr.answers.names). Readings and did you mean are off by ``as_typed``."""
    local.weights = local.weights.but(names=0.0)
    return local


def assert_same_answers(local: Searcher, milvus: Searcher, queries: list[str], lang: str = "any") -> None:
    """Same top 10 passages in the same order, every score within 1e-4, in every mode."""
    local = like_milvus(local)
    for q in queries:
        for mode in MODES:
            a, b = (s.search(q, k=10, mode=mode, lang=lang, as_typed=True) for s in (local, milvus))
            keys = [[(r.doc_id, r.ordinal, r.highlight.start) for r in x.hits] for x in (a, b)]
            assert keys[0] == keys[1], (mode, q)
            assert np.allclose([r.score for r in a.hits], [r.score for r in b.hits], atol=1e-4)


def rows_in_milvus(index: Path, uri: str | None = None) -> int:
    """Every passage row the collection holds, whatever its generation (stale rows included)."""
    milvus = open_index(index, uri)
    try:
        return int(milvus.client.query(milvus.collection, filter="", output_fields=["count(*)"])[0]["count(*)"])
    finally:
        milvus.close()


@pytest.fixture(scope="module")
def xquad(tmp_path_factory, tiny_model):
    """The XQuAD corpus built into both stores with the tiny model, and its questions."""
    work = tmp_path_factory.mktemp("xquad-milvus")
    corpus = work / "corpus"
    corpus.mkdir()
    queries = xquad_corpus([str(XQUAD / "xquad.ar.json"), str(XQUAD / "xquad.en.json")], corpus)
    # float32 as Milvus is given, so the two compare rank for rank; Milvus holds no companion
    build(corpus, work / "local", tiny_model, BuildOptions(companion="none", precision=FLOAT32))
    build(corpus, work / "milvus", tiny_model, BuildOptions(milvus=MilvusTarget()))
    return like_milvus(Searcher.open(work / "local", tiny_model)), Searcher.open(work / "milvus", tiny_model), queries


def test_the_milvus_store_ranks_the_xquad_corpus_as_the_local_store_does(xquad):
    local, milvus, queries = xquad
    assert milvus.size == local.size > 300
    english = [q for q in queries if q.lang == "en"][::80]
    arabic = [q for q in queries if q.lang == "ar"][::80]
    assert_same_answers(local, milvus, [q.text for q in english + arabic])
    chosen = english + arabic
    a, b = (evaluate(s, chosen, list(MODES), by_text=False) for s in (local, milvus))
    for mode in MODES:
        for lang in ("ar", "en"):
            assert abs(a[mode][lang]["mrr@10"] - b[mode][lang]["mrr@10"]) < 1e-9, (mode, lang)


def test_a_document_reads_back_whole_from_milvus(xquad):
    local, milvus, _ = xquad
    doc = local.index.passages(local.index.dense_candidates(local.encode_query("Warsaw"), 1))[0].doc_id
    assert milvus.index.document(doc) == local.index.document(doc) != []
    assert milvus.index.document('x" or gen >= 0 or doc_id == "') == []  # an id is data, never a filter


def test_lite_as_a_server_on_loopback_builds_updates_and_answers_like_local(tmp_path, tiny_model, tiny_model_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "library.txt").write_text(
        "مكتبة الإسكندرية\nمكتبة الإسكندرية مكتبة عامة كبيرة في مصر.\n\nفيها ملايين الكتب والمخطوطات.\n",
        encoding="utf-8",
    )
    before = _listeners()
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "milvus-lite"),
            "server",
            "--data-dir",
            str(tmp_path / "milvus-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        uri = f"http://127.0.0.1:{port}"
        wait_until(lambda: port in {p for _, p in _listeners()}, "Milvus Lite listening", server)
        index, model = tmp_path / "index", str(tiny_model_path)
        built = jisr(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index),
            "--model",
            model,
            "--store",
            "milvus",
            "--milvus-uri",
            uri,
            "--collection",
            "news",
        )
        assert built.returncode == 0, built.stderr
        new = _listeners() - before
        assert any(p == port for _, p in new) and all(_loopback(a) for a, _ in new), new

        # an address read from the index is followed only when the user names it
        refused = one_line_error(jisr("search", "مكتبة", "--index", str(index), "--model", model))
        assert "--milvus-uri " + uri in refused
        found = jisr("search", "مكتبة عامة", "--index", str(index), "--model", model, "--milvus-uri", uri, "--json")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["results"][0]["doc_id"] == "library.txt"

        # change one file and remove another: the update reuses vectors, and Milvus keeps only the live rows
        reader = Searcher.open(index, tiny_model, milvus_uri=uri)  # a reader of the first commit, kept open
        replaced = [
            pid
            for pid, p in zip(reader.index.ids(), reader.index.passages(reader.index.ids()))
            if p.doc_id == "library.txt"
        ]
        (corpus / "library.txt").write_text(
            "مكتبة الإسكندرية\nمكتبة الإسكندرية مكتبة عامة كبيرة في مصر.\n\nافتتحت عام ٢٠٠٢.\n", encoding="utf-8"
        )
        (corpus / "extra.txt").write_text("خبر\nخبر قصير عن الطقس.\n", encoding="utf-8")
        again = jisr(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index),
            "--model",
            model,
            "--store",
            "milvus",
            "--milvus-uri",
            uri,
            "--collection",
            "news",
        )
        assert again.returncode == 0, again.stderr
        assert " reused" in again.stdout and "0 reused" not in again.stdout
        with pytest.raises(store.IndexUnavailable, match="updated during this search"):
            reader.index.passages(replaced)  # its rows were replaced: a clear error (a 503), not a KeyError
        assert "library.txt" not in {r.doc_id for r in reader.search("مكتبة الإسكندرية", lang="any").hits}
        reader.index.close()
        (corpus / "extra.txt").unlink()
        third = jisr(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index),
            "--model",
            model,
            "--store",
            "milvus",
            "--milvus-uri",
            uri,
            "--collection",
            "news",
        )
        assert third.returncode == 0, third.stderr
        checked = jisr("check", "--index", str(index), "--milvus-uri", uri)
        assert checked.returncode == 0 and "on Milvus (collection news)" in checked.stdout, checked.stderr

        local_index = tmp_path / "local"
        build(corpus, local_index, tiny_model, BuildOptions(companion="none", precision=FLOAT32))
        milvus = Searcher.open(index, tiny_model, milvus_uri=uri)
        assert rows_in_milvus(index, uri) == milvus.size == store.load(local_index).size
        assert_same_answers(
            Searcher.open(local_index, tiny_model),
            milvus,
            ["مكتبة الإسكندرية", "Macron in Moscow", "افتتحت", "خبر الطقس"],
        )
        assert "extra.txt" not in {p.doc_id for p in milvus.index.passages(milvus.index.ids())}

        # a second index may not take over a collection it did not write
        other = jisr(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "other"),
            "--model",
            model,
            "--store",
            "milvus",
            "--milvus-uri",
            uri,
            "--collection",
            "news",
        )
        assert "did not write" in one_line_error(other)
    finally:
        server.terminate()
        server.wait(timeout=HANG)


def test_builds_killed_before_or_after_their_commit_leave_a_consistent_index(tmp_path, tiny_model, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "b.txt").write_text("عنوان\nنص أول عن المكتبة.\n", encoding="utf-8")
    index = tmp_path / "index"
    before = _listeners()
    build(corpus, index, tiny_model, BuildOptions(milvus=MilvusTarget()))
    first = Searcher.open(index, tiny_model)
    opened = _listeners() - before  # embedded Milvus Lite serves its client over gRPC: on loopback only
    assert opened and all(_loopback(address) for address, _ in opened), opened
    answer = first.search("المكتبة", mode="lexical").to_json()["results"]
    first.index.close()

    # killed before its commit: its rows are invisible, and the next build deletes them
    (corpus / "b.txt").write_text("عنوان\nنص ثان عن المكتبة.\n", encoding="utf-8")

    def interrupted_at_the_commit():  # the build's commit hook, as the CLI's refuses a commit after Ctrl-C
        raise KeyboardInterrupt()

    with pytest.raises(KeyboardInterrupt):
        build(corpus, index, tiny_model, BuildOptions(milvus=MilvusTarget()), commit=interrupted_at_the_commit)
    searcher = Searcher.open(index, tiny_model)
    assert [r["text"] for r in searcher.search("المكتبة", mode="lexical").to_json()["results"]] == [
        r["text"] for r in answer
    ]
    assert rows_in_milvus(index) > searcher.size  # the killed build's rows are there, unseen
    searcher.index.close()

    # killed after its commit, before deleting the replaced rows: readers see one version of each document
    monkeypatch.setattr(MilvusWriter, "discard_replaced", lambda self, docs, gen: None)
    build(corpus, index, tiny_model, BuildOptions(milvus=MilvusTarget()))
    monkeypatch.undo()
    searcher = Searcher.open(index, tiny_model)
    assert [p.text for p in searcher.index.document("b.txt")] == ["نص ثان عن المكتبة."]
    assert rows_in_milvus(index) > searcher.size
    searcher.index.close()
    build(corpus, index, tiny_model, BuildOptions(milvus=MilvusTarget()))  # the next build deletes what was left
    assert rows_in_milvus(index) == open_index(index).size


def test_an_address_written_into_a_manifest_is_not_followed(tmp_path, tiny_model_path):
    index = tmp_path / "index"
    built = jisr(
        "build", "--corpus", str(SEEDS), "--index", str(index), "--model", str(tiny_model_path), "--store", "milvus"
    )
    assert built.returncode == 0, built.stderr
    commit = commits.current_commit(index)
    for planted in ("../elsewhere.db", str(tmp_path / "outside.db"), "http://10.1.2.3:19530"):
        manifest = json.loads(commit.read_text(encoding="utf-8"))
        manifest["store"]["uri"] = planted
        commit.write_text(json.dumps(manifest), encoding="utf-8")
        error = one_line_error(jisr("search", "بوتين", "--index", str(index), "--model", str(tiny_model_path)))
        assert f"--milvus-uri {planted}" in error
    assert not (tmp_path / "elsewhere.db").exists() and not (tmp_path / "outside.db").exists()


def test_milvus_options_without_the_milvus_store_and_bad_names_are_errors(tmp_path, tiny_model_path):
    base = ("build", "--corpus", str(SEEDS), "--index", str(tmp_path / "i"), "--model", str(tiny_model_path))
    assert "--store milvus" in one_line_error(jisr(*base, "--collection", "x"))
    assert "collection name" in one_line_error(jisr(*base, "--store", "milvus", "--collection", "a-b; drop"))
    unreachable = jisr(*base, "--store", "milvus", "--milvus-uri", f"http://127.0.0.1:{free_port()}")
    assert "cannot connect to Milvus" in one_line_error(unreachable)
    assert not (tmp_path / "i" / "CURRENT").exists()


def test_without_the_milvus_extra_the_build_says_how_to_install_it(tmp_path, tiny_model_path):
    script = (
        "import sys; sys.modules['pymilvus'] = None; from jisr import cli; "  # as if it were not installed
        f"sys.exit(cli.main(['build', '--corpus', {str(SEEDS)!r}, '--index', {str(tmp_path / 'i')!r}, "
        f"'--model', {str(tiny_model_path)!r}, '--store', 'milvus']))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "pip install 'jisr[milvus]'" in one_line_error(result)


def test_the_default_model_through_milvus_answers_as_the_local_store(tmp_path, default_model):
    build(SEEDS, tmp_path / "index", default_model, BuildOptions(milvus=MilvusTarget()))
    # float32 as Milvus is given; Milvus holds no companion
    build(SEEDS, tmp_path / "local", default_model, BuildOptions(companion="none", precision=FLOAT32))
    milvus, local = Searcher.open(tmp_path / "index", default_model), Searcher.open(tmp_path / "local", default_model)
    assert milvus.size == local.size and milvus.companion is None
    assert_same_answers(local, milvus, ["What did Putin order?", "ماكرون في موسكو", "Charles de Gaulle"], lang="ar")
