"""The index's writer lock is never leaked, and a write never waits for it forever (issue 48).

A disk with no byte free made the lock's pid write fail after ``flock`` had succeeded: the descriptor
was never closed, so the server's every later write waited for a lock its own process held. These
tests fill a real small file system (a tmpfs; root mounts it) rather than patch anything.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from jisr.errors import IndexBusy
from jisr.index.lock import WriterLock

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root")


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


def test_a_lock_whose_pid_cannot_be_written_is_still_held_and_then_released(tmp_path):
    with small_disk(tmp_path / "disk", "64k") as disk:
        (disk / "index").mkdir()
        fill(disk)
        with WriterLock(disk / "index"):  # the pid is only for a message: the lock holds without it
            with pytest.raises(IndexBusy, match="another build is running"):
                WriterLock(disk / "index").__enter__()
        with WriterLock(disk / "index"):  # released: the next writer takes it
            pass
