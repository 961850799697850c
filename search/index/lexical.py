"""BM25 over normalized Arabic words and their stems: the part of ranking that matches words, not meaning.

Like a FAISS index, it knows its texts only by position. Each segment of the index has its own
postings, written once at build time and memory-mapped when opened, so opening an index costs
nothing and a query touches only the postings of its own terms. A posting stores BM25's
term-frequency part; the IDF is applied at query time from the document frequencies of all
segments together, as Lucene does, so a passage scores the same whichever segment holds it.
The formula is bm25s's default ("lucene": k1=1.5, b=0.75), and a test checks the two agree.
As Lucene keeps a term count and a length norm rather than a score, a posting holds its term count
in a byte (tf.npy; counts above 255 read as 255) and each row its length norm (norms.npy): the
saturation tf / (tf + norm) is computed when a query reads the posting, in float32, the same way
everywhere. Segments written before this kept that saturation as a float (weights.npy: 8 bytes a
posting rather than 5) and are read as they are.

A term in at least 1/DENSE_SHARE of a segment's passages (في, من, على: in nearly every one) also
gets a dense column of its term counts, a byte per passage, saturated and added in one pass instead
of scattering its postings one by one: such terms hold most of a typical query's postings
(benchmarks/results/decisions.md). The columns are a faster copy of those postings; a segment written
before them answers the same, and one whose columns hold the saturation as floats (dense.npy float32,
4 bytes a passage) is read as it is.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from jisr import arabic

K1, B = 1.5, 0.75
# Characters kept of a term: longer "words" are junk (URLs, runs of letters), and this bounds the vocabulary's width.
MAX_TERM = 32
FILES = ("terms.npy", "starts.npy", "rows.npy")  # and the postings' weights, in one of two forms:
COUNTS = ("tf.npy", "norms.npy")  # term counts and row norms
WEIGHTS = ("weights.npy",)  # their saturation, float32 (segments written before COUNTS)
MAX_TF = 255
DENSE_FILES = ("dense_terms.npy", "dense.npy")  # optional: segments written before them lack them
DENSE_SHARE = 8
BLOCK = 64  # rows whose maximum bounds a segment's n best (_best_rows)


def terms(text: str) -> list[str]:
    """The terms BM25 indexes for a text, as arabic.terms gives them, cut to MAX_TERM characters."""
    return [t[:MAX_TERM] for t in arabic.terms(text)]


def write(folder: Path, texts: Iterable[str]) -> int:
    """Write the postings of ``texts`` (row i is text i) into ``folder``; return the number of texts.

    A term's postings are its rows in order, so one stable sort of the terms (in 4-byte numbers) gives
    every term's postings at once, a text's repeats of a term side by side, in less memory than np.unique
    over 8-byte (term, row) keys held (benchmarks/results/decisions.md)."""
    vocabulary: dict[str, int] = {}
    numbered, lengths = array("i"), array("i")  # each term's number in ``vocabulary``; each text's term count
    known = vocabulary.get
    for text in texts:
        found = terms(text) or [""]  # an empty text still has a length, as in bm25s
        lengths.append(len(found))
        numbers = list(map(known, found))  # looked up in C: most terms are known after the first rows
        if None in numbers:
            numbers = [vocabulary.setdefault(t, len(vocabulary)) if n is None else n for t, n in zip(found, numbers)]
        numbered.extend(numbers)
    n = len(lengths)
    folder.mkdir(parents=True, exist_ok=True)
    words = np.array(sorted(vocabulary) or [""])
    rank = np.empty(max(len(vocabulary), 1), np.int32)
    rank[[vocabulary[w] for w in words.tolist() if w in vocabulary]] = np.arange(len(vocabulary), dtype=np.int32)
    count = np.frombuffer(lengths, np.int32) if n else np.zeros(0, np.int32)
    term_of = rank[np.frombuffer(numbered, np.int32)] if len(numbered) else np.zeros(0, np.int32)
    del numbered
    order = np.argsort(term_of, kind="stable")
    term_of = term_of[order]
    row_of = np.repeat(np.arange(n, dtype=np.int32), count)[order]
    del order
    first = np.ones(len(term_of), bool)  # the first posting of each (term, row)
    first[1:] = (term_of[1:] != term_of[:-1]) | (row_of[1:] != row_of[:-1])
    at = np.flatnonzero(first)
    tf = np.diff(np.append(at, len(term_of)))
    term_of, row_of = term_of[at], row_of[at]
    length = count.astype(np.float64)
    norms = norm(length, length.mean() if n else 1.0)
    tf = np.minimum(tf, MAX_TF).astype(np.uint8)
    starts = np.searchsorted(term_of, np.arange(len(words) + 1)).astype(np.int64)
    np.save(folder / "terms.npy", words)
    np.save(folder / "starts.npy", starts)
    np.save(folder / "rows.npy", row_of.astype(np.int32))
    np.save(folder / "tf.npy", tf)
    np.save(folder / "norms.npy", norms)
    common = np.flatnonzero(np.diff(starts) * DENSE_SHARE >= max(n, 1))
    dense = np.zeros((len(common), n), np.uint8)
    for column, t in enumerate(common):
        s = slice(starts[t], starts[t + 1])
        dense[column, row_of[s]] = tf[s]
    np.save(folder / "dense_terms.npy", common.astype(np.int64))
    np.save(folder / "dense.npy", dense)
    return n


class Postings:
    """One segment's postings, memory-mapped; ``lookup`` finds a term's number by binary search."""

    def __init__(self, folder: Path, size: int):
        # plain views of the maps: indexing a np.memmap runs Python code, thousands of times a query
        load = lambda name: np.asarray(np.load(folder / name, mmap_mode="r", allow_pickle=False))  # noqa: E731
        self.folder = folder
        self.terms, self.starts, self.rows = (load(f) for f in FILES)
        self.size = size
        counted = (folder / COUNTS[0]).exists()
        self._weight_maps = [(name, load(name)) for name in (COUNTS if counted else WEIGHTS)]
        if counted:
            (_, self.tf), (_, self.norms) = self._weight_maps
            self.weights = None
            agree = len(self.tf) == len(self.rows) and self.tf.dtype == np.uint8 and self.norms.shape == (size,)
        else:
            ((_, self.weights),) = self._weight_maps
            agree = len(self.weights) == len(self.rows)
        if len(self.starts) != len(self.terms) + 1 or not agree or self.starts[-1] != len(self.rows):
            raise ValueError("the lexical index files disagree with each other")
        self.dense, self.column = np.zeros((0, size), np.float32), {}  # term number -> its dense column
        if (folder / DENSE_FILES[0]).exists():
            common, self.dense = (load(f) for f in DENSE_FILES)
            if (
                self.dense.shape != (len(common), size)
                or (len(common) and not 0 <= common.min() <= common.max() < len(self.terms))
                or self.dense.dtype not in ((np.uint8, np.float32) if counted else (np.float32,))
            ):
                raise ValueError("the lexical index files disagree with each other")
            self.column = {int(t): c for c, t in enumerate(common)}

    def maps(self) -> list[tuple[Path, np.ndarray]]:
        """Each file with its memory map (for a warm-up)."""
        maps = list(zip(FILES, (self.terms, self.starts, self.rows))) + self._weight_maps
        maps += [(DENSE_FILES[1], self.dense)] if self.column else []
        return [(self.folder / name, array) for name, array in maps]

    def lookup(self, term: str) -> int | None:
        return self.numbers([term])[0]

    def numbers(self, terms_: Sequence[str]) -> list[int | None]:
        """Each term's number, or None where the segment lacks it: one binary search for them all."""
        if not terms_ or not len(self.terms):
            return [None] * len(terms_)
        at = np.minimum(np.searchsorted(self.terms, terms_), len(self.terms) - 1)
        return [int(i) if found else None for i, found in zip(at, self.terms[at] == np.asarray(terms_))]

    def postings(self, i: int) -> slice:
        """Where term ``i``'s postings lie in ``rows`` and ``weights``."""
        return slice(int(self.starts[i]), int(self.starts[i + 1]))

    def column_weights(self, c: int) -> np.ndarray:
        """The saturation of dense column ``c``'s rows, float32 (0 where a row lacks its term)."""
        column = np.asarray(self.dense[c])
        return saturate(column, self.norms) if column.dtype == np.uint8 else column

    def df(self, i: int) -> int:
        """The passages of this segment that have term ``i``."""
        return int(self.starts[i + 1] - self.starts[i])


