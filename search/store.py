"""The index directory: a FAISS file, the passages, sentence vectors and a manifest.

Like a sentence-transformers model folder, everything needed to use the index lies
next to its configuration (manifest.json). Each build is written in full to
``builds/<id>/`` and then made current by atomically replacing the small
``CURRENT`` file, so a crash or Ctrl-C mid-build never leaves a broken index where
the old one was: readers see the old build or the new one, never half of one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from search.chunking import Passage

FORMAT = 1
CURRENT = "CURRENT"
FILES = ("index.faiss", "passages.jsonl", "sentences.npy")
INDEX_TYPES = {
    "flat": {},
    "hnsw": {"M": 32, "efConstruction": 200, "efSearch": 128},
}


class IndexUnavailable(RuntimeError):
    """The index is missing, damaged, or does not fit the model; the message says what to do."""


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
    pointer = Path(index_dir) / CURRENT
    try:
        build = pointer.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Path(index_dir) / "builds" / build


def exists(index_dir: str | Path) -> bool:
    return current_build(index_dir) is not None


def save(index_dir: str | Path, manifest: dict, faiss_index: faiss.Index, passages: list[Passage],
         sentence_vectors: np.ndarray) -> Path:
    """Write a complete build, then make it current in one atomic step; return its directory."""
    index_dir = Path(index_dir)
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=builds))
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

    build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()
    final = builds / build_id
    os.rename(work, final)
    pointer = index_dir / f".{CURRENT}.{build_id}"
    pointer.write_text(build_id + "\n")
    os.replace(pointer, index_dir / CURRENT)  # the swap
    for old in builds.iterdir():  # earlier builds and leftovers of interrupted ones
        if old.name != build_id:
            shutil.rmtree(old, ignore_errors=True)
    return final


def load(index_dir: str | Path) -> StoredIndex:
    """Open the current build, checking that every file is the one the manifest describes."""
    build = current_build(index_dir)
    if build is None:
        raise IndexUnavailable(f"no index at {index_dir}: build one with `jisr build --index {index_dir}`")
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexUnavailable(f"index at {index_dir} has format {manifest.get('format')}, expected {FORMAT}: rebuild it")
        for name, digest in manifest["artifacts"].items():
            if _sha256(build / name) != digest:
                raise IndexUnavailable(f"index file {build / name} is damaged: rebuild with `jisr build --index {index_dir}`")
        faiss_index = faiss.read_index(str(build / "index.faiss"))
        passages = []
        with open(build / "passages.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                row["sentences"] = tuple(tuple(s) for s in row["sentences"])
                passages.append(Passage(**row))
        sentence_vectors = np.load(build / "sentences.npy")
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if isinstance(exc, IndexUnavailable):
            raise
        raise IndexUnavailable(f"index at {index_dir} cannot be read ({exc}): rebuild it with `jisr build`") from exc
    if "efSearch" in manifest["index"].get("params", {}):
        faiss_index.hnsw.efSearch = manifest["index"]["params"]["efSearch"]
    offsets = np.cumsum([0] + [len(p.sentences) for p in passages])
    return StoredIndex(build, manifest, faiss_index, passages, sentence_vectors, offsets)
