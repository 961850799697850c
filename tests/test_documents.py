"""The document API on a real server: writes need a token, are searched once acknowledged, survive a
SIGKILL right after their 2xx and a rebuild from the corpus folder, and never fail a search meanwhile."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import jisr
from jisr.index.options import BuildOptions
from jisr.web import create_app
from tests.conftest import HANG, ROOT, SEEDS, free_port, serving, spawn, wait_http, wait_until

TOKEN = "a-test-token-of-32-characters-xx"
WORD = "زعفران"  # in no seed passage


def call(
    base: str,
    method: str,
    path: str,
    body: bytes | dict | None = None,
    token: str | None = TOKEN,
    content_type: str = "application/json",
) -> tuple[int, dict]:
    data = json.dumps(body, ensure_ascii=False).encode() if isinstance(body, dict) else body
    headers = {"Content-Type": content_type} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=HANG) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def found(base: str, word: str = WORD, token: str | None = None) -> list[str]:
    status, body = call(
        base, "GET", "/api/search?" + urllib.parse.urlencode({"q": word, "mode": "lexical", "k": 10}), token=token
    )
    assert status == 200, body
    return sorted(r["doc_id"] for r in body["results"] if word in r["text"])


def doc(text: str = f"تقرير قصير عن {WORD} في الأسواق.", title: str = "خبر") -> dict:
    return {"title": title, "text": text, "fields": {"author": "test"}}


@pytest.fixture()
def index_dir(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    jisr.build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    return tmp_path / "index"


def app_for(index_dir, tiny_model, **config):
    return create_app(
        {
            "INDEX": jisr.Index.open(index_dir, tiny_model, follow=True),
            "API_TOKEN": TOKEN,
            "COMMIT_INTERVAL": 0.2,
            **config,
        }
    )


def test_writes_need_the_servers_token_and_reads_may(index_dir, tiny_model):
    with serving(create_app({"INDEX": jisr.Index.open(index_dir, tiny_model, follow=True)})) as base:
        status, body = call(base, "PUT", "/api/documents/a", doc())
        assert status == 403 and "JISR_API_TOKEN" in body["message"] and "--api-token-file" in body["message"]
    with serving(app_for(index_dir, tiny_model, READ_TOKEN="a-read-token-of-enough-length")) as base:
        for token, expected in ((None, 401), ("wrong-token-wrong-token", 403)):
            status, body = call(base, "PUT", "/api/documents/a", doc(), token=token)
            assert status == expected and body["message"], body
            assert call(base, "DELETE", "/api/documents/a", token=token)[0] == expected
            assert call(base, "POST", "/api/documents", b'{"id": "x", "text": "y"}', token=token)[0] == expected
        assert call(base, "GET", "/api/search?q=x", token=None)[0] == 401
        assert call(base, "GET", "/api/search?q=x", token="a-read-token-of-enough-wrong")[0] == 403
        assert call(base, "GET", "/api/search?q=x", token="a-read-token-of-enough-length")[0] == 200
        assert call(base, "GET", "/api/search?q=x", token=TOKEN)[0] == 200  # the write token reads too
        with urllib.request.urlopen(base + "/healthz", timeout=HANG) as r:  # load balancers need no token
            assert r.status == 200
        assert found(base, token=TOKEN) == []  # nothing was written


def test_put_replace_get_delete_and_bulk(index_dir, tiny_model, tmp_path):
    with serving(app_for(index_dir, tiny_model, MAX_DOCUMENT_BYTES=4096)) as base:
        status, body = call(base, "PUT", "/api/documents/news/1", doc())
        assert (status, body["result"]) == (201, "created") and body["generation"] > 1
        assert found(base) == ["news/1"]  # searched as soon as acknowledged
        status, body = call(base, "PUT", "/api/documents/news/1", doc(f"خبر آخر عن {WORD} والتجارة."))
        assert (status, body["result"]) == (200, "replaced")
        for path in ("/api/documents/news/1", "/api/doc/news/1"):
            status, body = call(base, "GET", path, token=None)
            assert status == 200 and body["title"] == "خبر" and "والتجارة" in body["passages"][0]["text"]

        # bad writes are 4xx with a message and change nothing
        corpus_id = sorted(jisr.Index.open(index_dir, tiny_model).manifest["files"])[0]
        for path, body, content_type, expected in [
            ("/api/documents/" + corpus_id, doc(), "application/json", 409),
            ("/api/documents/x", b"{not json", "application/json", 400),
            ("/api/documents/x", {"text": "ok", "tilte": "typo"}, "application/json", 400),
            ("/api/documents/x", {"title": "no text"}, "application/json", 400),
            ("/api/documents/x", b"plain text", "text/plain", 400),
            ("/api/documents/x", {"text": "x" * 5000}, "application/json", 413),
        ]:
            status, answer = call(base, "PUT", path, body, content_type=content_type)
            assert status == expected and answer["message"], (path, body, answer)
        assert call(base, "DELETE", "/api/documents/nothing-here")[0] == 404
        assert call(base, "DELETE", "/api/documents/" + corpus_id)[0] == 409

        # a file upload, read by the reader of its type; a type no reader knows is refused
        boundary = "jisr-test-boundary"

        def upload(name: str, content: bytes) -> bytes:
            return (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                    f"Content-Type: application/octet-stream\r\n\r\n"
                ).encode()
                + content
                + f"\r\n--{boundary}--\r\n".encode()
            )

        status, body = call(
            base,
            "PUT",
            "/api/documents/report",
            upload("report.md", f"# تقرير\n\nعن {WORD} والسوق.".encode()),
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        assert status == 201, body
        assert (
            call(
                base,
                "PUT",
                "/api/documents/prog",
                upload("prog.exe", b"MZ"),
                content_type=f"multipart/form-data; boundary={boundary}",
            )[0]
            == 400
        )
        assert found(base) == ["news/1", "report"]

        # bulk: a malformed line is reported by its number, the rest are loaded
        lines = [
            json.dumps({"id": f"bulk/{i}", "title": "عنوان", "text": f"نص {i} عن {WORD}."}, ensure_ascii=False)
            for i in range(3)
        ]
        lines.insert(1, "{broken")
        lines.insert(3, json.dumps({"title": "no id"}))
        status, body = call(
            base, "POST", "/api/documents", "\n".join(lines).encode(), content_type="application/x-ndjson"
        )
        assert status == 200 and body["loaded"] == 3 and [e["line"] for e in body["errors"]] == [2, 4], body
        assert found(base) == ["bulk/0", "bulk/1", "bulk/2", "news/1", "report"]
        assert call(base, "POST", "/api/documents", b"{broken\n")[0] == 400

        status, body = call(base, "DELETE", "/api/documents/news/1")
        assert (status, body["result"]) == (200, "deleted") and "news/1" not in found(base)
        assert call(base, "GET", "/api/documents/news/1", token=None)[0] == 404

    # a rebuild from the corpus folder keeps what was sent over the API
    manifest = jisr.Index.open(index_dir, tiny_model).manifest
    jisr.build(manifest["corpus"], index_dir, tiny_model, BuildOptions(companion="none"))
    with jisr.Index.open(index_dir, tiny_model) as index:
        assert sorted(d for d in index.manifest["files"] if d.startswith(("bulk/", "report"))) == [
            "bulk/0",
            "bulk/1",
            "bulk/2",
            "report",
        ]


def test_the_openapi_document_describes_the_document_api(index_dir, tiny_model):
    with serving(app_for(index_dir, tiny_model)) as base:
        status, spec = call(base, "GET", "/openapi.json", token=None)
    paths = spec["paths"]
    assert set(paths["/api/documents/{doc_id}"]) == {"get", "put", "delete"} and "post" in paths["/api/documents"]
    for method in ("put", "delete"):
        assert {"200", "400", "401", "403", "404", "409", "413"} & set(
            paths["/api/documents/{doc_id}"][method]["responses"]
        ) >= {"401", "403"}


def _serve(index_dir: Path, model: Path, port: int, token_file: Path) -> subprocess.Popen:
    return spawn(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "serve",
            "--index",
            str(index_dir),
            "--port",
            str(port),
            "--model",
            str(model),
            "--api-token-file",
            str(token_file),
            "--commit-interval",
            "0.5",
            "--queue-depth",
            "16",
        ],  # 8 clients and 4 writers' checks search at once: none is refused
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture()
def served(index_dir, tiny_model_path, tmp_path):
    """`jisr serve` with the document API on, in its own process: (its URL, a call that restarts it after a
    SIGKILL); stopped after."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = [_serve(index_dir, tiny_model_path, port, token_file)]

    def kill_and_restart() -> None:
        procs[-1].send_signal(signal.SIGKILL)
        procs[-1].wait(HANG)
        procs.append(_serve(index_dir, tiny_model_path, port, token_file))
        wait_http(base + "/healthz", procs[-1])

    try:
        wait_http(base + "/healthz", procs[-1])
        yield base, kill_and_restart
    finally:
        procs[-1].terminate()
        procs[-1].communicate(timeout=HANG)


