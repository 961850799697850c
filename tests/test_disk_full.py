"""A full disk is a fault answered clearly, never half-applied (issue 48, item 4).

An API write that meets a full disk is a 507 Insufficient Storage naming the cause, whichever layer
reported it (the OS, SQLite); the last commit is still searched meanwhile, nothing of the write is
kept, and writes work again once space is freed. A build gets the CLI's one line. The disk is a real
small file system (a tmpfs, mounted as root) filled to its last byte: nothing is patched.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

import jisr
from jisr.corpus import submitted
from jisr.errors import DiskFull
from jisr.index import commit as commits
from jisr.index.options import BuildOptions
from tests.conftest import HANG, ROOT, SEEDS, free_port, live_segments, segments_on_disk, spawn, wait_http
from tests.test_cli import jisr as run_jisr
from tests.test_documents import TOKEN, WORD, call, doc, found
from tests.test_security import one_line_error
from tests.test_writer_lock import fill, put, small_disk

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root"),
]


def _bulk(base: str, ids: list[str]) -> tuple[int, dict]:
    lines = "\n".join(
        json.dumps({"id": i, "title": "عنوان", "text": f"نص {i} عن {WORD}."}, ensure_ascii=False) for i in ids
    )
    return call(base, "POST", "/api/documents", lines.encode(), content_type="application/x-ndjson")


def test_api_writes_on_a_full_disk_are_507_the_last_commit_is_searched_and_writes_work_once_space_returns(
    tmp_path, tiny_model, tiny_model_path
):
    with small_disk(tmp_path / "disk", "40m") as disk:
        corpus = tmp_path / "corpus"
        shutil.copytree(SEEDS, corpus)
        index = disk / "index"
        jisr.build(corpus, index, tiny_model, BuildOptions(companion="none"))
        (tmp_path / "token").write_text(TOKEN + "\n")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = spawn(
            [
                sys.executable,
                "-m",
                "jisr.cli",
                "serve",
                "--index",
                str(index),
                "--port",
                str(port),
                "--model",
                str(tiny_model_path),
                "--api-token-file",
                str(tmp_path / "token"),
                "--commit-interval",
                "0.1",
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_http(base + "/healthz", server)
            assert put(base, "first")[0] == 201
            assert put(base, "second")[0] == 201
            generation = json.loads(urllib_get(base + "/healthz"))["generation"]
            filler = fill(disk)

            status, body, _ = put(base, "full")
            assert status == 507 and body["error"] == "disk_full", body
            assert "the disk is full" in body["message"] and str(disk) not in body["message"]
            status, body = call(base, "DELETE", "/api/documents/second")  # put back without a byte free
            assert status == 507, body
            os.truncate(filler, filler.stat().st_size - 4 * 4096)  # room for a few of the bulk's documents only
            status, body = _bulk(base, [f"bulk/{i}" for i in range(20)])
            assert status == 507 and body["error"] == "disk_full", body
            status, body, _ = put(base, "first")  # a replacement: the stored version is kept as it was
            assert status == 507, body
            # the last commit is still the one searched, whole: nothing of the refused writes in it or stored
            assert found(base) == ["first", "second"]
            assert json.loads(urllib_get(base + "/healthz"))["generation"] == generation
            assert not any(submitted.holds(index, d) for d in ["full"] + [f"bulk/{i}" for i in range(20)])
            assert submitted.holds(index, "second")

            filler.unlink()
            started = time.monotonic()
            status, body, _ = put(base, "after")
            assert status == 201, body
            assert time.monotonic() - started < 30
            assert found(base) == ["after", "first", "second"]  # the refused DELETE was not applied later
            status, body = call(base, "DELETE", "/api/documents/second")
            assert status == 200, body
            assert _bulk(base, ["bulk/0", "bulk/1"])[0] == 200
            assert found(base) == ["after", "bulk/0", "bulk/1", "first"]
            paths = call(base, "GET", "/openapi.json", token=None)[1]["paths"]  # the answer is documented
            assert all(
                "507" in paths[path][method]["responses"]
                for path, method in [
                    ("/api/documents/{doc_id}", "put"),
                    ("/api/documents/{doc_id}", "delete"),
                    ("/api/documents", "post"),
                ]
            )
        finally:
            server.terminate()
            try:
                server.communicate(timeout=60)
            except subprocess.TimeoutExpired:  # a server that cannot stop must not keep the disk mounted
                server.kill()
                server.communicate(timeout=HANG)


def urllib_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=HANG) as r:
        return r.read().decode()


@pytest.mark.parametrize("layer,pages_left", [("os", 0), ("sqlite", 3)])
def test_a_build_that_fills_the_disk_is_disk_full_leaves_the_last_commit_and_builds_once_space_returns(
    tmp_path, tiny_model, layer, pages_left
):
    """The disk fills while the build embeds (the encoder is the build's injection point): with no page left
    the segment's vector file meets it first (the OS's ENOSPC), with a few left its SQLite file does
    (SQLITE_FULL); either is DiskFull, and the commit before stays whole."""
    with small_disk(tmp_path / "disk", "40m") as disk:
        corpus, index = tmp_path / "corpus", disk / "index"
        shutil.copytree(SEEDS, corpus)
        jisr.build(corpus, index, tiny_model, BuildOptions(companion="none"))
        before = (index / "CURRENT").read_text()
        (corpus / "more.txt").write_text("عنوان\n" + f"فقرة أخرى عن {WORD}. " * 50 + "\n", encoding="utf-8")
        filled = []

        def encoder(texts):
            if not filled:
                filler = fill(disk)
                os.truncate(filler, filler.stat().st_size - pages_left * 4096)
                filled.append(filler)
            return tiny_model.encode_document(texts)

        with pytest.raises(DiskFull, match="the disk is full; the previous index is unchanged") as raised:
            jisr.build(corpus, index, tiny_model, BuildOptions(companion="none"), encoder=encoder)
        cause = raised.value.__cause__
        assert (
            (isinstance(cause, sqlite3.OperationalError) and "database or disk is full" in str(cause))
            if layer == "sqlite"
            else (isinstance(cause, OSError) and cause.errno == errno.ENOSPC)
        ), repr(cause)
        assert filled and (index / "CURRENT").read_text() == before
        assert segments_on_disk(index) == live_segments(index)  # nothing half-written left
        filled[0].unlink()
        report = jisr.build(corpus, index, tiny_model, BuildOptions(companion="none"))
        assert report.documents == 2 and (index / "CURRENT").read_text() != before


def test_jisr_build_on_a_full_disk_is_one_line(tmp_path, tiny_model, tiny_model_path):
    with small_disk(tmp_path / "disk", "40m") as disk:
        corpus, index = tmp_path / "corpus", disk / "index"
        shutil.copytree(SEEDS, corpus)
        jisr.build(corpus, index, tiny_model, BuildOptions(companion="none"))
        before = (index / "CURRENT").read_text()
        (corpus / "more.txt").write_text(f"عنوان\nفقرة أخرى عن {WORD}.\n", encoding="utf-8")
        fill(disk)
        full = run_jisr(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index),
            "--model",
            str(tiny_model_path),
            "--companion",
            "none",
        )
        assert "not enough free disk space" in one_line_error(full)
        assert (index / "CURRENT").read_text() == before


def test_sqlite_on_a_full_disk_is_said_as_a_full_disk(tmp_path):
    """SQLite reports a full disk in its own words (SQLITE_FULL): the same fault, the same 507."""
    with small_disk(tmp_path / "disk", "1m") as disk:
        db = sqlite3.connect(disk / "passages.sqlite")
        db.execute("CREATE TABLE t (x BLOB)")
        db.commit()
        fill(disk)
        with pytest.raises(sqlite3.OperationalError) as raised:
            with db:
                db.executemany("INSERT INTO t VALUES (?)", [(os.urandom(4096),) for _ in range(64)])
        db.close()
    assert "database or disk is full" in str(raised.value)
    assert commits.full(raised.value) and commits.why(raised.value) == "the disk is full"
    assert not commits.full(sqlite3.OperationalError("no such table: t"))


def test_an_api_commit_whose_sqlite_write_meets_a_full_disk_fails_its_writers_as_disk_full(tmp_path, tiny_model):
    """The intake's build is its injection point: SQLite's SQLITE_FULL reaches the writer as DiskFull (the
    server's 507), and nothing of the write is stored."""
    from jisr.index.intake import Intake

    with small_disk(tmp_path / "disk", "40m") as disk:
        corpus, index = tmp_path / "corpus", disk / "index"
        shutil.copytree(SEEDS, corpus)
        jisr.build(corpus, index, tiny_model, BuildOptions(companion="none"))
        before = (index / "CURRENT").read_text()
        filled = []

        def encoder(texts):
            if not filled:
                filler = fill(disk)
                os.truncate(filler, filler.stat().st_size - 3 * 4096)
                filled.append(filler)
            return tiny_model.encode_document(texts)

        causes = []

        def build(submit, stopping):  # the intake's build: ``stopping`` is set when the server stops
            try:
                return jisr.build(
                    corpus, index, tiny_model, BuildOptions(companion="none"), submit=submit, encoder=encoder
                )
            except DiskFull as exc:
                causes.append(exc.__cause__)
                raise

        intake = Intake(index, build, interval=0)
        try:
            receipt = intake.submit({"long": submitted.from_json("long", doc(f"فقرة أخرى عن {WORD}. " * 50))})
            with pytest.raises(DiskFull, match="the disk is full where the index is kept"):
                receipt.wait(HANG)
        finally:
            intake.close()
        assert isinstance(causes[0], sqlite3.OperationalError) and "database or disk is full" in str(causes[0])
        assert (index / "CURRENT").read_text() == before and not submitted.holds(index, "long")
