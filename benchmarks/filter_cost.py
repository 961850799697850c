"""What a filter costs a query, from 10k to 1M passages: unfiltered, and filters keeping 10%, 1% and 0.1%.

Per size: a corpus as benchmarks/scale.py writes it (real Arabic sentences recombined into documents of
10 passages, 1,000 documents a folder, the STAND-IN encoder), built once and kept in --work. Queries are
ranked as a server ranks them (hybrid and dense, the query vector given: the encoder's cost is the same
with or without a filter) with no filter, and with filters keeping a tenth of the folders
(``collection``), a hundredth and a thousandth of the documents (``doc_id`` lists). For each: p50/p99 in
ms and the ratio to the unfiltered p50 of the same run, and whether every answer held only kept passages
and was full (k results, or all the filter keeps). The first filtered query of a fresh index reads the
segments' document columns once; that one-off cost is reported apart. Writes
benchmarks/results/filter_cost.{md,json}. Usage:
    python -m benchmarks.filter_cost [--sizes 10000 100000 1000000] [--work /tmp/jisr-scale] [--queries 200]
        [--out DIR [--quick]]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, parse
from benchmarks.scale import BUILD, STAND_IN, child, questions, sentences, write_corpus

_encoder: dict = {}
exec(STAND_IN, _encoder)  # the stand-in's query vectors: the same as the build's passage vectors
K = 10


def filters_for(docs: list[str]) -> dict[str, dict]:
    """Filters keeping about 10%, 1% and 0.1% of the documents (and so of the passages): a list of document
    ids where it is short enough for a request (at most 100), else whole folders (``collection``)."""
    folders = sorted({d.split("/")[0] for d in docs if "/" in d})
    out = {}
    for label, share in (("10%", 0.1), ("1%", 0.01), ("0.1%", 0.001)):
        wanted = max(1, round(len(docs) * share))
        if wanted <= 100 and share < 0.1:
            out[f"{label} (doc_id list)"] = {"doc_id": docs[:: len(docs) // wanted][:wanted]}
        else:
            out[f"{label} (collection)"] = {"collection": folders[: max(1, round(len(folders) * share))]}
    return out


def timed(searcher, queries, vectors, mode: str, where) -> tuple[list[float], list]:
    times, answers = [], []
    for q, v in zip(queries, vectors):
        t = time.perf_counter()
        ids, _, _ = searcher.rank(q, mode, lang="any", vector=v, where=where)
        times.append((time.perf_counter() - t) * 1000)
        answers.append(ids[:K])
    return times, answers


def measure(size: int, work: Path, pool: list[str], queries: list[str]) -> dict:
    from jisr.answers import filters
    from jisr.answers.searcher import Searcher
    from jisr.index.local import store

    corpus, index_dir = work / f"corpus-{size}", work / f"filter-index-{size}"
    if not corpus.exists():
        write_corpus(corpus, size, pool)
    if not (index_dir / "CURRENT").exists():
        child(BUILD, str(corpus), str(index_dir))
    searcher = Searcher(store.load(index_dir), None)
    index = searcher.index
    docs = sorted(index.manifest["files"])
    vectors = _encoder["stand_in"](queries)
    rows = {"size": index.size, "documents": len(docs), "segments": len(index.segments), "modes": {}}
    chosen = filters_for(docs)
    first = filters.parse(next(f for name, f in chosen.items() if name.startswith("1%")))
    t = time.perf_counter()
    searcher.rank(queries[0], "hybrid", lang="any", vector=vectors[0], where=first)
    rows["first_filtered_query_ms"] = (time.perf_counter() - t) * 1000
    for mode in ("hybrid", "dense"):
        base, _ = timed(searcher, queries, vectors, mode, None)
        per = {
            "none": {
                "p50": float(np.percentile(base, 50)),
                "p99": float(np.percentile(base, 99)),
                "ratio": 1.0,
                "ok": True,
            }
        }
        for name, given in chosen.items():
            where = filters.parse(given)
            kept_docs = (
                set(given["doc_id"])
                if "doc_id" in given
                else {d for d in docs if d.split("/")[0] in given["collection"]}
            )
            times, answers = timed(searcher, queries, vectors, mode, where)
            kept = sum(index.manifest["files"][d]["passages"] for d in kept_docs)
            full = all(len(a) == min(K, kept) for a in answers)
            only = all(p.doc_id in kept_docs for a in answers[:20] for p in index.passages(a))
            per[name] = {
                "p50": float(np.percentile(times, 50)),
                "p99": float(np.percentile(times, 99)),
                "ratio": float(np.percentile(times, 50)) / per["none"]["p50"],
                "ok": bool(full and only),
            }
        rows["modes"][mode] = per
    searcher.close()
    return rows


def markdown(rows: list[dict], environment: str) -> str:
    lines = [
        "# What a filter costs a query (benchmarks/filter_cost.py)",
        "",
        environment,
        "",
        f"Top {K} ranked with the query vector given (the stand-in encoder of scale.py), one query at a time. "
        "ok: every answer held only kept passages and was full.",
        "",
        "| passages | mode | filter | p50 ms | p99 ms | p50 / unfiltered | ok |",
        "|" + "---|" * 7,
    ]
    for r in rows:
        for mode, per in r["modes"].items():
            for name, f in per.items():
                lines.append(
                    f"| {r['size']:,} | {mode} | {name} | {f['p50']:.2f} | {f['p99']:.2f} | "
                    f"{f['ratio']:.2f}x | {'yes' if f['ok'] else 'NO'} |"
                )
    lines += [
        "",
        "First filtered query of a freshly opened index (reads each segment's document columns once): "
        + ", ".join(f"{r['size']:,}: {r['first_filtered_query_ms']:.0f} ms" for r in rows),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/jisr-scale"))
    parser.add_argument("--queries", type=int, default=200)
    args = parse(parser, RESULTS / "filter_cost", sizes=[2000], queries=10)
    args.work.mkdir(parents=True, exist_ok=True)
    pool, queries = sentences(), questions()[: args.queries]
    environment = f"CPU: {cpu()}"
    rows = []
    for size in args.sizes:
        print(f"{size} passages", flush=True)
        rows.append(measure(size, args.work, pool, queries))
        print(json.dumps(rows[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "filter_cost.json").write_text(json.dumps({"environment": environment, "rows": rows}, indent=1))
    table = markdown(rows, environment)
    (args.out / "filter_cost.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
