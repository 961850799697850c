"""A bulk load is committed in parts, a stop during one is clean, and `jisr build` waits for the server's
commit (issue 48): on a real `jisr serve` with the tiny model.

One POST of 20,000 lines made one commit that held the index's writer for over an hour: other writes waited
for all of it, SIGTERM aborted the process ("terminate called without an active exception"), and the
documents it had stored blocked the next start's first write. `jisr build` beside a server committing
writes stopped at once, where the README says it waits.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import jisr
from jisr.index.lock import WriterLock
from jisr.index.options import BuildOptions
from tests.conftest import HANG, ROOT, SEEDS, free_port, serving, spawn, wait_http, wait_until
from tests.test_cli import jisr as jisr_cli
from tests.test_documents import TOKEN, WORD, app_for, call, doc, found

pytestmark = pytest.mark.slow  # real `jisr serve` processes

PART = 100  # the bulk_commit_documents these servers run with: a few thousand lines make many commits


@pytest.fixture()
def index_dir(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    jisr.build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    return tmp_path / "index"


def start(index_dir: Path, model: Path, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """`jisr serve` with the document API on and small bulk parts; (the process, its URL) once it answers."""
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    port = free_port()
    server = spawn(
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
            str(token),
            "--commit-interval",
            "0.2",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "JISR_BULK_COMMIT_DOCUMENTS": str(PART)},
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", server)
    return server, base


def lines(count: int, words: int = 5) -> bytes:
    return "\n".join(
        json.dumps(
            {"id": f"bulk/{i}", "title": "عنوان", "text": f"نص {i} " + "كلمات كثيرة " * words}, ensure_ascii=False
        )
        for i in range(count)
    ).encode()


def generation(base: str) -> int:
    return call(base, "GET", "/healthz", token=None)[1]["generation"]


def stored(index_dir: Path) -> int:
    """Documents kept in INDEX/documents/, committed or not."""
    return len(list((index_dir / "documents").glob("??/*.json")))


def in_background(target, *args) -> tuple[threading.Thread, list]:
    """``target(*args)`` in a thread; its result, or the exception it raised, lands in the list."""
    result: list = []

    def run():
        try:
            result.append(target(*args))
        except Exception as exc:  # noqa: BLE001  (the test looks at it)
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def stop(server: subprocess.Popen) -> str:
    server.terminate()
    return server.communicate(timeout=HANG)[1]


def test_a_bulk_load_is_committed_in_parts_and_a_put_is_committed_between_them(index_dir, tiny_model_path, tmp_path):
    server, base = start(index_dir, tiny_model_path, tmp_path)
    try:
        before = generation(base)
        loading, result = in_background(
            call, base, "POST", "/api/documents", lines(3000) + b"\n{broken", TOKEN, "application/x-ndjson"
        )
        wait_until(lambda: generation(base) > before or not loading.is_alive(), "the bulk's first commit", server)
        status, body = call(base, "PUT", "/api/documents/between", doc())
        assert status == 201, body
        loading.join(HANG)
        status, answer = result[0]
        assert status == 200, {k: v for k, v in answer.items() if k != "items"}
        # the PUT sent after the load's first commit was committed before its last one: it did not wait for it all
        assert body["generation"] < answer["generation"]
        assert answer["loaded"] == 3000 and answer["failed"] == 1 and answer["not_committed"] == 0
        assert [e["line"] for e in answer["errors"]] == [3001]
        assert len(answer["commits"]) >= 3000 // PART and answer["generation"] == max(answer["commits"])
        items = answer["items"]
        assert [i["line"] for i in items] == list(range(1, 3002))
        assert all(i["status"] == 201 and i["generation"] in answer["commits"] for i in items[:-1])
        assert items[-1]["status"] == 400 and "not valid JSON" in items[-1]["message"]
        assert call(base, "GET", "/healthz", token=None)[1]["documents"] == 1 + 3000 + 1
        assert stored(index_dir) == 3000 + 1
    finally:
        stop(server)


def test_sigterm_during_a_bulk_load_exits_cleanly_and_the_next_start_answers_a_put(
    index_dir, tiny_model_path, tmp_path
):
    server, base = start(index_dir, tiny_model_path, tmp_path)
    try:
        before = generation(base)
        loading, result = in_background(
            call, base, "POST", "/api/documents", lines(20_000, words=20), TOKEN, "application/x-ndjson"
        )
        wait_until(lambda: generation(base) > before, "the bulk's first commit", server)
        server.send_signal(signal.SIGTERM)
        said = server.communicate(timeout=HANG)[1]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(HANG)
    assert server.returncode == 0, said
    assert "terminate called" not in said and "Traceback" not in said, said
    loading.join(HANG)
    # the load was answered before the server stopped: what was committed, and what was not
    assert not isinstance(result[0], Exception), result
    status, answer = result[0]
    assert status == 207, {k: v for k, v in answer.items() if k != "items"}
    assert 0 < answer["loaded"] < 20_000 and answer["loaded"] + answer["not_committed"] == 20_000
    committed = [i["id"] for i in answer["items"] if i["status"] == 201]
    assert len(committed) == answer["loaded"]
    assert {i["status"] for i in answer["items"] if i["status"] != 201} == {503}
    assert stored(index_dir) == answer["loaded"]  # nothing stored and left uncommitted

    server, base = start(index_dir, tiny_model_path, tmp_path)
    try:
        started = time.monotonic()
        status, body = call(base, "PUT", "/api/documents/after", doc())
        assert status == 201, body
        assert time.monotonic() - started < 60  # one document's commit, not the rest of the load's
        assert found(base) == ["after"]
        health = call(base, "GET", "/healthz", token=None)[1]
        assert health["documents"] == 1 + answer["loaded"] + 1
    finally:
        said = stop(server)
    assert server.returncode == 0, said


def test_jisr_build_waits_for_the_lock_a_server_holds_then_builds(index_dir, tiny_model_path, tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "more.txt").write_text(f"عنوان\nفقرة أخرى عن {WORD}.\n", encoding="utf-8")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with WriterLock(index_dir):  # as a server's commit holds it
            held.set()
            release.wait(HANG)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(HANG)
    build = spawn(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index_dir),
            "--model",
            str(tiny_model_path),
            "--writer-lock-wait",
            "300",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        said = next((line for line in build.stderr if "another build" in line), "")  # it says it waits ...
        assert f"another build is writing {index_dir} (pid {os.getpid()}" in said and "up to 300 s" in said, said
        time.sleep(1)
        assert build.poll() is None  # ... and waits: the lock is released only now
    finally:
        release.set()
        holder.join()
    out, err = build.communicate(timeout=HANG)
    assert build.returncode == 0, err
    assert "indexed 2 documents" in out

    # a lock held past the bound: one line saying so, exit 1
    held.clear()
    release.clear()
    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(HANG)
    try:
        refused = jisr_cli(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index_dir),
            "--model",
            str(tiny_model_path),
            "--writer-lock-wait",
            "1",
        )
    finally:
        release.set()
        holder.join()
    assert refused.returncode == 1
    assert f"another build is running on {index_dir} (pid {os.getpid()}) (waited 1 s" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_jisr_build_beside_a_server_loading_in_bulk_takes_its_turn_and_both_finish(
    index_dir, tiny_model_path, tmp_path
):
    """The lock passes between the load's parts and the build: neither fails for the other."""
    corpus = tmp_path / "corpus"
    server, base = start(index_dir, tiny_model_path, tmp_path)
    try:
        loading, result = in_background(
            call, base, "POST", "/api/documents", lines(4000), TOKEN, "application/x-ndjson"
        )
        wait_until(lambda: stored(index_dir) > 0, "the bulk's first commit under way", server)  # the lock held
        (corpus / "more.txt").write_text(f"عنوان\nفقرة أخرى عن {WORD}.\n", encoding="utf-8")
        built = jisr_cli(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index_dir),
            "--model",
            str(tiny_model_path),
            "--companion",
            "none",
        )
        assert built.returncode == 0, built.stderr
        loading.join(HANG)
        status, answer = result[0]
        assert status == 200 and answer["loaded"] == 4000, {k: v for k, v in answer.items() if k != "items"}
        wait_until(lambda: found(base) == ["more.txt"], "the build's commit searched", server)
        assert call(base, "GET", "/healthz", token=None)[1]["documents"] == 2 + 4000
    finally:
        said = stop(server)
    assert server.returncode == 0, said


