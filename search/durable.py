"""Writes that survive a killed process and a power cut: what an acknowledged write stands on.

A rename is atomic, but it reaches the disk only when its folder is synced; a file's bytes only
when the file is. Both stages that write (documents sent over the API, the index's commits) use
these two.
"""
from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(folder: str | os.PathLike) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(path: Path, data: bytes) -> None:
    """Make ``path`` hold ``data``, all or nothing, synced to the disk with its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk: the part written would keep the space that the next write needs
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
