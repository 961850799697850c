"""One query's encode latency when the CPU is quiet and when a build runs beside it, in one run.

A search server often shares its cores: with a rebuild of the index, another service, a CI job.
This measures `Searcher.encode_query` (the server's path: one dedicated encoder thread) with
torch's default thread count (what jisr did before) and with 1 thread (JISR_QUERY_THREADS, default 1),
in rounds that take turns: quiet, then with a contender process that encodes XQuAD paragraphs in
a loop with torch's default threads (what `jisr build` does), then quiet again, and so on. It
prints p50 per round, the contended / quiet ratio of each setting, the CPU's flags, and writes
benchmarks/results/contended_latency.md. Usage:
    python -m benchmarks.experiments.contended_latency [--xquad ../shared/data/xquad] [--rounds 2] [--queries 120]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import torch

from benchmarks.contention import ROOT, STATES, cpu, p50_ms, state
from benchmarks.quick import RESULTS, parse
from jisr import build
from jisr.answers.searcher import Searcher
from jisr.embeddings import load_model
from jisr.index.local.store import load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--queries", type=int, default=120)
    args = parse(ap, RESULTS / "contended_latency.md", rounds=1, queries=8)
    en = json.loads((Path(args.xquad) / "xquad.en.json").read_text(encoding="utf-8"))
    queries = [q["question"] for a in en["data"] for p in a["paragraphs"] for q in p["qas"]][: args.queries]

    model = load_model()
    work = Path(tempfile.mkdtemp())
    build(ROOT / "seeds", work / "index", model)
    default = torch.get_num_threads()
    settings = {f"{default} threads (torch's default; jisr before)": default, "1 thread (jisr's default)": 1}
    searchers = {name: Searcher(load(work / "index"), model, query_threads=n) for name, n in settings.items()}
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name_of_state in STATES:
            with state(name_of_state, args.xquad):
                for name, searcher in searchers.items():
                    results.setdefault((name, name_of_state), []).append(p50_ms(searcher.encode_query, queries))

    lines = [
        "# One query's encode latency, quiet and beside a build",
        "",
        "Written by `python -m benchmarks.experiments.contended_latency`; do not edit by hand.",
        f"CPU: {cpu()}; torch {torch.__version__}, {default} threads by default.",
        f"{len(queries)} English XQuAD questions per round, encoded one at a time on the searcher's encoder "
        "thread; the contender encodes XQuAD paragraphs in a loop with torch's default threads.",
        "",
        "| query threads | quiet p50 ms (each round) | contended p50 ms (each round) | contended / quiet |",
        "|---|---|---|---|",
    ]
    for name in settings:
        quiet, busy = results[name, "quiet"], results[name, "contended"]
        ratio = statistics.median(busy) / statistics.median(quiet)
        lines.append(
            f"| {name} | {', '.join(f'{x:.1f}' for x in quiet)} | {', '.join(f'{x:.1f}' for x in busy)} "
            f"| {ratio:.2f}x |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