@pytest.mark.slow  # a server process killed mid-write, and searches meanwhile
def test_searches_never_fail_while_documents_come_and_go_and_a_sigkill_loses_nothing(served):
    """The issue's test: 8 clients search without pause while 200 documents are PUT and 50 deleted."""
    base, kill_and_restart = served
    failures, stop, late = [], threading.Event(), []

    def client():
        while not stop.is_set():
            try:
                status, body = call(base, "GET", "/api/search?q=" + urllib.parse.quote("بوتين"), token=None)
                if status != 200 or not body["results"]:
                    failures.append((status, body))
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))

    def writer(ids: list[int]):
        for i in ids:
            word = f"كلمة{i:03d}"
            status, body = call(base, "PUT", f"/api/documents/w/{i}", doc(f"نص عن {word} وحده."))
            acknowledged = time.monotonic()
            if status != 201:
                failures.append((status, body))
                continue
            while f"w/{i}" not in found(base, word):  # found within 2 s of its 2xx
                if time.monotonic() - acknowledged > 2:
                    late.append(i)
                    break
                time.sleep(0.05)

    clients = [threading.Thread(target=client) for _ in range(8)]
    for c in clients:
        c.start()
    try:
        writers = [threading.Thread(target=writer, args=(list(range(w, 200, 4)),)) for w in range(4)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        for i in range(0, 200, 4):  # 50 deleted
            status, body = call(base, "DELETE", f"/api/documents/w/{i}")
            assert status == 200, body
            assert f"w/{i}" not in found(base, f"كلمة{i:03d}")
    finally:
        stop.set()
        for c in clients:
            c.join()
    assert failures == [] and late == []
    status, health = call(base, "GET", "/healthz", token=None)
    assert health["documents"] == 1 + 150

    # SIGKILL right after a 2xx: the write is there after a restart
    status, body = call(base, "PUT", "/api/documents/last", doc(f"آخر خبر عن {WORD}."))
    assert status == 201
    kill_and_restart()
    assert found(base) == ["last"]
    assert call(base, "GET", "/healthz", token=None)[1]["documents"] == 1 + 151


@pytest.mark.slow  # a jisr serve process killed mid-commit, then started again
def test_a_server_killed_mid_commit_keeps_the_previous_commit_and_every_acknowledged_write(served, index_dir):
    base, kill_and_restart = served
    assert call(base, "PUT", "/api/documents/kept", doc())[0] == 201
    before = call(base, "GET", "/healthz", token=None)[1]["generation"]
    # a bulk load large enough to be mid-commit when the server is killed
    lines = "\n".join(
        json.dumps({"id": f"bulk/{i}", "text": f"نص طويل رقم {i} " + "كلمات كثيرة " * 200}, ensure_ascii=False)
        for i in range(400)
    ).encode()

    def load():
        with contextlib.suppress(OSError):  # the server is killed before it answers
            call(base, "POST", "/api/documents", lines)

    threading.Thread(target=load, daemon=True).start()
    # the bulk's documents stored: its commit is under way (the writer holds the lock, embeds, writes)
    wait_until(lambda: len(list((index_dir / "documents").glob("??/*.json"))) > 1, "the commit under way")
    assert call(base, "GET", "/healthz", token=None)[1]["generation"] == before
    kill_and_restart()
    assert found(base) == ["kept"]
    assert call(base, "GET", "/healthz", token=None)[1]["generation"] >= before


@pytest.mark.milvus
def test_the_document_api_writes_to_milvus_too(tmp_path, tiny_model):
    """The same writes on an index on Milvus, with Milvus Lite as a server on 127.0.0.1."""
    from jisr.index.contract import MilvusTarget

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index_dir = tmp_path / "index"
    port = free_port()
    milvus = spawn(
        [
            str(Path(sys.executable).parent / "milvus-lite"),
            "server",
            "--data-dir",
            str(tmp_path / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    try:

        def listening() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
            return False

        wait_until(listening, "Milvus Lite listening", milvus)
        jisr.build(corpus, index_dir, tiny_model, BuildOptions(milvus=MilvusTarget(uri, None, "news")))
        index = jisr.Index.open(index_dir, tiny_model, milvus_uri=uri, follow=True)
        with serving(
            create_app({"INDEX": index, "API_TOKEN": TOKEN, "COMMIT_INTERVAL": 0.2, "MILVUS_URI": uri})
        ) as base:
            assert index.searcher.index.location.startswith("on Milvus")
            assert call(base, "PUT", "/api/documents/m/1", doc())[0] == 201
            assert call(base, "PUT", "/api/documents/m/2", doc(f"خبر ثان عن {WORD}."))[0] == 201
            assert found(base) == ["m/1", "m/2"]
            assert call(base, "DELETE", "/api/documents/m/1")[0] == 200
            assert found(base) == ["m/2"]
            lines = "\n".join(
                json.dumps({"id": f"b/{i}", "text": f"نص {i} عن {WORD}."}, ensure_ascii=False) for i in range(3)
            )
            assert call(base, "POST", "/api/documents", lines.encode())[1]["loaded"] == 3
            assert found(base) == ["b/0", "b/1", "b/2", "m/2"]
        index.close()
    finally:
        milvus.terminate()
        milvus.wait(HANG)


def test_repeated_queries_come_from_the_cache_until_the_commit_changes_and_metrics_count_it(index_dir, tiny_model):
    with serving(app_for(index_dir, tiny_model)) as base:
        path = "/api/search?q=" + urllib.parse.quote("بوتين")
        first = call(base, "GET", path, token=None)[1]
        again = call(base, "GET", path, token=None)[1]
        assert "cached" not in first and again["cached"] is True and again["results"] == first["results"]
        assert call(base, "GET", path + "&k=3", token=None)[1].get("cached") is None  # another parameter
        assert call(base, "PUT", "/api/documents/c", doc())[0] == 201
        after = call(base, "GET", path, token=None)[1]
        assert "cached" not in after  # the commit changed: the old answers are gone
        with urllib.request.urlopen(base + "/metrics", timeout=HANG) as r:
            assert r.headers["Content-Type"].startswith("text/plain")
            text = r.read().decode()
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert float(lines['jisr_requests_total{endpoint="/api/search",status="200"}']) == 4
    assert float(lines['jisr_requests_total{endpoint="/api/documents/<doc_id:doc_id>",status="201"}']) == 1
    assert float(lines['jisr_request_seconds_count{endpoint="/api/search"}']) == 4
    assert float(lines["jisr_cache_hits_total"]) == 1 and float(lines["jisr_cache_misses_total"]) == 3
    assert float(lines["jisr_commits_total"]) == 1 and float(lines["jisr_documents"]) == 2
    assert float(lines["jisr_passages"]) > 10 and float(lines["jisr_generation"]) == 2


@pytest.mark.slow  # jisr serve in a child process
def test_jisr_serve_watch_indexes_the_corpus_folder_as_it_changes(tmp_path, tiny_model_path, tiny_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index_dir = corpus / "index"  # inside the folder it indexes: its own commits must not start more
    jisr.build(corpus, index_dir, tiny_model, BuildOptions(companion="none"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = spawn(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "serve",
            "--index",
            str(index_dir),
            "--port",
            str(port),
            "--model",
            str(tiny_model_path),
            "--watch",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_http(base + "/healthz", proc)
        (corpus / "news").mkdir()
        (corpus / "news" / "new.txt").write_text(f"خبر\nتقرير قصير عن {WORD} في الأسواق.", encoding="utf-8")
        wait_until(lambda: found(base) == ["news/new.txt"], "the new file found", proc)
        (corpus / "news" / "new.txt").write_text("خبر\nتقرير عن شيء آخر تماما.", encoding="utf-8")
        wait_until(lambda: found(base) == [], "the changed file searched", proc)
        (corpus / "news" / "other.txt").write_text(f"خبر\n{WORD} مرة أخرى.", encoding="utf-8")
        wait_until(lambda: found(base) == ["news/other.txt"], "a second file found", proc)
        (corpus / "news" / "other.txt").unlink()
        wait_until(lambda: found(base) == [], "the deleted file gone", proc)
        generation = call(base, "GET", "/healthz", token=None)[1]["generation"]
        time.sleep(3)  # nothing changed: no commit follows (the index's own files are not watched)
        assert call(base, "GET", "/healthz", token=None)[1]["generation"] == generation
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=HANG)
    assert "watching " in err


def test_every_json_answer_writes_arabic_as_utf8_not_escapes(index_dir, tiny_model):
    """Arabic letters go out as their UTF-8 bytes, as Elasticsearch writes them: a \\u06XX escape is six bytes
    where the letter is two, and a curl of the API would show no Arabic."""

    def raw(base: str, method: str, path: str, body: bytes | None = None) -> bytes:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=HANG) as r:
                return r.read()
        except urllib.error.HTTPError as exc:
            return exc.read()

    title = "ميناء طرطوس"
    with serving(app_for(index_dir, tiny_model)) as base:
        sent = json.dumps({"title": title, "text": f"تقرير عن {WORD} في {title}."}, ensure_ascii=False).encode()
        answers = {
            "write": raw(base, "PUT", "/api/documents/news/tartus", sent),
            "search": raw(base, "GET", "/api/search?" + urllib.parse.urlencode({"q": WORD, "mode": "lexical"})),
            "document": raw(base, "GET", "/api/doc/news/tartus"),
            "documents API": raw(base, "GET", "/api/documents/news/tartus"),
            "error": raw(base, "PUT", "/api/documents/" + urllib.parse.quote("خبر"), b'{"title": "x"}'),
        }
    for what, body in answers.items():
        assert b"\\u06" not in body, (what, body[:200])
        assert json.loads(body), what
    for what in ("search", "document", "documents API"):
        assert title.encode("utf-8") in answers[what] and WORD.encode("utf-8") in answers[what], what
