"""Dense candidates for one segment: exact under a size threshold, a compressed index above it.

The index only proposes candidates: every candidate is scored exactly from the stored vectors,
so an approximate index costs recall, never score accuracy. Above the threshold ("auto"), a
segment gets PQ fast-scan codes (4 bits per pair of dimensions: a sixteenth of float32) scanned
in full, and the best ``depth`` of them are re-scored exactly. On a 100k-passage segment this was
the fastest way past recall@10 0.97 (benchmarks/results/ann.md), faster than IVF with 8-bit codes,
whose lists had to be probed by half or more. IVF stays for those who ask.
Both are trained on the segment's own vectors; the build measures recall@10 against exact
search, with the segment's sentence vectors as stand-in queries (short texts, like queries), and
keeps the smallest ``nprobe`` (IVF) or ``depth`` (PQ) that reaches RECALL_TARGET.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from jisr.index.manifest import KINDS

EXACT_UP_TO = 10_000  # "auto": passages in a segment searched exactly. Above this size PQ fast-scan
# codes are faster than an exact scan of float16 vectors (benchmarks/results/decisions.md)
RECALL_TARGET = 0.97  # recall@10 of the candidates, after exact re-scoring, against exact search
PROBE_QUERIES = 200
PQ_TRAINING = 16_384  # vectors a PQ index is trained on: 16 centroids per sub-quantizer need few
FILE = "ann.faiss"


def choose(kind: str, size: int, pq_min: int) -> str:
    """The vector index a segment of ``size`` passages gets when ``kind`` is asked for: PQ needs ``pq_min``
    passages to train on (:class:`jisr.index.options.VectorIndexPolicy`); fewer are searched exactly."""
    if kind not in KINDS:
        raise ValueError(f"unknown index type {kind!r}; choose one of {', '.join(KINDS)}")
    kind = ("pq" if size > EXACT_UP_TO else "flat") if kind == "auto" else kind
    return "flat" if kind == "pq" and size < pq_min else kind


def depth(params: dict, n: int) -> int:
    """How many of a segment's candidates to re-score exactly so that ``n`` keep the recall measured."""
    return max(n, int(params.get("depth", 0)))


def exact(vectors: np.ndarray) -> faiss.Index:
    """An exact inner-product index over ``vectors`` in their stored precision (built at open: no file)."""
    d = vectors.shape[1]
    index = (
        faiss.IndexFlatIP(d)
        if vectors.dtype == np.float32
        else faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    )
    for a in range(0, len(vectors), 65536):
        index.add(np.ascontiguousarray(vectors[a : a + 65536], dtype=np.float32))
    return index


def _exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    index = exact(vectors)
    return index.search(queries, min(k, len(vectors)))[1]


def recall_at_10(
    index: faiss.Index, vectors: np.ndarray, queries: np.ndarray, candidates: int, truth: np.ndarray | None = None
) -> float:
    """Share of the exact top 10 found among the top 10 of ``candidates`` re-scored exactly."""
    truth = _exact_top(vectors, queries, 10) if truth is None else truth
    _, found = index.search(queries, min(candidates, index.ntotal))
    hits = 0
    for q, rows, true in zip(queries, found, truth):
        rows = np.sort(rows[rows >= 0])  # memory-mapped rows read in order
        top = rows[np.argsort(-(np.asarray(vectors[rows], np.float32) @ q), kind="stable")[:10]]
        hits += len(set(top.tolist()) & set(true.tolist()))
    return hits / max(truth.size, 1)


def train_ivf(folder: Path, vectors: np.ndarray, queries: np.ndarray, candidates: int, seed: int = 0) -> dict:
    """Train, fill and save an IVF index of ``vectors``; return its parameters and measured recall."""
    n, d = vectors.shape
    nlist = max(1, min(4 * int(math.sqrt(n)), n // 39))  # FAISS wants >= 39 training points a list
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, 64 * nlist), replace=False))
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.seed = seed
    index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for a in range(0, n, 65536):
        index.add(np.ascontiguousarray(vectors[a : a + 65536], dtype=np.float32))
    truth = _exact_top(vectors, queries, 10)
    nprobe, recall = 1, 0.0
    while True:
        index.nprobe = nprobe
        recall = recall_at_10(index, vectors, queries, candidates, truth)
        if recall >= RECALL_TARGET or nprobe >= nlist:
            break
        nprobe = min(nprobe * 2, nlist)
    faiss.write_index(index, str(folder / FILE))
    return {
        "kind": "ivf",
        "nlist": nlist,
        "nprobe": nprobe,
        "quantizer": "SQ8",
        "recall@10": round(recall, 4),
        "probe_queries": len(queries),
        "candidates": candidates,
    }


def train_pq(folder: Path, vectors: np.ndarray, queries: np.ndarray, candidates: int) -> dict:
    """Train, fill and save a PQ fast-scan index of ``vectors``; return its parameters and measured recall."""
    n, d = vectors.shape
    m = d // 2 if d % 2 == 0 else d  # sub-quantizers of two dimensions each
    index = faiss.IndexPQFastScan(d, m, 4, faiss.METRIC_INNER_PRODUCT)
    sample = np.sort(np.random.default_rng(0).choice(n, size=min(n, PQ_TRAINING), replace=False))
    index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for a in range(0, n, 65536):
        index.add(np.ascontiguousarray(vectors[a : a + 65536], dtype=np.float32))
    truth = _exact_top(vectors, queries, 10)
    depth = candidates
    while True:
        recall = recall_at_10(index, vectors, queries, depth, truth)
        if recall >= RECALL_TARGET or depth >= n:
            break
        depth = min(depth * 2, n)
    faiss.write_index(index, str(folder / FILE))
    return {
        "kind": "pq",
        "m": m,
        "bits": 4,
        "depth": depth,
        "recall@10": round(recall, 4),
        "probe_queries": len(queries),
        "candidates": candidates,
    }


def load(folder: Path, params: dict, vectors: np.ndarray) -> faiss.Index:
    if params["kind"] == "flat":
        return exact(vectors)
    try:
        index = faiss.read_index(str(folder / FILE))
    except RuntimeError:  # FAISS's message is a C++ location: the file is what a person can act on
        raise ValueError(f"{folder / FILE} cannot be read as a FAISS index") from None
    if params["kind"] == "ivf":
        index.nprobe = int(params["nprobe"])
    if index.ntotal != len(vectors) or index.d != vectors.shape[1]:
        raise ValueError("the vector index does not match the segment's vectors")
    return index
