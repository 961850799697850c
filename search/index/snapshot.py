"""Snapshots: a consistent copy of an index's live commit, taken while the index is served and written to.

A snapshot is an index folder that holds one commit: ``CURRENT``, ``commits/N.json``, the segments and deletes
that commit names, and the documents sent over the API (``INDEX/documents/``), so `jisr check`, `jisr search` and
`jisr serve` read it as they read any index. It is gathered under the index's writer lock
(:mod:`jisr.index.lock`): no commit and no cleaning runs meanwhile, so the files are the ones the commit names and
the documents are the ones it holds. Every one of those files is immutable once written (a segment is sealed, a
deletes or commit file is named by its generation, a document is replaced by a rename, never rewritten), so the
snapshot hard-links them into a folder beside them, which takes no time and almost no disk whatever the index's
size; the lock is released before that folder is moved to the destination, or copied there when the destination
is on another file system. A hard link shares the file's blocks: for a copy that survives the disk, copy the
snapshot folder elsewhere (it is a plain folder; ``cp -a``, ``rsync``, ``tar``).

A restore (:mod:`jisr.index.restore`) makes a snapshot an index's live commit, with the helpers that place files
here.

An index on Milvus keeps its passages and vectors in a collection that no folder holds: its snapshot holds the
manifest and the documents sent over the API and says so; the collection is backed up with Milvus's own tool
(milvus-backup).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jisr import durable
from jisr.corpus import submitted
from jisr.errors import Error, IndexBusy, IndexUnavailable
from jisr.index import commit, stores
from jisr.index.lock import WriterLock
from jisr.settings import default

SNAPSHOTS = "snapshots"  # INDEX/snapshots/: the snapshots POST /api/snapshots takes and keeps
_KEPT_NAME = re.compile(r"[0-9]{8}T[0-9]{6}\.[0-9]{3}Z")  # when it was taken, in UTC, to the millisecond
_STAGE = ".snapshot-"  # a snapshot being gathered inside the index folder: .snapshot-<pid>-<random>
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK)


class SnapshotError(Error):
    """A snapshot or restore that cannot be made; the message says why. ``disk_full``: for want of space."""

    def __init__(self, message: str, disk_full: bool = False):
        super().__init__(message)
        self.disk_full = disk_full


@dataclass(frozen=True)
class Snapshot:
    """A snapshot taken (or a restore made): where, which generation, and what it cost."""

    path: Path
    generation: int
    files: int  # files placed: segments' files, deletes and documents
    linked: int  # of them, hard links rather than copies
    copied_bytes: int
    seconds: float
    note: str | None = None  # what it does not hold (an index on Milvus: its collection)

    def to_json(self) -> dict:
        """What the API answers: the snapshot's name, not its path on the server."""
        return {
            "name": self.path.name,
            "generation": self.generation,
            "files": self.files,
            "linked": self.linked,
            "copied_bytes": self.copied_bytes,
            "seconds": round(self.seconds, 3),
            **({"note": self.note} if self.note else {}),
        }


def take(
    index_dir: str | os.PathLike, dest: str | os.PathLike, lock_wait: float = default("writer_lock_wait")
) -> Snapshot:
    """Snapshot the live commit of ``index_dir`` into ``dest`` (a new or empty folder), waiting at most
    ``lock_wait`` seconds for a build that holds the index's lock (a server's commit of API writes)."""
    started = time.perf_counter()
    index_dir, dest = Path(index_dir), Path(dest)
    commit.readable(index_dir)  # not an index: said before anything is written
    _check_destination(dest)
    with failing_as(f"cannot write the snapshot at {dest}"):
        with locked(index_dir, lock_wait, "a snapshot"):
            _remove_stale_stages(index_dir)
            manifest = commit.readable(index_dir)
            stage = index_dir / f"{_STAGE}{os.getpid()}-{os.urandom(3).hex()}"
            try:
                linked, copied, count = gather(index_dir, manifest, stage)
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                raise
        try:
            moved = publish(stage, dest)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        if moved is not None:  # copied to another file system: none of DEST's files is a link
            linked, copied = 0, moved
    return Snapshot(
        dest, manifest["generation"], count, linked, copied, time.perf_counter() - started, _milvus_note(manifest)
    )


# -- the snapshots a server keeps ------------------------------------------------------------------------------


def take_kept(index_dir: str | os.PathLike, keep: int, lock_wait: float = default("writer_lock_wait")) -> Snapshot:
    """A snapshot into ``INDEX/snapshots/`` (on the index's file system: hard links only), then all but the
    newest ``keep`` of the snapshots kept there removed (the snapshot_keep setting)."""
    index_dir = Path(index_dir)
    now = time.time()
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    (index_dir / SNAPSHOTS).mkdir(exist_ok=True)
    taken = take(index_dir, index_dir / SNAPSHOTS / name, lock_wait)
    for old in [s["name"] for s in kept(index_dir)][:-keep]:
        shutil.rmtree(index_dir / SNAPSHOTS / old, ignore_errors=True)
    durable.fsync_dir(index_dir / SNAPSHOTS)
    return taken


