"""Which approximate vector index a large segment gets: recall@10 against time per query.

A segment holds up to 100k passages (jisr.index.options.SegmentPolicy.passages), so a 1M-passage index
searches ten of them per query: what one costs, ten cost. This builds one segment's worth of
passage vectors with scale.py's STAND-IN encoder (hashing bag of words over recombined real
Arabic sentences; see that script), and for the XQuAD Arabic questions (stand-in vectors too)
measures, one query at a time as the searcher asks: exact search, IVF with 8-bit codes at each
nprobe, PQ fast-scan codes scanned in full at each re-scoring depth, and IVF over PQ fast-scan codes
at each nprobe (for segments merged past 100k: run with --passages 1000000). Every approximate
candidate list is re-scored exactly from float32 vectors, as jisr does, before its top 10 are
compared with the exact top 10. Writes benchmarks/results/ann.md. Usage:
    python -m benchmarks.experiments.ann_choice [--passages 100000] [--queries 300] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import faiss
import numpy as np

from benchmarks import scale
from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, parse

_stand_in: dict = {}
exec(scale.STAND_IN, _stand_in)
stand_in = _stand_in["stand_in"]  # the benchmark-only encoder


def passages(n: int, pool: list[str]) -> list[str]:
    rng = np.random.default_rng(0)
    return [" ".join(pool[i] for i in rng.integers(0, len(pool), rng.integers(3, 7))) for _ in range(n)]


def timed(index: faiss.Index, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, depth: int):
    times, hits = [], 0
    for q, true in zip(queries, truth):
        started = time.perf_counter()
        _, rows = index.search(q[None, :], depth)
        rows = np.sort(rows[0][rows[0] >= 0])
        top = rows[np.argsort(-(vectors[rows] @ q), kind="stable")[:10]]
        times.append((time.perf_counter() - started) * 1000)
        hits += len(set(top.tolist()) & set(true.tolist()))
    return hits / truth.size, float(np.percentile(times, 50)), float(np.percentile(times, 99))


def filled(index: faiss.Index, vectors: np.ndarray, sample: int) -> float:
    """Train ``index`` on ``sample`` of ``vectors`` (a fixed draw) and add them all; the seconds it took."""
    started = time.perf_counter()
    index.train(
        vectors[np.sort(np.random.default_rng(0).choice(len(vectors), min(len(vectors), sample), replace=False))]
    )
    index.add(vectors)
    return time.perf_counter() - started


def probed(
    name: str, ivf: faiss.Index, seconds: float, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, size: int
) -> list[tuple]:
    """Rows of an IVF index asked at each nprobe, the best 200 re-scored."""
    rows = []
    for nprobe in (64, 256, 512, 1024):
        ivf.nprobe = min(nprobe, ivf.nlist)
        rows.append((name, f"nprobe {ivf.nprobe}, depth 200", *timed(ivf, vectors, queries, truth, 200), seconds, size))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="XQuAD Arabic questions searched")
    args = parse(parser, RESULTS / "ann.md", passages=640, queries=50)  # 640: the 39 x 16 points PQ wants
    environment = f"{cpu()}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start"
    print(environment, flush=True)
    vectors = np.ascontiguousarray(stand_in(passages(args.passages, scale.sentences())))
    queries = np.ascontiguousarray(stand_in(scale.questions()[: args.queries]))
    n, d = vectors.shape
    exact = faiss.IndexFlatIP(d)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    rows = [("exact (flat, float32)", "-", *timed(exact, vectors, queries, truth, 200), 0.0, n * d * 4)]

    nlist = max(1, min(4 * int(math.sqrt(n)), n // 39))  # as jisr.index.local.ann.train_ivf
    ivf = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(d), d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    rows += probed(f"IVF{nlist}, 8-bit codes", ivf, filled(ivf, vectors, 64 * nlist), vectors, queries, truth, n * d)

    pq = faiss.IndexPQFastScan(d, d // 2, 4, faiss.METRIC_INNER_PRODUCT)
    seconds = filled(pq, vectors, 16_384)
    for depth in (200, 400, 800):
        rows.append(
            (
                f"PQ{d // 2}x4 fast-scan, full scan",
                f"depth {depth}",
                *timed(pq, vectors, queries, truth, depth),
                seconds,
                n * d // 4,
            )
        )

    # IVF over the same PQ fast-scan codes: for segments merged to 1M or more
    ivfpq = faiss.IndexIVFPQFastScan(faiss.IndexFlatIP(d), d, nlist, d // 2, 4, faiss.METRIC_INNER_PRODUCT)
    rows += probed(
        f"IVF{nlist}, PQ{d // 2}x4 fast-scan codes",
        ivfpq,
        filled(ivfpq, vectors, 64 * nlist),
        vectors,
        queries,
        truth,
        n * d // 4,
    )

    lines = [
        "# The approximate index of one large segment",
        "",
        "Written by `python -m benchmarks.experiments.ann_choice`; do not edit by hand.",
        "",
        f"Machine: {environment}",
        "",
        f"{n:,} passage vectors ({d}-d) from the benchmark's **stand-in** encoder (hashing bag of words over "
        f"recombined XQuAD Arabic sentences, as in `scale.py`); {len(queries)} XQuAD Arabic questions through "
        "the same stand-in, searched one at a time. Every candidate list is re-scored exactly from float32 "
        "vectors before its top 10 are compared with exact search's.",
        "",
        "| index | setting | recall@10 | p50 ms | p99 ms | train + fill s | codes MB |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {setting} | {recall:.3f} | {p50:.2f} | {p99:.2f} | {train:.1f} | {size / 2**20:.0f} |"
        for name, setting, recall, p50, p99, train, size in rows
    ]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
