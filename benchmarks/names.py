"""Names across scripts: hybrid's ``names`` weight chosen on the tune halves, and MRR@10 with and without it.

Each weight of the grid is measured on the tune halves of both labeled sets (XQuAD and the hadith set), hybrid
ranking, lang any, each query's vectors computed once; the chosen weight has the best mean of the two English
tune cells (an Arabic query is never read for names, so its cells cannot move: they are measured at 0 and at
the chosen weight to show it), ties within TIE going to the smallest. The held-out halves are printed, never
used to choose. Also: how many English questions got Arabic spellings of their names, MRR@10 of those alone,
and the time :func:`jisr.answers.names.arabic_names` adds to an Arabic query (it returns at the script check)
and to an English one. Usage:
    python -m benchmarks.names [--xquad ../shared/data/xquad] [--work DIR] [--model PATH] [--out FILE [--quick]]
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import CELLS, HALVES, arguments, cells, header, labeled_sets, reciprocal_rank, record_choice
from benchmarks.quick import RESULTS
from jisr.answers import names
from jisr.embeddings import load_model
from jisr.index.vocabulary import Vocabulary

WEIGHTS = (0.0, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2)
TIE = 0.001
ENGLISH = [(name, lang) for name, lang in CELLS if lang == "en"]
SYNTHETIC = 1_000_000  # random Arabic terms of a vocabulary the size of a 1M-passage index's (a quick run: 10,000)


def synthetic_build(size: int) -> tuple[int, float, float, int]:
    """(terms, seconds, MB of memory the build added, skeletons) of :class:`jisr.answers.names.Skeletons` over
    ``size`` random Arabic terms of 3 to 9 letters, seeded: the cost at a commit's first English query at scale."""
    rng = random.Random(0)
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    vocabulary = Vocabulary(
        {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))): rng.randint(1, 50) for _ in range(size)}
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    built = names.Skeletons(vocabulary)
    seconds = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return len(vocabulary), seconds, grown, len(built.exact)


def main() -> None:
    args = arguments(__doc__, RESULTS / "names.md")
    print(f"CPU: {cpu()}", flush=True)
    model = load_model(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        sets = labeled_sets(Path(args.work or tmp), args, model)
        prepared = {}
        for name, (searcher, queries) in sets.items():
            texts = [q.text for q in queries]
            prepared[name] = (searcher, queries, searcher.encode_queries(texts), searcher.companion_queries(texts))
            print(f"{name}: {len(queries)} questions encoded", flush=True)

        def measure(weight: float, langs: tuple[str, ...]) -> tuple[dict, dict]:
            """MRR@10 per (set, language, half) of the questions in ``langs``; and each question's reciprocal rank."""
            got: dict[tuple[str, str, str], list[float]] = {}
            each: dict[tuple[str, int], float] = {}
            for name, (searcher, queries, vectors, companions) in prepared.items():
                searcher.weights = searcher.weights.but(names=weight)
                for i, (q, v, c) in enumerate(zip(queries, vectors, companions)):
                    if q.lang in langs:
                        ids, _, _ = searcher.rank(q.text, "hybrid", lang="any", vector=v, companion=c)
                        each[name, i] = reciprocal_rank(searcher, q, ids)
                        got.setdefault((name, q.lang, q.split), []).append(each[name, i])
            return {key: float(np.mean(r)) for key, r in got.items()}, each

        rows, each = {}, {}
        for weight in WEIGHTS:
            rows[weight], each[weight] = measure(weight, ("en",) if weight else ("en", "ar"))
            print(weight, rows[weight], flush=True)
        mean = {w: float(np.mean([rows[w][name, lang, "tune"] for name, lang in ENGLISH])) for w in WEIGHTS}
        best = max(mean.values())
        chosen = min(w for w in WEIGHTS if mean[w] >= best - TIE)
        arabic_rows, _ = measure(chosen, ("ar",))
        rows[chosen].update(arabic_rows)
        for w in WEIGHTS:
            if w not in (0.0, chosen):
                rows[w].update({k: v for k, v in rows[0.0].items() if k[1] == "ar"})

        named, timing, built = {}, {"ar": [], "en": []}, {}
        for name, (searcher, queries, _, _) in prepared.items():
            vocabulary = searcher.index.vocabulary()
            started = time.perf_counter()
            fresh = names.Skeletons(vocabulary)  # as a commit's first English query builds them
            built[name] = (len(vocabulary), time.perf_counter() - started, len(fresh.exact))
            for i, q in enumerate(queries):
                started = time.perf_counter()
                found = names.arabic_names(q.text, searcher.index.vocabulary)
                timing[q.lang].append((time.perf_counter() - started) * 1000)
                if q.lang == "en" and found:
                    named.setdefault((name, q.split), []).append(i)

    synthetic = synthetic_build(10_000 if args.quick else SYNTHETIC)
    lines = [
        "# Names across scripts: the `names` weight, chosen on the tune halves",
        "",
        "Written by `python -m benchmarks.names`; do not edit by hand. MRR@10, hybrid, lang any; an Arabic question "
        "is never read for names, so its cells are measured at 0 and at the chosen weight only (the other rows "
        "repeat 0's).",
        "",
        f"CPU: {cpu()}. 2 CPUs shared with four other engineers' work while this ran: timings are of a busy machine.",
        "",
        *header("names weight", last="mean of English tune"),
    ]
    for w in WEIGHTS:
        lines.append(f"| {w}{' (chosen)' if w == chosen else ''} | {cells(rows[w])} | {mean[w]:.4f} |")
    lines += [
        "",
        f"chosen: names = {chosen} (best English tune mean {best:.4f}; ties within {TIE})",
        "",
        "English questions given Arabic spellings of their names, and their MRR@10 without (0) and with the chosen "
        "weight:",
        "",
        "| set | half | English questions with names | MRR@10 at 0 | MRR@10 chosen |",
        "|---|---|---|---|---|",
    ]
    for name, _ in ENGLISH:
        for half in HALVES:
            at = named.get((name, half), [])
            total = sum(1 for q in prepared[name][1] if q.lang == "en" and q.split == half)
            without, withw = (f"{np.mean([each[w][name, i] for i in at]):.4f}" if at else "-" for w in (0.0, chosen))
            shown = "held-out" if half == "test" else half
            lines.append(f"| {name} | {shown} | {len(at)} of {total} | {without} | {withw} |")
    ar, en = (np.percentile(timing[lang], [50, 99]) for lang in ("ar", "en"))
    lines += [
        "",
        f"Time `arabic_names` adds to a query (the skeletons built beforehand, once per commit): Arabic p50 "
        f"{ar[0]:.4f} ms, p99 {ar[1]:.4f} ms; English p50 {en[0]:.3f} ms, p99 {en[1]:.3f} ms (plus, when it finds "
        "names, one more BM25 search on the threads BM25 already runs on, beside the dense search).",
        "",
        "Skeletons built at a commit's first English query: "
        + "; ".join(
            f"{name}: {size} terms in {seconds:.3f} s, {keys} skeleton keys"
            for name, (size, seconds, keys) in built.items()
        )
        + f". A synthetic vocabulary of {synthetic[0]} random Arabic terms (3 to 9 letters; a real one repeats "
        f"more skeletons): {synthetic[1]:.2f} s, {synthetic[2]:.0f} MB more peak memory, {synthetic[3]} skeletons.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    record_choice(args, "names.py", names=chosen)


if __name__ == "__main__":
    main()
