"""The index folder's commit point: CURRENT, the commit it names, and whether a folder holds a readable index.

Light on purpose (no numpy, torch or FAISS): the CLI asks here before it loads a model, so a
missing, damaged or foreign index costs a fraction of a second, not a model load. What the
commit names (segments, Milvus) is opened by :mod:`jisr.index.local.store`.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from jisr.index import manifest as manifests
from jisr.errors import IndexUnavailable, build_command, damaged

CURRENT = "CURRENT"
_GENERATION = re.compile(r"[0-9]{8}")
_OLD_BUILD = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")  # format 2 named a build folder


def generation(index_dir: str | os.PathLike) -> int | None:
    """The live commit's generation, or None if the folder has none. A CURRENT that does not hold a
    generation number is never followed as a path: it reads as a damaged (or older) index."""
    pointer = Path(index_dir) / CURRENT
    try:
        text = pointer.read_text(encoding="utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexUnavailable(f"cannot read {pointer} ({exc.strerror})") from exc
    if _OLD_BUILD.fullmatch(text):
        raise IndexUnavailable(f"the index at {index_dir} was written by an older version of jisr (format 2): "
                               f"rebuild it with {build_command(index_dir)}")
    if not _GENERATION.fullmatch(text):
        raise damaged(index_dir, f"{CURRENT} does not name a commit")
    return int(text)


def exists(index_dir: str | os.PathLike) -> bool:
    """Whether the folder has a CURRENT pointer (loading it may still find it damaged)."""
    return (Path(index_dir) / CURRENT).is_file()


def commit_path(index_dir: str | os.PathLike, gen: int) -> Path:
    return Path(index_dir) / "commits" / f"{gen:08d}.json"


def current_commit(index_dir: str | os.PathLike) -> Path | None:
    """The live commit's file (the manifest), or None."""
    gen = generation(index_dir)
    return None if gen is None else commit_path(index_dir, gen)


def on_milvus(manifest: dict) -> bool:
    """Whether a commit's data lives on Milvus (jisr.index.milvus.store) rather than in the folder's segments."""
    return isinstance(manifest.get("store"), dict) and manifest["store"].get("kind") == "milvus"


def missing(index_dir: str | os.PathLike) -> IndexUnavailable:
    """What to say when there is no index at ``index_dir``: a file where a folder should be, or nothing."""
    path = Path(index_dir)
    if path.exists() and not path.is_dir():
        return IndexUnavailable(f"{path} is a file, not an index folder: give --index the folder an index "
                                "was built in")
    return IndexUnavailable(f"no index at {path}: build one with {build_command(path)}")


def read_manifest(index_dir: str | os.PathLike, gen: int) -> dict:
    """Commit ``gen``'s manifest, checked field by field (:func:`jisr.index.manifest.check`)."""
    return manifests.check(json.loads(commit_path(index_dir, gen).read_text(encoding="utf-8")), str(index_dir))


def readable(index_dir: str | os.PathLike) -> dict:
    """The live manifest of the index at ``index_dir``, or IndexUnavailable saying what is wrong and what
    to run: the checks a command makes before it loads a model. The data the commit names is not opened."""
    gen = generation(index_dir)
    if gen is None:
        raise missing(index_dir)
    try:
        return read_manifest(index_dir, gen)
    except IndexUnavailable:
        raise
    except (OSError, ValueError) as exc:
        if generation(index_dir) != gen:  # a build committed meanwhile: its commit is the one to read
            return readable(index_dir)
        raise damaged(index_dir, f"its commit cannot be read: {type(exc).__name__}") from None
