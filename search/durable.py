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


def make_dirs(folder: str | os.PathLike) -> Path:
    """Create ``folder`` and its missing parents so that they survive a power cut: each new folder's name is
    an entry in its parent, synced as a file's bytes are (a build that exited 0 into a new folder lost it)."""
    folder = Path(folder)
    missing = []
    at = folder
    while not at.exists():
        missing.append(at)
        at = at.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        fsync_dir(path.parent)
    return folder


def sync_tree(folder: str | os.PathLike) -> None:
    """Sync every folder under ``folder`` (deepest first), then ``folder``'s own entry in its parent: the names
    of files already synced one by one, as a sealed segment's are."""
    folder = Path(folder)
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        fsync_dir(path)
    fsync_dir(folder)
    fsync_dir(folder.parent)


def replace(path: Path, data: bytes) -> None:
    """Make ``path`` hold ``data``, all or nothing, synced to the disk with its folder."""
    make_dirs(path.parent)
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
