"""BM25 over normalized Arabic words and their stems: the part of ranking that matches words, not meaning.

Like a FAISS index, it knows its texts only by position. Each segment of the index has its own
postings, written once at build time and memory-mapped when opened, so opening an index costs
nothing and a query touches only the postings of its own terms. A posting stores BM25's
term-frequency part; the IDF is applied at query time from the document frequencies of all
segments together, as Lucene does, so a passage scores the same whichever segment holds it.
The formula is bm25s's default ("lucene": k1=1.5, b=0.75), and a test checks the two agree.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from search import arabic

K1, B = 1.5, 0.75
MAX_TERM = 32  # characters kept of a term: longer "words" are junk (URLs, runs of letters), and this bounds the vocabulary's width
FILES = ("terms.npy", "starts.npy", "rows.npy", "weights.npy")


def terms(text: str) -> list[str]:
    """The terms BM25 indexes for a text, as arabic.terms gives them, cut to MAX_TERM characters."""
    return [t[:MAX_TERM] for t in arabic.terms(text)]


def write(folder: Path, texts: Iterable[str]) -> int:
    """Write the postings of ``texts`` (row i is text i) into ``folder``; return the number of texts."""
    vocabulary: dict[str, int] = {}
    rows, ids, lengths = [], [], []
    for row, text in enumerate(texts):
        found = terms(text) or [""]  # an empty text still has a length, as in bm25s
        lengths.append(len(found))
        ids.append(np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in found), np.int64, len(found)))
        rows.append(np.full(len(found), row, np.int64))
    n = len(lengths)
    folder.mkdir(parents=True, exist_ok=True)
    words = np.array(sorted(vocabulary) or [""])
    rank = np.empty(max(len(vocabulary), 1), np.int64)
    rank[[vocabulary[w] for w in words.tolist() if w in vocabulary]] = np.arange(len(vocabulary))
    term_rank = rank[np.concatenate(ids)] if ids else np.zeros(0, np.int64)
    row_of = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    keys, tf = np.unique(term_rank * max(n, 1) + row_of, return_counts=True)
    term_of, row_of = np.divmod(keys, max(n, 1))
    length = np.asarray(lengths, np.float64)
    weights = saturation(tf, length[row_of], length.mean() if n else 1.0)
    starts = np.searchsorted(term_of, np.arange(len(words) + 1)).astype(np.int64)
    np.save(folder / "terms.npy", words)
    np.save(folder / "starts.npy", starts)
    np.save(folder / "rows.npy", row_of.astype(np.int32))
    np.save(folder / "weights.npy", weights)
    return n


class Postings:
    """One segment's postings, memory-mapped; ``lookup`` finds a term's slice by binary search."""

    def __init__(self, folder: Path, size: int):
        load = lambda name: np.load(folder / name, mmap_mode="r", allow_pickle=False)  # noqa: E731
        self.terms, self.starts, self.rows, self.weights = (load(f) for f in FILES)
        self.size = size
        if len(self.starts) != len(self.terms) + 1 or len(self.rows) != len(self.weights) \
                or self.starts[-1] != len(self.rows):
            raise ValueError("the lexical index files disagree with each other")

    def lookup(self, term: str) -> tuple[int, int] | None:
        i = int(np.searchsorted(self.terms, term))
        if i < len(self.terms) and self.terms[i] == term:
            return int(self.starts[i]), int(self.starts[i + 1])
        return None


def saturation(tf: np.ndarray, length: np.ndarray, mean_length: float) -> np.ndarray:
    """BM25's term-frequency part of each posting (term count ``tf`` in a text of ``length`` terms), float32."""
    norm = K1 * ((1 - B) + B * length / mean_length)
    return (tf / (norm + tf)).astype(np.float32)