def norm(length: np.ndarray, mean_length: float) -> np.ndarray:
    """BM25's length norm of texts of ``length`` terms, float32: what a row keeps (norms.npy)."""
    return (K1 * ((1 - B) + B * np.asarray(length, np.float64) / mean_length)).astype(np.float32)


def saturate(tf: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """BM25's term-frequency part of postings with term counts ``tf`` in rows of length norms ``norms``,
    in float32: every path (sparse, dense column, Milvus's candidates) computes it this one way."""
    tf = np.asarray(tf, np.float32)
    return tf / (tf + norms)


def saturation(tf: np.ndarray, length: np.ndarray, mean_length: float) -> np.ndarray:
    """BM25's term-frequency part of each posting (term count ``tf`` in a text of ``length`` terms), float32."""
    return saturate(np.minimum(tf, MAX_TF), norm(length, mean_length))


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
    """Per unique query term: its BM25 weight (count x IDF over all segments) and its number in each
    segment (or None); and the query's word coverage (:func:`coverage`)."""
    query_terms = terms(query)
    unique = list(dict.fromkeys(query_terms))
    words = [t[:MAX_TERM] for t in arabic.terms(query, stems=False)]
    found = [p.numbers(unique) for p in segments]  # per segment, per unique term: its number or None
    n = sum(p.size for p in segments)
    df = [sum(p.df(ts[i]) for p, ts in zip(segments, found) if ts[i] is not None) for i in range(len(unique))]
    # a repeated query term counts each time, as in bm25s
    weight = [query_terms.count(t) * idf(d, n) for t, d in zip(unique, df)]
    return weight, found, coverage(words, dict(zip(unique, df)), n)


def ceiling(segments: Sequence[Postings], query: str) -> float:
    """The most BM25 any passage could score for ``query``: every term's weight, each term saturated."""
    return float(sum(_query(segments, query)[0]))


def _add_up(
    p: Postings, pieces: list[tuple[int, float]], deleted: np.ndarray | None = None, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, BM25) of the rows that have any of the terms ``pieces`` ((term number, weight)) in one
    segment, less the ``deleted`` rows (a mask); with ``n``, only the ``n`` best of them, sorted by row.

    Every way of adding up adds a row's terms in the query's order in float32, so a passage scores
    the same (to the bit) whichever way its segment takes."""
    if not pieces:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    pieces = [(t, p.postings(t), np.float32(w)) for t, w in pieces]
    if sum(s.stop - s.start for _, s, _ in pieces) * 8 < p.size:  # few postings: add them up sparsely
        found, weights = _weighted(p, pieces)
        rows, where = np.unique(found, return_inverse=True)
        rows, total = rows.astype(np.int64), np.zeros(len(rows), np.float32)
        np.add.at(total, where, weights)
        if deleted is not None:
            rows, total = rows[~deleted[rows]], total[~deleted[rows]]
        return (rows, total) if n is None else top(rows, total, n)
    total = np.zeros(p.size, np.float32)
    for is_column, run in itertools.groupby(pieces, key=lambda piece: piece[0] in p.column):
        if is_column:
            for t, _, w in run:
                total += p.column_weights(p.column[t]) * w
        else:  # a run of terms without a column: their postings scattered in one call, in the query's order
            np.add.at(total, *_weighted(p, list(run)))
    if deleted is not None:
        total[deleted] = 0
    rows = _best_rows(total, n) if n is not None and 0 < n < p.size else np.flatnonzero(total)
    return rows, total[rows]


def _weighted(p: Postings, pieces: list[tuple[int, slice, np.float32]]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``pieces``' postings (term number, postings, weight), one term after another, and each
    posting's saturation times its term's weight, float32: one numpy call for all of them, where there
    was one per term and segment."""
    spans = [s for _, s, _ in pieces]
    rows = np.concatenate([p.rows[s] for s in spans])
    weight = np.repeat(np.array([w for _, _, w in pieces], np.float32), [s.stop - s.start for s in spans])
    if p.weights is not None:
        return rows, np.concatenate([p.weights[s] for s in spans]) * weight
    return rows, saturate(np.concatenate([p.tf[s] for s in spans]), p.norms[rows]) * weight


def _best_rows(total: np.ndarray, n: int) -> np.ndarray:
    """The rows of the ``n`` largest positive values of ``total`` (any of those tied with the n-th), sorted.

    The n-th largest maximum of blocks of BLOCK rows is a floor: n blocks hold a value at least that
    high, so the n best are all above it. Only the few rows above the floor are partitioned: over
    all rows, argpartition was a large share of a query's BM25 time (benchmarks/results/decisions.md)."""
    maxima = np.maximum.reduceat(total, np.arange(0, len(total), BLOCK))
    floor = np.partition(maxima, len(maxima) - n)[len(maxima) - n] if len(maxima) > n else 0
    rows = np.flatnonzero(total >= floor) if floor > 0 else np.flatnonzero(total)
    if len(rows) > n:
        rows = rows[np.argpartition(-total[rows], n - 1)[:n]]
    return np.sort(rows)


def scores(segments: Sequence[Postings], query: str) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """BM25 of the passages that share a term with ``query``: per segment (rows, scores), and the
    IDF-weighted share of the query's words (not stems) that occur in any segment (:func:`coverage`)."""
    weight, found, share = _query(segments, query)
    return [
        _add_up(p, [(t, w) for t, w in zip(numbers, weight) if t is not None]) for p, numbers in zip(segments, found)
    ], share


def best(
    segments: Sequence[Postings], query: str, n: int, deleted: Sequence[np.ndarray]
) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """As :func:`scores`, over live rows only (``deleted``: a mask per segment), and only each
    segment's ``n`` best: the ``n`` best of all are among them, and a common word's postings no
    longer cost a sort of every passage that has it."""
    weight, found, share = _query(segments, query)
    out = []
    for p, numbers, gone in zip(segments, found, deleted):
        out.append(_add_up(p, [(t, w) for t, w in zip(numbers, weight) if t is not None], gone, n))
    return out, share


def top(ids: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best (ids, scores), sorted by id."""
    if len(ids) > n:
        best = np.argpartition(-scores, n - 1)[:n]
        ids, scores = ids[best], scores[best]
    order = np.argsort(ids)
    return ids[order], scores[order]
