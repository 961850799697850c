"""The terms of an index's vocabulary that begin with a prefix, most frequent first: what one is offered while typing.

A prefix's terms are one run of the sorted terms, found by two binary searches; but a one-letter Arabic
prefix (or ``ال``) runs over a large share of the vocabulary, so its most frequent terms cannot be found by
sorting the run per keystroke. Made once per vocabulary (so once per commit), this keeps the terms' counts
in sorted order and, for each block of BLOCK terms, that block's KEEP most frequent: a run's best are then
among its two partial blocks' terms and its whole blocks' lists, a few thousand numbers to partition
whatever the run's length.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

import numpy as np

BLOCK = 1024  # terms a block holds: the most terms a look-up reads one by one, at each end of its run
KEEP = 50  # the most frequent terms listed per block: the most completions one look-up can give
_LAST = chr(0x10FFFF)  # sorts after every character a term can hold: prefix + _LAST ends the prefix's run


class Completions:
    """Sorted ``terms`` with their ``counts`` (passages that hold each), and each block's most frequent."""

    def __init__(self, terms: Sequence[str], counts: Mapping[str, int]):
        self.terms = terms  # sorted; shared with the vocabulary, not copied
        self.counts = np.fromiter((counts[t] for t in terms), np.int64, len(terms))
        n = len(terms)
        padded = np.zeros(-(-n // BLOCK) * BLOCK, np.int64)
        padded[:n] = self.counts
        # most frequent first, the earlier term first among equals (a stable sort of the negated counts)
        order = np.argsort(-padded.reshape(-1, BLOCK), axis=1, kind="stable")[:, :KEEP]
        self.best = (order + np.arange(0, len(padded), BLOCK)[:, None]).astype(np.int64)
        self._rank = (
            int(self.counts.max()) + 1 if n else 1
        )  # key = (max + 1 - count) * n + index: count desc, index asc

    @property
    def nbytes(self) -> int:
        """Memory this holds beyond the terms it shares with the vocabulary."""
        return self.counts.nbytes + self.best.nbytes

    def span(self, prefix: str) -> tuple[int, int]:
        """The run [start, end) of the sorted terms that begin with ``prefix``."""
        return bisect.bisect_left(self.terms, prefix), bisect.bisect_left(self.terms, prefix + _LAST)

    def top(self, prefix: str, k: int) -> list[tuple[str, int]]:
        """The ``k`` (at most KEEP) most frequent terms that begin with ``prefix``, each with its count; among
        terms as frequent, the first in sorted order. An empty prefix begins every term."""
        k = min(k, KEEP)
        start, end = self.span(prefix)
        if end <= start or k <= 0:
            return []
        first, last = -(-start // BLOCK), end // BLOCK  # the whole blocks inside the run
        if last - first < 2:
            found = np.arange(start, end, dtype=np.int64)
        else:
            found = np.concatenate(
                (
                    np.arange(start, first * BLOCK, dtype=np.int64),
                    self.best[first:last].ravel(),
                    np.arange(last * BLOCK, end, dtype=np.int64),
                )
            )
        key = (self._rank - self.counts[found]) * max(len(self.terms), 1) + found
        if len(found) > k:
            key = key[np.argpartition(key, k - 1)[:k]]
        chosen = np.sort(key) % max(len(self.terms), 1)
        return [(self.terms[i], int(self.counts[i])) for i in chosen.tolist()]