def test_a_load_of_more_lines_than_bulk_max_lines_is_a_413_and_stores_nothing(index_dir, tiny_model):
    with serving(app_for(index_dir, tiny_model, BULK_MAX_LINES=3)) as base:
        status, body = call(base, "POST", "/api/documents", lines(4) + b"\n\n", content_type="application/x-ndjson")
        assert status == 413 and "at most 3 lines" in body["message"], body
        status, body = call(base, "POST", "/api/documents", lines(3) + b"\n\n", content_type="application/x-ndjson")
        assert status == 200 and body["loaded"] == 3, body  # blank lines do not count
    assert stored(index_dir) == 3


def test_each_line_is_reported_and_only_what_was_committed_is_a_2xx():
    from jisr.web import bulk

    lines, bad = bulk.read(
        b'{"id": "a", "text": "x"}\n\n{"id": 1}\n{"id": "b", "text": "y"}\n{"id": "a", "text": "z"}',
        corpus_owned=lambda doc_id: False,
        held=lambda doc_id: doc_id == "b",
    )
    assert [(line.number, line.id, line.existed) for line in lines] == [(1, "a", False), (4, "b", True), (5, "a", True)]
    assert bad == [{"line": 3, "status": 400, "message": 'each line is a JSON object with an "id" string'}]
    busy = {"status": 503, "error": "busy", "message": "another build is running"}

    status, body = bulk.report(lines, bad, {1: {"generation": 7}, 4: {"generation": 7}, 5: {"generation": 8}})
    assert status == 200 and (body["loaded"], body["failed"], body["not_committed"]) == (2, 1, 0)
    assert body["commits"] == [7, 8] and body["generation"] == 8
    assert [(i["line"], i["status"]) for i in body["items"]] == [(1, 201), (3, 400), (4, 200), (5, 200)]

    status, body = bulk.report(lines, bad, {1: {"generation": 7}, 4: busy})  # line 5 was never sent
    assert status == 207 and (body["loaded"], body["failed"], body["not_committed"]) == (1, 3, 2)
    assert [(i["line"], i["status"]) for i in body["items"]] == [(1, 201), (3, 400), (4, 503), (5, 503)]
    assert [e["line"] for e in body["errors"]] == [3, 4, 5]

    status, body = bulk.report(lines, bad, {1: busy, 4: busy, 5: busy})
    assert status == 503 and body["error"] == "busy" and body["loaded"] == 0 and body["generation"] is None


