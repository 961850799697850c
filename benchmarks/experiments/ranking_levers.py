"""Measure two more ranking levers of issue 9 on the tune halves: feedback from the top passages, and
a lexical weight that follows how completely the best passage matches the query.

- Pseudo-relevance feedback (Rocchio): a query not in Arabic is moved toward the mean vector of its
  m best hybrid passages (q + beta x mean, normalized again) and ranked again. Moving an English
  question toward Arabic passages might close some of the gap between the two languages.
- Match-scaled lexical weight: hybrid's BM25 share becomes a + b x (best BM25 of the query / the
  most any passage could score: the sum of the query terms' weights). A typed phrase that a passage
  holds word for word would get more of BM25's say than a question whose words are spread out.

Both are chosen by the rule the shipped lexical weight was chosen by (best mean of the four tune
figures); held-out halves printed beside. The shipped ranking is the first row. Usage:
    pip install 'jisr[eval]'
    python -m benchmarks.experiments.ranking_levers [--xquad ../shared/data/xquad] [--work DIR] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import CELLS, arguments, cells, encoded_sets, header, reciprocal_rank
from benchmarks.quick import RESULTS
from jisr.embeddings import load_model
from jisr.index import lexical
from jisr.weights import shipped

FEEDBACK = [(m, beta) for m in (1, 3) for beta in (0.1, 0.2, 0.4)]
MATCH = [(a, b) for a in (0.0, 0.1, 0.2) for b in (0.4, 0.8, 1.2)]


def match_ratio(searcher, query: str) -> float:
    """The query's best BM25 over the most a passage could score (every term saturated)."""
    most = lexical.ceiling([s.postings for s in searcher.index.segments], query)
    _, scores, _ = searcher.index.lexical_candidates(query, 1)
    return float(scores.max()) / most if len(scores) and most else 0.0


def measure(sets: dict, feedback: tuple[int, float] | None = None, match: tuple[float, float] | None = None) -> dict:
    """MRR@10 per (set, query language, half) of hybrid, with one lever set."""
    found: dict[tuple, list[float]] = {}
    for name, (searcher, queries, vectors, ratios) in sets.items():
        for q, v, ratio in zip(queries, vectors, ratios):
            lexical = shipped().lexical if match is None else match[0] + match[1] * ratio
            searcher.weights = searcher.weights.but(lexical=lexical)
            ids, _, _ = searcher.rank(q.text, "hybrid", lang="any", vector=v)
            if feedback and q.lang != "ar":
                m, beta = feedback
                moved = v + beta * searcher.index.vectors(ids[:m]).mean(0)
                ids, _, _ = searcher.rank(
                    q.text, "hybrid", lang="any", vector=(moved / np.linalg.norm(moved)).astype(np.float32)
                )
            found.setdefault((name, q.lang, q.split), []).append(reciprocal_rank(searcher, q, ids))
    for searcher, *_ in sets.values():
        searcher.weights = searcher.weights.but(lexical=shipped().lexical)
    return {key: float(np.mean(r)) for key, r in found.items()}


def main() -> None:
    args = arguments(__doc__, RESULTS / "ranking_levers.md")
    print(f"CPU: {cpu()}", flush=True)
    model = load_model(args.model)
    rows: dict[str, dict] = {}
    with encoded_sets(args, model) as encoded:
        sets = {
            name: (searcher, queries, vectors, [match_ratio(searcher, q.text) for q in queries])
            for name, (searcher, queries, vectors) in encoded.items()
        }
        rows["shipped hybrid"] = measure(sets)
        for m, beta in FEEDBACK:
            rows[f"feedback, m {m}, beta {beta}"] = measure(sets, feedback=(m, beta))
            print(list(rows)[-1], flush=True)
        for a, b in MATCH:
            rows[f"lexical weight {a} + {b} x match"] = measure(sets, match=(a, b))
            print(list(rows)[-1], flush=True)
    mean = {label: float(np.mean([row[n, lang, "tune"] for n, lang in CELLS])) for label, row in rows.items()}
    lines = [
        "# Two ranking levers measured on the tune halves, not shipped",
        "",
        "Written by `python -m benchmarks.experiments.ranking_levers`; do not edit by hand. MRR@10, hybrid with "
        "the shipped query centering and lexical weight unless the row says otherwise.",
        "",
        f"CPU: {cpu()}",
        "",
        *header("ranking", last="mean of tune"),
    ]
    lines += [f"| {label} | {cells(row)} | {mean[label]:.4f} |" for label, row in rows.items()]
    best = max(mean, key=mean.get)
    lines += ["", f"best tune mean: {best} ({mean[best]:.4f}, shipped {mean['shipped hybrid']:.4f})"]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
