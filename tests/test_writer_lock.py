"""The index's writer lock is never leaked, and a write never waits for it forever (issue 48).

A disk with no byte free made the lock's pid write fail after ``flock`` had succeeded: the descriptor
was never closed, so the server's every later write waited for a lock its own process held. These
tests fill a real small file system (a tmpfs; root mounts it) rather than patch anything.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import jisr
from jisr.errors import IndexBusy
from jisr.index.lock import WriterLock
from jisr.index.options import BuildOptions
from tests.conftest import HANG, ROOT, SEEDS, free_port, spawn, wait_http
from tests.test_documents import TOKEN, WORD, doc, found

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root"),
]


@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    """A tmpfs of ``size`` mounted at ``folder``, always unmounted after."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk has no byte left; its path, to remove to free the space."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (2**20, 4096, 1):  # the last bytes of the last pages too
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def put(base: str, doc_id: str) -> tuple[int, dict, dict]:
    """PUT a document: (status, JSON body, headers); a write that gets no answer in a minute fails the test."""
    request = urllib.request.Request(
        f"{base}/api/documents/{doc_id}",
        method="PUT",
        data=json.dumps(doc()).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, json.load(r), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc), dict(exc.headers)


def test_a_lock_whose_pid_cannot_be_written_is_still_held_and_then_released(tmp_path):
    with small_disk(tmp_path / "disk", "64k") as disk:
        (disk / "index").mkdir()
        fill(disk)
        with WriterLock(disk / "index"):  # the pid is only for a message: the lock holds without it
            with pytest.raises(IndexBusy, match="another build is running"):
                WriterLock(disk / "index").__enter__()
        with WriterLock(disk / "index"):  # released: the next writer takes it
            pass


def test_a_full_disk_during_an_api_write_fails_it_clearly_and_writes_work_once_space_returns(
    tmp_path, tiny_model, tiny_model_path
):
    """The issue's sequence on `jisr serve`: one PUT, the disk filled, one PUT, the filler removed, one PUT."""
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
            env={**os.environ, "PYTHONUNBUFFERED": "1", "JISR_WRITER_LOCK_WAIT": "2"},
        )
        try:
            wait_http(base + "/healthz", server)
            assert put(base, "first")[0] == 201
            filler = fill(disk)
            started = time.monotonic()
            status, body, _ = put(base, "full")
            assert status == 507 and "the disk is full" in body["message"], body
            assert time.monotonic() - started < 30
            filler.unlink()
            started = time.monotonic()
            status, body, _ = put(base, "after")
            assert status == 201, body
            assert time.monotonic() - started < 30
            assert found(base, WORD) == ["after", "first"]

            # a lock another writer holds: the write waits a bounded time, then is refused with Retry-After
            with WriterLock(index):
                started = time.monotonic()
                status, body, headers = put(base, "busy")
                assert status == 503 and body["error"] == "busy", body
                assert "another build" in body["message"] and str(index) not in body["message"]
                assert int(headers["Retry-After"]) > 0
                assert 2 <= time.monotonic() - started < 30
            assert put(base, "busy")[0] == 201
        finally:
            server.terminate()
            try:
                server.communicate(timeout=60)
            except subprocess.TimeoutExpired:  # a server that cannot stop must not keep the disk mounted
                server.kill()
                server.communicate(timeout=HANG)
