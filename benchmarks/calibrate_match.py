"""Choose where a result stops being a strong match and becomes weak, then none, on the tune halves.

A score means nothing to a reader by itself, and the best passage of a question the collection cannot
answer still ranks first. This script ranks questions that have an answer in the collection and
questions that have none, and draws two lines per mode and query language (Arabic, other), on the
tune halves only. A result is read by its score plus ``spread`` x how far its ranking's best score stands
above the next ones (:func:`jisr.answers.match.background`); ``spread`` is the one of SPREADS under which
answerable and unanswerable questions' best results separate best (ROC AUC; ties: the smallest). Then:

  weak   below it a result is "none": the line that 95% of answerable questions' best results reach
  strong at or above it "strong": the line that only 10% of unanswerable questions' best results reach
         (never below the weak line)

each drawn with a margin, so that questions on other topics (the held-out half's articles and chapters)
still meet 5% and 90%: the one-sided 95% bound of the quantile over a bootstrap that resamples whole
topics (an XQuAD article, a hadith; a random string is its own), since questions on one topic are
scored alike.

Unanswerable questions, all from what jisr already measures quality on:
  article removed  an XQuAD question, its own article filtered out of the XQuAD collection
  other set        XQuAD questions against the hadith collection, and the hadith queries against XQuAD
  random           strings of random Latin or Arabic letters, against both collections

The held-out halves are printed beside the tune halves and never used to choose. The lines are written
to search/answers/match.json under the model's and the companion's fingerprints (a quick run: beside its
results), where search reads them (:mod:`jisr.answers.match`). Usage:
    pip install 'jisr[eval]'
    python -m benchmarks.calibrate_match [--xquad ../shared/data/xquad] [--work DIR] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.labeled import arguments, encoded_sets
from benchmarks.quick import RESULTS
from jisr.answers import match
from jisr.answers.filters import parse
from jisr.answers.query import MODES
from jisr.embeddings import load_model

WEAK_QUANTILE = 0.05  # of answerable questions' best scores: below it, "none"
STRONG_QUANTILE = 0.90  # of unanswerable questions' best scores: at or above it, "strong"
BOOTSTRAP = 500  # resamples of the tune half's topics for each line's margin
SPREADS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
RANDOM = 200  # random strings, half Latin and half Arabic letters; alternate ones are tune and held out
KINDS = ("answerable", "article removed", "other set", "random")


def random_strings(n: int, seed: int = 20261203) -> list[str]:
    """``n`` strings of 1-4 words of random letters, alternately Latin and Arabic: queries nothing answers."""
    rng = random.Random(seed)
    latin, arabic = "abcdefghijklmnopqrstuvwxyz", "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    out = []
    for i in range(n):
        letters = latin if i % 2 == 0 else arabic
        out.append(
            " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(rng.randint(1, 4)))
        )
    return out


def best_scores(searcher, texts: list[str], vectors: np.ndarray, companion: list, where: list) -> dict[str, list]:
    """{mode: each query's best scores (the first and the next match.NEXT, in ranked order)} with each
    query's filter (None: the whole collection)."""
    out: dict[str, list] = {}
    for mode in MODES:
        tops = []
        for text, v, c, w in zip(texts, vectors, companion, where):
            _, scores, _ = searcher.rank(text, mode, lang="any", vector=v, companion=c, where=w)
            tops.append(tuple(float(x) for x in scores[: match.NEXT + 1]))
        out[mode] = tops
    return out


def collect(sets: dict) -> list[tuple[str, str, str, str, tuple]]:
    """(mode, query group, kind, half, best scores) of every ranked question of every kind."""
    rows = []

    def add(searcher, texts, vectors, halves, topics, kind, where=None):
        companion = searcher.companion_queries(texts)
        tops = best_scores(searcher, texts, vectors, companion, where or [None] * len(texts))
        groups = [match.group(t) for t in texts]
        for mode, scores in tops.items():
            rows.extend((mode, g, kind, h, s, t) for g, h, s, t in zip(groups, halves, scores, topics))

    for name, (searcher, queries, vectors) in sets.items():
        texts, halves = [q.text for q in queries], [q.split for q in queries]
        # documents are a{article}-p{paragraph}.txt (XQuAD) and h{number}.txt (a hadith each)
        topics = [next(iter(q.relevant)).split("-")[0] for q in queries]
        print(f"{name}: {len(texts)} questions", flush=True)
        add(searcher, texts, vectors, halves, topics, "answerable")
        if name == "xquad":  # leave the question's article out
            where = [parse({"not": {"source": {"prefix": t + "-"}}}) for t in topics]
            add(searcher, texts, vectors, halves, topics, "article removed", where)
        other = next(s for n, (s, _, _) in sets.items() if n != name)
        add(other, texts, vectors, halves, topics, "other set")
    strings = random_strings(RANDOM)
    halves = ["tune" if i % 4 < 2 else "test" for i in range(len(strings))]  # both alphabets in both halves
    for searcher, _, _ in sets.values():
        add(searcher, strings, searcher.encode_queries(strings), halves, strings, "random")
    return rows


def read(scores: tuple, spread: float) -> float:
    """What a ranking's best result is read by under ``spread`` (-inf for an empty ranking)."""
    if not scores:
        return float("-inf")
    behind = match.background(scores)
    return scores[0] + (spread * (scores[0] - behind) if behind is not None else 0.0)


def level(scores: tuple, lines: match.Lines) -> str:
    return lines.of(scores[0], match.background(scores)) if scores else "none"


def auc(good: np.ndarray, bad: np.ndarray) -> float:
    """The chance that an answerable question's best result reads above an unanswerable one's."""
    ranks = np.argsort(np.argsort(np.concatenate([good, bad]))) + 1
    return float((ranks[: len(good)].sum() - len(good) * (len(good) + 1) / 2) / (len(good) * len(bad)))


def bounded_quantile(values: list[float], topics: list[str], q: float, upper: bool, seed: int = 7) -> float:
    """The ``q`` quantile of ``values``, moved to the one-sided 95% bound (``upper``: above) of its estimates
    over :data:`BOOTSTRAP` resamples of whole topics."""
    by_topic: dict[str, list[float]] = defaultdict(list)
    for v, t in zip(values, topics):
        by_topic[t].append(v)
    groups = [np.array(v) for v in by_topic.values()]
    rng = np.random.default_rng(seed)
    estimates = [
        np.quantile(np.concatenate([groups[i] for i in rng.integers(len(groups), size=len(groups))]), q)
        for _ in range(BOOTSTRAP)
    ]
    return float(np.quantile(estimates, 0.95 if upper else 0.05))


def lines(rows, half: str = "tune") -> dict[str, dict[str, dict[str, float]]]:
    """{mode: {group: {"weak", "strong", "spread"}}} drawn on ``half``."""
    scores = defaultdict(lambda: ([], []))
    for mode, group, kind, h, s, topic in rows:
        if h == half and s:
            scores[mode, group][kind != "answerable"].append((s, topic))
    out: dict = defaultdict(dict)
    for (mode, group), (good, bad) in sorted(scores.items()):
        if not good or not bad:
            continue
        separation = {
            c: auc(np.array([read(s, c) for s, _ in good]), np.array([read(s, c) for s, _ in bad])) for c in SPREADS
        }
        spread = min(c for c in SPREADS if separation[c] >= max(separation.values()) - 1e-4)
        weak = bounded_quantile([read(s, spread) for s, _ in good], [t for _, t in good], WEAK_QUANTILE, False)
        strong = max(
            weak, bounded_quantile([read(s, spread) for s, _ in bad], [t for _, t in bad], STRONG_QUANTILE, True)
        )
        out[mode][group] = {
            "weak": round(weak, 4),
            "strong": round(strong, 4),
            "spread": spread,
            "auc": round(separation[spread], 4),
        }
    return dict(out)


def drawn(entry: dict) -> match.Lines:
    return match.Lines(entry["weak"], entry["strong"], entry["spread"])


def table(rows, chosen: dict) -> list[str]:
    """Per mode, group, kind and half: how many questions and the share called strong, weak and none."""
    counts = defaultdict(lambda: np.zeros(3))
    for mode, group, kind, half, s, _ in rows:
        if group in chosen.get(mode, {}):
            counts[mode, group, kind, half][match.LEVELS.index(level(s, drawn(chosen[mode][group])))] += 1
    out = [
        "| mode | query | kind | half | questions | strong | weak | none | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (mode, group, kind, half), c in sorted(
        counts.items(), key=lambda kv: (MODES.index(kv[0][0]), kv[0][1], KINDS.index(kv[0][2]), kv[0][3] != "tune")
    ):
        n = c.sum()
        share = c / n
        target = (
            ("none <= 5%: " + ("met" if share[2] <= 0.05 else "missed"))
            if kind == "answerable"
            else ("weak or none >= 90%: " + ("met" if share[1] + share[2] >= 0.90 else "missed"))
        )
        out.append(
            f"| {mode} | {group} | {kind} | {'tune' if half == 'tune' else 'held-out'} | {int(n)} | "
            f"{share[0]:.1%} | {share[1]:.1%} | {share[2]:.1%} | {target} |"
        )
    return out


def pooled(rows, chosen: dict, mode: str = "hybrid") -> list[str]:
    """The issue's two figures on the held-out halves, every query group and kind together, for ``mode``."""
    flagged = {"answerable": [0, 0], "unanswerable": [0, 0]}
    for m, group, kind, half, s, _ in rows:
        if m == mode and half == "test" and group in chosen.get(mode, {}):
            said = level(s, drawn(chosen[mode][group]))
            side = "answerable" if kind == "answerable" else "unanswerable"
            hit = said == "none" if side == "answerable" else said != "strong"
            flagged[side][0] += hit
            flagged[side][1] += 1
    a, u = flagged["answerable"], flagged["unanswerable"]
    return [
        f"held-out, {mode}: {u[0] / max(u[1], 1):.1%} of {u[1]} unanswerable questions flagged weak or none "
        f"(target >= 90%); {a[0] / max(a[1], 1):.1%} of {a[1]} answerable ones flagged none (target <= 5%)"
    ]


def main() -> None:
    args = arguments(__doc__, RESULTS / "match.md")
    print(f"CPU: {cpu()}", flush=True)
    model = load_model(args.model)
    with encoded_sets(args, model) as sets:
        rows = collect(sets)
        searcher = next(iter(sets.values()))[0]
        key = match.key(searcher.index.manifest)
    chosen = lines(rows)
    report = [
        "# Strong, weak and no match: the lines, chosen on the tune halves",
        "",
        "Written by `python -m benchmarks.calibrate_match`; do not edit by hand. A result is read by its score "
        "+ spread x how far its ranking's best score stands above the mean of the next "
        f"{match.NEXT}, and is `strong` at or above the strong line, `none` below the weak line. Weak line: "
        f"the {WEAK_QUANTILE:.0%} quantile of answerable questions' best results; strong line: the "
        f"{STRONG_QUANTILE:.0%} quantile of unanswerable questions' best results (XQuAD with the question's "
        f"article filtered out, each labeled set's questions against the other collection, {RANDOM} random "
        "strings), each moved to its one-sided 95% bound over resamples of the tune half's topics "
        "(articles, hadiths), on the tune halves only.",
        "",
        f"CPU: {cpu()}",
        "",
        f"Model and companion: `{key}`",
        "",
        *pooled(rows, chosen),
        "",
        "| mode | query | spread | AUC (tune) | weak line | strong line |",
        "|---|---|---|---|---|---|",
        *(
            f"| {mode} | {group} | {v['spread']} | {v['auc']:.4f} | {v['weak']:.4f} | {v['strong']:.4f} |"
            for mode, groups in chosen.items()
            for group, v in groups.items()
        ),
        "",
        *table(rows, chosen),
    ]
    Path(args.out).write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))
    file = args.out.with_suffix(".match.json") if args.quick else match.TABLE
    match.write(
        file,
        key,
        {
            mode: {g: {n: v[n] for n in ("weak", "strong", "spread")} for g, v in groups.items()}
            for mode, groups in chosen.items()
        },
        "benchmarks/calibrate_match.py",
    )
    print(f"wrote the lines of {key} to {file}")


if __name__ == "__main__":
    main()