def kept(index_dir: str | os.PathLike) -> list[dict]:
    """The snapshots in ``INDEX/snapshots/``, oldest first: name, generation, when taken (UTC). Only their
    CURRENT is read: a manifest names every document, which is megabytes at a million."""
    folder = Path(index_dir) / SNAPSHOTS
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not _KEPT_NAME.fullmatch(path.name):
            continue
        try:
            gen = commit.generation(path)
        except IndexUnavailable:
            gen = None
        if gen is None:
            continue  # being removed, or damaged: not one to offer
        stamp = path.name
        found.append(
            {
                "name": path.name,
                "generation": gen,
                "taken": f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:]}",
            }
        )
    return found


# -- the writer lock, waited for ------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(index_dir: Path, wait: float, what: str) -> Iterator[None]:
    """Hold the writer lock of ``index_dir``, waiting at most ``wait`` seconds for the build holding it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            lock = WriterLock(index_dir).__enter__()
            break
        except IndexBusy:
            if time.monotonic() >= deadline:
                raise IndexBusy(
                    f"another build (a `jisr build`, or a server's commit) held the index's lock for "
                    f"the {wait:.0f} s {what} waits; try again once it is done"
                ) from None
            time.sleep(0.1)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


# -- placing files ----------------------------------------------------------------------------------------------


def _check_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SnapshotError(f"{dest} exists already: give a new (or empty) folder for the snapshot")


@contextlib.contextmanager
def failing_as(what: str) -> Iterator[None]:
    """An OSError becomes a SnapshotError saying ``what`` failed and why, a full disk said so."""
    try:
        yield
    except OSError as exc:
        why = commit.why(exc)
        raise SnapshotError(f"{what}: {why}", disk_full=why == "the disk is full") from exc


def place(src: Path, dst: Path) -> bool:
    """``dst`` made ``src``'s file: a hard link where the file system allows one (True), else a synced copy. A
    symbolic link is refused: a snapshot holds files, and one restored must not reach outside it."""
    if src.is_symlink():
        raise SnapshotError(f"{src} is a symbolic link, not a file an index writes")
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
        return True
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
    _copy(src, dst)
    return False


def _copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """A copy that keeps the modification time (a build trusts a document file by its size and time) and is
    on the disk before the snapshot's commit names it."""
    shutil.copy2(src, dst)
    with open(dst, "rb") as f:
        os.fsync(f.fileno())


def documents_of(index_dir: Path) -> list[str]:
    return [str(f.path.relative_to(index_dir)) for f in submitted.files(index_dir)]


def gather(source: Path, manifest: dict, stage: Path) -> tuple[int, int, int]:
    """A snapshot of ``source``'s commit ``manifest`` in the new folder ``stage``, synced, CURRENT last: (files
    hard-linked, bytes copied, files placed). The commit file is placed as the rest is (it never changes either)."""
    stage.mkdir(parents=True)
    gen = manifest["generation"]
    files = [*stores.commit_files(source, manifest), *documents_of(source), str(commit.commit_path("", gen))]
    linked = copied = 0
    for rel in files:
        if place(source / rel, stage / rel):
            linked += 1
        else:
            copied += (stage / rel).stat().st_size
    sync_folders(stage)
    commit.point(stage, gen)
    return linked, copied, len(files)


def publish(stage: Path, dest: Path) -> int | None:
    """Move the gathered ``stage`` to ``dest`` in one rename (None), or copy it there when ``dest`` is on another
    file system (the bytes copied). Either way ``dest`` appears whole or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(stage, dest)  # onto a missing or empty folder
        durable.fsync_dir(dest.parent)
        return None
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    partial = dest.parent / f".{dest.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(stage, partial, copy_function=_copy)
        sync_folders(partial)
        if dest.is_dir():
            dest.rmdir()  # empty (checked before)
        os.rename(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    durable.fsync_dir(dest.parent)
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


def sync_folders(top: Path) -> None:
    """fsync every folder under ``top`` and ``top`` itself: the names of the files placed in them last."""
    for folder, _, _ in sorted(os.walk(top), key=lambda walked: -walked[0].count(os.sep)):
        durable.fsync_dir(folder)


def _remove_stale_stages(index_dir: Path) -> None:
    """Folders a snapshot killed while gathering left in the index folder (their process is gone)."""
    for stage in index_dir.glob(f"{_STAGE}*"):
        pid = stage.name[len(_STAGE) :].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stage, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _milvus_note(manifest: dict) -> str | None:
    if not commit.on_milvus(manifest):
        return None
    return (
        f"the passages and vectors on Milvus (collection {manifest['store']['collection']!r}) are not in a "
        "snapshot, only the manifest and the documents sent over the API: back the collection up with "
        "Milvus's own tool, milvus-backup"
    )
