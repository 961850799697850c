"""`jisr build` waits for the server's commit (issue 48): the README says a build beside a server committing
API writes waits for it; it stopped at once with "another build is running".
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

import jisr
from jisr.index.lock import WriterLock
from jisr.index.options import BuildOptions
from tests.conftest import HANG, ROOT, SEEDS, spawn
from tests.test_cli import jisr as jisr_cli
from tests.test_documents import WORD


@pytest.fixture()
def index_dir(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    jisr.build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    return tmp_path / "index"


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
    build = spawn([sys.executable, "-m", "jisr.cli", "build", "--corpus", str(corpus), "--index", str(index_dir),
                   "--model", str(tiny_model_path), "--writer-lock-wait", "300"], cwd=ROOT,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
        refused = jisr_cli("build", "--corpus", str(corpus), "--index", str(index_dir), "--model",
                           str(tiny_model_path), "--writer-lock-wait", "1")
    finally:
        release.set()
        holder.join()
    assert refused.returncode == 1
    assert f"another build is running on {index_dir} (pid {os.getpid()}) (waited 1 s" in refused.stderr
    assert "Traceback" not in refused.stderr