def coverage(words: Sequence[str], df: Mapping[str, int], n: int) -> float:
    """The share of a query's words that the index holds, each word weighted by its IDF.

    A word that every passage has tells nothing: an English hadith translation's "ﷺ" reads as four
    Arabic words found in nearly every hadith, and counted by number they let BM25 over those words
    reorder an English query's close passages. Weighted by IDF (a word the index lacks weighs the
    most), such a query scores near 0 and an Arabic query near 1.
    """
    weights = [idf(df.get(w, 0), n) for w in words]
    total = sum(weights)
    return sum(x for w, x in zip(words, weights) if df.get(w, 0)) / total if total else 0.0


def idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _query(segments: Sequence[Postings], query: str):
    """Per unique query term: its BM25 weight (count x IDF over all segments) and its posting span in
    each segment (or None); and the query's word coverage (:func:`coverage`)."""
    query_terms = terms(query)
    unique = list(dict.fromkeys(query_terms))
    words = [t[:MAX_TERM] for t in arabic.terms(query, stems=False)]
    found = [[p.lookup(t) for t in unique] for p in segments]  # per segment, per unique term: a slice or None
    n = sum(p.size for p in segments)
    df = [sum(spans[i][1] - spans[i][0] for spans in found if spans[i]) for i in range(len(unique))]
    # a repeated query term counts each time, as in bm25s
    weight = [query_terms.count(t) * idf(d, n) for t, d in zip(unique, df)]
    return weight, found, coverage(words, dict(zip(unique, df)), n)


def _add_up(p: Postings, pieces: list[tuple[slice, float]], deleted: np.ndarray | None = None,
            n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, BM25) of the rows in the postings ``pieces`` ((span, term weight)) of one segment,
    less the ``deleted`` rows (a mask); with ``n``, only the ``n`` best of them, sorted by row."""
    if not pieces:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    rows = np.concatenate([p.rows[s] for s, _ in pieces])
    weights = np.concatenate([p.weights[s] * np.float32(w) for s, w in pieces])
    if len(rows) * 8 < p.size:  # few postings: add them up sparsely
        rows, where = np.unique(rows, return_inverse=True)
        rows, total = rows.astype(np.int64), np.bincount(where, weights).astype(np.float32)
        if deleted is not None:
            rows, total = rows[~deleted[rows]], total[~deleted[rows]]
        return (rows, total) if n is None else top(rows, total, n)
    total = np.bincount(rows, weights, minlength=p.size)
    if deleted is not None:
        total[deleted] = 0
    if n is not None and 0 < n < p.size:  # the n best straight from the dense sums, no list of every match
        rows = np.sort(np.argpartition(-total, n - 1)[:n])
        rows = rows[total[rows] > 0]
    else:
        rows = np.flatnonzero(total)
    return rows, total[rows].astype(np.float32)


def scores(segments: Sequence[Postings], query: str) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """BM25 of the passages that share a term with ``query``: per segment (rows, scores), and the
    IDF-weighted share of the query's words (not stems) that occur in any segment (:func:`coverage`)."""
    weight, found, share = _query(segments, query)
    return [_add_up(p, [(slice(*span), w) for span, w in zip(spans, weight) if span])
            for p, spans in zip(segments, found)], share


def best(segments: Sequence[Postings], query: str, n: int, deleted: Sequence[np.ndarray]
         ) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """As :func:`scores`, over live rows only (``deleted``: a mask per segment), and only each
    segment's ``n`` best: the ``n`` best of all are among them, and a common word's postings no
    longer cost a sort of every passage that has it."""
    weight, found, share = _query(segments, query)
    out = []
    for p, spans, gone in zip(segments, found, deleted):
        pieces = [(slice(*span), w) for span, w in zip(spans, weight) if span]
        out.append(_add_up(p, pieces, gone, n))
    return out, share


def top(ids: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best (ids, scores), sorted by id."""
    if len(ids) > n:
        best = np.argpartition(-scores, n - 1)[:n]
        ids, scores = ids[best], scores[best]
    order = np.argsort(ids)
    return ids[order], scores[order]
