"""Checks a build makes before any expensive work: the corpus, the index folder, the free space.

A build that is going to fail should fail in the first second with one line, not after an
hour of embedding. Light on purpose (no numpy, torch or FAISS), so the CLI runs these
checks before it loads the model.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from jisr import durable
from jisr.errors import BuildError, DiskFull


def corpus_folder(folder: str | os.PathLike) -> Path:
    root = Path(folder)
    if not root.exists():
        raise BuildError(f"corpus folder not found: {root}")
    if not root.is_dir():
        raise BuildError(f"the corpus must be a folder of documents; {root} is a file")
    if not os.access(root, os.R_OK | os.X_OK):
        raise BuildError(f"cannot read the corpus folder {root}: permission denied")
    return root


def index_folder(index_dir: str | os.PathLike) -> Path:
    """The index folder, created if missing; raise BuildError unless a build can write in it."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise BuildError(f"the index path {index_dir} is a file, not a folder: choose another --index")
    try:
        durable.make_dirs(index_dir)
        with tempfile.TemporaryFile(dir=index_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # no inode left: permissions are not the cause
            raise DiskFull(
                f"cannot write the index folder {index_dir}: the disk is full; free some space and build again"
            ) from exc
        raise BuildError(
            f"cannot write the index folder {index_dir} ({exc.strerror or exc}): "
            "choose another --index or fix its permissions"
        ) from exc
    return index_dir


def free_space(index_dir: Path, needed: int, keep_free: int = 0) -> None:
    """Refuse to start embedding when the disk cannot hold the index it would write and still have
    ``keep_free`` bytes left (the ``min_free_disk`` setting: room the system and other programs need)."""
    free = shutil.disk_usage(index_dir).free
    if free < needed + keep_free:
        kept = f", {keep_free / 2**20:.0f} MiB must stay free (min_free_disk)," if keep_free else ""
        raise DiskFull(
            f"not enough free disk space at {index_dir}: the index needs about "
            f"{needed / 2**20:.0f} MiB{kept} and {free / 2**20:.0f} MiB are free"
        )


def index_size(text_bytes: int, dimension: int) -> int:
    """A generous estimate of the bytes an index of ``text_bytes`` of documents takes on disk: the text
    in SQLite with its indexes and postings, and a float16 vector for every ~60 bytes (passages and
    their sentences)."""
    return int(4 * text_bytes + 2 * dimension * text_bytes / 60) + 2**20
