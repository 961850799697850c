"""Restore: a snapshot (:mod:`jisr.index.snapshot`) made the live commit of an index folder.

Into a new (or empty) folder, the snapshot's commit is placed as it is (hard links where the snapshot lies on the
same file system, else copies). Over an existing index, it becomes a new commit, of a higher generation than any
the index had, so a server following that folder swaps to it as it does to any build's commit
(:mod:`jisr.answers.following`): the documents sent over the API are the snapshot's again, and the index's
segments the snapshot does not name are cleaned away. The snapshot is checked first as `jisr check` checks an
index (every segment file hashed); a folder that holds something but no index is refused. The corpus folder is
the user's and is not in a snapshot: the next build after a restore reads it again, as every build does. A
snapshot of an index on Milvus holds no collection, so jisr does not restore it.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from jisr import durable
from jisr.corpus import submitted
from jisr.errors import IndexUnavailable
from jisr.index import commit, stores
from jisr.index.snapshot import (
    Snapshot,
    SnapshotError,
    documents_of,
    failing_as,
    gather,
    locked,
    place,
    publish,
    sync_folders,
)
from jisr.settings import default


def restore(
    snapshot: str | os.PathLike, index_dir: str | os.PathLike, lock_wait: float = default("writer_lock_wait")
) -> Snapshot:
    """Make ``snapshot`` the live commit of ``index_dir``: a new (or empty) folder gets the snapshot's commit; an
    index gets it as a new commit, the next generation, which a server following the folder swaps to. Refused
    (SnapshotError) for a folder that holds something but no index, and a snapshot that `jisr check` fails."""
    started = time.perf_counter()
    source, target = Path(snapshot), Path(index_dir)
    manifest = checked(source)
    if target.exists() and not target.is_dir():
        raise SnapshotError(f"{target} is a file, not an index folder: give --index an index, or a new folder")
    is_index = commit.exists(target)
    if not is_index and target.is_dir() and any(target.iterdir()):
        raise SnapshotError(
            f"{target} is a folder that holds no index: restore into an index, or into a new or empty folder"
        )
    with failing_as(f"cannot restore into {target}"):
        if not is_index:
            stage = target.parent / f".{target.name}.restoring"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(stage, ignore_errors=True)
            try:
                linked, copied, count = gather(source, manifest, stage)
                copied += publish(stage, target) or 0
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            gen = manifest["generation"]
        else:
            with locked(target, lock_wait, "a restore"):
                gen, linked, copied, count = _restore_over(source, manifest, target)
    return Snapshot(target, gen, count, linked, copied, time.perf_counter() - started)


def checked(snapshot: Path) -> dict:
    """The manifest of the snapshot at ``snapshot`` once `jisr check` would pass it (every segment file hashed
    against its build's record), else SnapshotError saying what is wrong."""
    if not snapshot.is_dir() or not commit.exists(snapshot):
        raise SnapshotError(f"{snapshot} is not a snapshot (it has no commit): give a folder `jisr snapshot` wrote")
    try:
        manifest = commit.readable(snapshot)
    except IndexUnavailable as exc:
        raise SnapshotError(f"the snapshot at {snapshot} cannot be restored: {exc}") from None
    if commit.on_milvus(manifest):
        raise SnapshotError(
            f"the snapshot at {snapshot} is of an index on Milvus: it holds the manifest and the "
            "documents sent over the API, not the collection; restore the collection with "
            "Milvus's own tool (milvus-backup)"
        )
    try:
        index = stores.open_index(snapshot)
    except IndexUnavailable as exc:
        raise SnapshotError(f"the snapshot at {snapshot} fails `jisr check`: {exc}") from None
    try:
        problems = index.verify()
    finally:
        index.close()
    if problems:
        raise SnapshotError(
            f"the snapshot at {snapshot} fails `jisr check`: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    return manifest


_RENAME_EXCHANGE = 2  # renameat2's flag (Linux 3.15+): swap two names in one step


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` in one atomic step, so no moment has neither; False where the system or file
    system has no such step (then the caller renames twice)."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_cwd = -100
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _recorded(segment: Path, name: Path) -> dict:
    """What ``segment``'s segment.json records of its file ``name``: bytes and sha256."""
    return json.loads((segment / "segment.json").read_text(encoding="utf-8"))["files"][str(name)]


def _whole(path: Path, recorded: dict) -> bool:
    """Whether ``path`` holds what its segment recorded (hashed only when its size is right)."""
    try:
        if path.stat().st_size != recorded["bytes"]:
            return False
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest() == recorded["sha256"]
    except OSError:
        return False


# -- a restore over an index ----------------------------------------------------------------------------------


def _restore_over(source: Path, manifest: dict, target: Path) -> tuple[int, int, int, int]:
    """The snapshot's commit as a new commit of the index ``target`` (its writer lock held): its segments placed
    beside the index's own (one the index shares is kept, any of its files that is not the snapshot's own and
    fails its checksum replaced by the snapshot's), its deletes under the new generation, its documents
    in place of the index's, then the commit, then the index's older files cleaned. A restore cut short leaves
    the previous commit live: run it again. (gen, files hard-linked, bytes copied, files placed)."""
    gen = max(commit.next_generation(target), (commit.generation(target) or 0) + 1)
    new = json.loads(json.dumps(manifest))
    linked = copied = count = 0

    def put(rel_src: str, rel_dst: str) -> None:
        nonlocal linked, copied, count
        dst = target / rel_dst
        dst.unlink(missing_ok=True)
        if place(source / rel_src, dst):
            linked += 1
        else:
            copied += dst.stat().st_size
        count += 1

    shared = set()
    for entry in new["segments"]:
        meta = Path("segments") / entry["name"] / "segment.json"
        if (target / meta).is_file():
            if (target / meta).read_bytes() != (source / meta).read_bytes():
                raise SnapshotError(
                    f"segment {entry['name']} of the snapshot differs from the index's segment of "
                    "that name: restore into a new folder"
                )
            shared.add(entry["name"])
        else:
            shutil.rmtree(target / "segments" / entry["name"], ignore_errors=True)  # an unfinished one
    for rel in stores.commit_files(source, manifest):
        parts = Path(rel).parts
        if parts[0] != "segments":
            continue
        if parts[1] not in shared:
            put(rel, rel)
        elif (
            parts[-1] != "segment.json"
            and not _same_file(source / rel, target / rel)
            and not _whole(target / rel, _recorded(source / Path(*parts[:2]), Path(*parts[2:])))
        ):
            partial = target / Path(rel).with_name(f".{parts[-1]}.restoring")  # a damaged file of the index's
            put(rel, str(partial.relative_to(target)))
            os.replace(partial, target / rel)
    for entry in new["segments"]:
        if entry["deletes"]:
            renamed = f"{entry['name']}.{gen:08d}.npy"  # this commit's: no file of the index's history is replaced
            put(f"deletes/{entry['deletes']}", f"deletes/{renamed}")
            entry["deletes"] = renamed
    for folder in ("segments", "deletes"):
        if (target / folder).is_dir():
            sync_folders(target / folder)
    documents = target / submitted.FOLDER
    staged, old = target / f".{submitted.FOLDER}.restoring", target / f".{submitted.FOLDER}.old"
    for leftover in (staged, old):
        shutil.rmtree(leftover, ignore_errors=True)
    staged.mkdir()
    for rel in documents_of(source):
        put(rel, str(Path(staged.name) / Path(rel).relative_to(submitted.FOLDER)))
    sync_folders(staged)
    if not documents.exists():
        os.rename(staged, documents)
    elif _exchange(staged, documents):
        os.rename(staged, old)  # it holds the index's former documents now
    else:  # a file system without the exchange: two renames, a moment apart
        os.rename(documents, old)
        os.rename(staged, documents)
    durable.fsync_dir(target)
    shutil.rmtree(old, ignore_errors=True)
    commit.write_commit(target, gen, new)
    commit.clean(target)
    return gen, linked, copied, count