def test_a_load_is_cut_into_parts_paced_to_the_seconds_and_bounded_by_the_documents():
    from jisr.web import bulk

    pace = bulk.Pace(most=1000, seconds=10.0)
    parts = pace.parts([bulk.Line(n, str(n), {}, False) for n in range(3000)])
    sizes = []
    for part, seconds in zip(parts, [1.0, 1.0, 1.0, 100.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        sizes.append(len(part))
        pace.took(len(part), seconds)
    assert sizes[:4] == [bulk.FIRST_PART, 2 * bulk.FIRST_PART, 4 * bulk.FIRST_PART, 8 * bulk.FIRST_PART]
    assert sizes[4] == 8 * bulk.FIRST_PART * 10 // 100  # a slow part: the next one takes about 10 s at its pace
    assert max(sizes) <= 1000 and sum(sizes) == 3000


def test_close_gives_up_a_commit_that_outlasts_it_and_fails_what_is_queued(tmp_path):
    """The thread that commits has ended when close() returns, whatever it was doing: one left embedding
    while the interpreter exits aborted the process."""
    from jisr.errors import Error
    from jisr.index.intake import Intake, Stopping

    started = threading.Event()

    def endless(submit, stopping: threading.Event):  # a commit that would outlast any drain
        started.set()
        while not stopping.wait(0.01):
            pass
        raise Stopping("the server is stopping")

    intake = Intake(tmp_path, endless, interval=0.0, nice=0)
    under_way = intake.submit({"a": None})
    started.wait(HANG)
    queued = intake.submit({"b": None})
    intake.closing()
    with pytest.raises(Stopping, match="stopping"):
        intake.submit({"c": None})
    began = time.monotonic()
    intake.close(timeout=0.5)
    assert not intake._thread.is_alive() and time.monotonic() - began < 5
    for receipt in (under_way, queued):
        with pytest.raises(Error, match="not committed: the server is stopping"):
            receipt.wait(0)


def test_a_failed_commit_tells_the_writer_why_but_not_where_the_index_is(tmp_path):
    """A commit's error names files under the index's folder (for the server's log); the HTTP writer is told
    the same reason with that folder said as INDEX: a server's paths are not a client's business."""
    from jisr.errors import BuildError, Error
    from jisr.index.intake import Intake

    def failing(submit, stopping: threading.Event):
        raise BuildError(f"cannot read {tmp_path / 'segments' / 's1' / 'vectors.bin'}: damaged")

    intake = Intake(tmp_path, failing, interval=0.0, nice=0)
    try:
        with pytest.raises(Error) as caught:
            intake.submit({"a": None}).wait(HANG)
    finally:
        intake.close(timeout=5)
    message = str(caught.value)
    assert "INDEX/segments/s1/vectors.bin: damaged" in message and str(tmp_path) not in message, message
