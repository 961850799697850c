"""The index directory: a FAISS file, the passages, sentence vectors and a manifest.

Like a sentence-transformers model folder, everything needed to use the index lies
next to its configuration (manifest.json). Each build is written in full to
``builds/<id>/`` and then made current by atomically replacing the small
``CURRENT`` file, so a crash or Ctrl-C mid-build never leaves a broken index where
the old one was: readers see the old build or the new one, never half of one.
Only one build writes a folder at a time (:mod:`search.lock`); its cleanup removes
earlier builds and what interrupted ones left, which no live process owns.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from search import manifest as manifests
from search.chunking import Passage
from search.manifest import ARTIFACTS as FILES, FORMAT, INDEX_TYPES, IndexUnavailable  # noqa: F401

CURRENT = "CURRENT"
_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_BUILD_ID = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")


class WriteFailed(RuntimeError):
    """The index could not be written (disk full, no permission); the previous one is unchanged."""


def make_faiss(dimension: int, index_type: str) -> faiss.Index:
    """Inner product on normalized vectors (cosine). Exact 'flat', or approximate 'hnsw'."""
    if index_type == "flat":
        return faiss.IndexFlatIP(dimension)
    if index_type == "hnsw":
        p = INDEX_TYPES["hnsw"]
        index = faiss.IndexHNSWFlat(dimension, p["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = p["efConstruction"]
        index.hnsw.efSearch = p["efSearch"]
        return index
    raise ValueError(f"unknown index type {index_type!r}; choose one of {', '.join(INDEX_TYPES)}")


@dataclass
class StoredIndex:
    directory: Path
    manifest: dict
    faiss_index: faiss.Index
    passages: list[Passage]
    sentence_vectors: np.ndarray  # rows follow the passages' sentences in order
    sentence_offsets: np.ndarray  # passage i owns rows sentence_offsets[i]:sentence_offsets[i+1]

    def passage_vectors(self) -> np.ndarray:
        return self.faiss_index.reconstruct_n(0, self.faiss_index.ntotal)


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def current_build(index_dir: str | Path) -> Path | None:
    """The build CURRENT names, or None if there is none. A name that is not a plain folder name
    under ``builds/`` (a path, "..") is never followed: it reads as a damaged index."""
    pointer = Path(index_dir) / CURRENT
    try:
        build = pointer.read_text(encoding="utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexUnavailable(f"cannot read {pointer} ({exc.strerror})") from exc
    if not _BUILD_ID.fullmatch(build):
        raise IndexUnavailable(f"index at {index_dir} is damaged ({CURRENT} does not name a build): "
                               f"rebuild it with `jisr build --index {index_dir}`")
    return Path(index_dir) / "builds" / build


def exists(index_dir: str | Path) -> bool:
    """Whether the folder has a CURRENT pointer (loading it may still find it damaged)."""
    return (Path(index_dir) / CURRENT).is_file()


def _write_build(work: Path, manifest: dict, faiss_index: faiss.Index, passages: list[Passage],
                 sentence_vectors: np.ndarray) -> None:
    faiss.write_index(faiss_index, str(work / "index.faiss"))
    with open(work / "passages.jsonl", "w", encoding="utf-8") as f:
        for p in passages:
            row = {k: getattr(p, k) for k in ("doc_id", "title", "source", "ordinal", "start", "end", "lang", "text")}
            row["sentences"] = [list(s) for s in p.sentences]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    np.save(work / "sentences.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32))
    manifest = {**manifest, "format": FORMAT, "artifacts": {name: _sha256(work / name) for name in FILES}}
    (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for name in (*FILES, "manifest.json"):
        with open(work / name, "rb") as f:
            os.fsync(f.fileno())


def _why(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code in _DISK_FULL or "No space left" in text or "File too large" in text or "quota" in text.lower():
        return "the disk is full"
    return getattr(exc, "strerror", None) or text.strip().splitlines()[-1]


def clean(index_dir: str | Path, keep: str | None = None) -> None:
    """Remove earlier builds and what killed builds left behind. Call only while holding the writer lock."""
    index_dir = Path(index_dir)
    keep = keep or (current_build(index_dir) or Path("")).name
    for stray in index_dir.glob(f".{CURRENT}.*"):  # a pointer written by a build killed before its swap
        stray.unlink(missing_ok=True)
    builds = index_dir / "builds"
    if builds.is_dir():
        for old in builds.iterdir():
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)


def save(index_dir: str | Path, manifest: dict, faiss_index: faiss.Index, passages: list[Passage],
         sentence_vectors: np.ndarray,
         commit: Callable[[], AbstractContextManager] = contextlib.nullcontext) -> Path:
    """Write a complete build, then make it current in one atomic step; return its directory.

    The swap runs inside ``commit()``, which may refuse it (an interrupted build) by raising.
    Whatever stops the build before the swap removes what it wrote and leaves the old index current.
    The caller holds the index's writer lock.
    """
    index_dir = Path(index_dir)
    builds = index_dir / "builds"
    build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()
    pointer = index_dir / f".{CURRENT}.{build_id}"
    work = None
    try:
        builds.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".partial-", dir=builds))
        _write_build(work, manifest, faiss_index, passages, sentence_vectors)
        final = builds / build_id
        os.rename(work, final)
        work = final
        pointer.write_text(build_id + "\n")
        with commit():
            os.replace(pointer, index_dir / CURRENT)  # the swap
    except BaseException as exc:
        pointer.unlink(missing_ok=True)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, (OSError, RuntimeError)) and not isinstance(exc, IndexUnavailable):
            raise WriteFailed(f"cannot write the index at {index_dir}: {_why(exc)}; "
                              "the previous index is unchanged") from exc
        raise
    clean(index_dir, keep=build_id)
    return final


_ROW = {"doc_id": str, "title": str, "source": str, "ordinal": int, "start": int, "end": int, "lang": str,
        "text": str, "sentences": list}


def _passage(row) -> Passage:
    """A passages.jsonl row as a Passage, or ValueError if any field is missing, mistyped or out of range."""
    if not isinstance(row, dict) or set(row) != set(_ROW) or not all(
            isinstance(row[k], t) and not isinstance(row[k], bool) for k, t in _ROW.items()):
        raise ValueError("a passage row lacks fields or has the wrong types")
    spans = tuple(tuple(s) for s in row["sentences"])
    n = len(row["text"])
    if not 0 <= row["start"] <= row["end"] or any(
            len(s) != 2 or not all(isinstance(x, int) for x in s) or not 0 <= s[0] <= s[1] <= n for s in spans):
        raise ValueError("a passage row has offsets outside its text")
    return Passage(**{**row, "sentences": spans})


def _read_build(build: Path, where: str) -> StoredIndex:
    manifest = manifests.check(json.loads((build / "manifest.json").read_text(encoding="utf-8")), where)
    for name in FILES:
        if _sha256(build / name) != manifest["artifacts"][name]:
            raise IndexUnavailable(f"index file {build / name} is damaged: rebuild with `jisr build --index {where}`")
    faiss_index = faiss.read_index(str(build / "index.faiss"))
    with open(build / "passages.jsonl", encoding="utf-8") as f:
        passages = [_passage(json.loads(line)) for line in f]
    sentence_vectors = np.load(build / "sentences.npy", allow_pickle=False)
    offsets = np.cumsum([0] + [len(p.sentences) for p in passages])
    counts, dim = manifest["counts"], manifest["model"]["dimension"]
    if not (len(passages) == counts["passages"] == faiss_index.ntotal and faiss_index.d == dim
            and sentence_vectors.shape == (counts["sentences"], dim) and offsets[-1] == counts["sentences"]):
        raise IndexUnavailable(f"index at {where} is damaged (its files disagree on the number of passages or "
                               f"sentences): rebuild it with `jisr build --index {where}`")
    if "efSearch" in manifest["index"]["params"]:
        faiss_index.hnsw.efSearch = manifest["index"]["params"]["efSearch"]
    return StoredIndex(build, manifest, faiss_index, passages, sentence_vectors, offsets)


def load(index_dir: str | Path) -> StoredIndex:
    """Open the current build, checking the manifest and that every file is the one it describes.

    A build that finishes while this reads may remove the build being read; then the new
    current build is read instead.
    """
    where = str(index_dir)
    for _ in range(3):
        build = current_build(index_dir)
        if build is None:
            raise IndexUnavailable(f"no index at {index_dir}: build one with `jisr build --index {index_dir}`")
        try:
            return _read_build(build, where)
        except IndexUnavailable:
            raise
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            if current_build(index_dir) != build:
                continue  # replaced while we read it: read the new one
            raise IndexUnavailable(f"index at {index_dir} cannot be read ({type(exc).__name__}: "
                                   f"{str(exc)[:200]}): rebuild it with `jisr build --index {index_dir}`") from exc
    raise IndexUnavailable(f"index at {index_dir} kept changing while it was read: try again")
