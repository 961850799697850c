"""The index folder's commit point: CURRENT, the commit it names, and whether a folder holds a readable index.

Commit files are this module's alone, whichever store holds the data (Lucene's SegmentInfos): a build
writes its commit here (:func:`write_commit`), removes what no commit names (:func:`clean`) and says
why a write failed (:func:`why`); readers find the live commit here. Light on purpose (no numpy, torch
or FAISS): the CLI asks here before it loads a model, so a missing, damaged or foreign index costs a
fraction of a second, not a model load. What the commit names (segments, Milvus) is opened by the
store its manifest names (:func:`jisr.index.stores.open_index`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from jisr import durable
from jisr.errors import IndexUnavailable, build_command, damaged
from jisr.index import manifest as manifests

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
        raise IndexUnavailable(
            f"the index at {index_dir} was written by an older version of jisr (format 2): "
            f"rebuild it with {build_command(index_dir)}"
        )
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
        return IndexUnavailable(f"{path} is a file, not an index folder: give --index the folder an index was built in")
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


_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk has no room, whichever layer reported it: the OS (ENOSPC, EFBIG,
    EDQUOT), SQLite (SQLITE_FULL, "database or disk is full") or FAISS (a RuntimeError quoting strerror),
    so every one of them is answered as the same fault (a 507, the CLI's one line)."""
    text = str(exc)
    return (
        getattr(exc, "errno", None) in _DISK_FULL
        or getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL"
        or "No space left" in text
        or "File too large" in text
        or "quota" in text.lower()
        or "database or disk is full" in text
    )


def why(exc: BaseException) -> str:
    """Why a write to the index failed, in words: a full disk is said so whichever layer (the OS, SQLite,
    FAISS) reported it, so the build's one line of error names the cause a person can act on."""
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_IOERR_WRITE":  # SQLite's word for EFBIG, EDQUOT, EIO
        return "the disk is full (or a write to it failed)"
    if full(exc):
        return "the disk is full"
    return getattr(exc, "strerror", None) or str(exc).strip().splitlines()[-1]


def next_generation(index_dir: str | os.PathLike) -> int:
    """The generation a new commit of ``index_dir`` takes: above every commit file there (a killed build's
    too), so no commit is ever written over another."""
    folder = Path(index_dir) / "commits"
    gens = [int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()] if folder.is_dir() else []
    return max(gens, default=0) + 1


def write_commit(
    index_dir: Path, gen: int, manifest: dict, commit: Callable[[], AbstractContextManager] = contextlib.nullcontext
) -> None:
    """Write commit ``gen`` and make it current in one atomic step, inside ``commit()`` (which may
    refuse it by raising). Before the swap, a failure leaves the previous commit current."""
    path = commit_path(index_dir, gen)
    pointer = index_dir / f".{CURRENT}.{gen:08d}"
    try:
        previous = generation(index_dir)
    except IndexUnavailable:
        previous = None
    swapped = False
    try:
        durable.make_dirs(path.parent)
        with open(path, "w", encoding="utf-8") as f:
            json.dump({**manifest, "format": manifests.FORMAT, "generation": gen}, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        durable.fsync_dir(path.parent)  # CURRENT must never name a commit file a power cut can take back
        with open(pointer, "w", encoding="ascii") as f:
            f.write(f"{gen:08d}\n")
            f.flush()
            os.fsync(f.fileno())
        with commit():
            os.replace(pointer, index_dir / CURRENT)  # the swap
            swapped = True
        durable.fsync_dir(index_dir)  # the swap itself survives a power cut: a write acknowledged after it is kept
    except BaseException:
        pointer.unlink(missing_ok=True)
        if not swapped or _swap_back(index_dir, previous):  # never remove the commit CURRENT names
            path.unlink(missing_ok=True)
        raise


def point(index_dir: str | os.PathLike, gen: int) -> None:
    """Make ``CURRENT`` name commit ``gen``, whose file is in place and synced already (a snapshot links it)."""
    durable.replace(Path(index_dir) / CURRENT, f"{gen:08d}\n".encode("ascii"))


def _swap_back(index_dir: Path, previous: int | None) -> bool:
    """After a swap whose sync failed (EIO: the disk may or may not hold it), make ``previous`` current again,
    so that no reader starts searching a commit that was never made durable; whether that worked."""
    try:
        if previous is None:
            (index_dir / CURRENT).unlink(missing_ok=True)
            durable.fsync_dir(index_dir)
        else:
            durable.replace(index_dir / CURRENT, f"{previous:08d}\n".encode("ascii"))
        return True
    except OSError:
        return False


def clean(index_dir: str | Path, keep: set[str] = frozenset()) -> None:
    """Remove what no commit names: older commits and deletes, segments of earlier commits and of
    killed builds (except those in ``keep``, which a build adopts), a format-2 index's builds.
    Call only while holding the writer lock."""
    index_dir = Path(index_dir)
    try:
        gen = generation(index_dir)
    except IndexUnavailable:
        gen = None
    live = {"segments": set(), "deletes": set()}
    if gen is not None:
        try:
            m = json.loads(commit_path(index_dir, gen).read_text(encoding="utf-8"))
            live["segments"] = {e["name"] for e in m["segments"]}
            live["deletes"] = {e["deletes"] for e in m["segments"] if e["deletes"]}
        except (OSError, ValueError, KeyError, TypeError):
            return  # a damaged commit: leave everything for a person to look at; the build replaces it
    for stray in index_dir.glob(f".{CURRENT}.*"):  # a pointer written by a build killed before its swap
        stray.unlink(missing_ok=True)
    for folder, names in (
        ("commits", {f"{gen:08d}.json"} if gen is not None else set()),
        ("deletes", live["deletes"]),
        ("segments", live["segments"] | set(keep)),
    ):
        if (index_dir / folder).is_dir():
            for path in (index_dir / folder).iterdir():
                if path.name not in names:
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    if gen is not None or not (index_dir / CURRENT).exists():
        shutil.rmtree(index_dir / "builds", ignore_errors=True)  # format 2
