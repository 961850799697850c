"""BM25 over normalized Arabic word tokens: the part of ranking that matches words, not meaning.

Like a FAISS index, it knows its texts only by position: it is built from a list of
texts and answers a query with one score per text, in that order.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from search import arabic


class LexicalIndex:
    """A bm25s index (default parameters) over ``arabic.tokens`` of each text."""

    def __init__(self, texts: Sequence[str]):
        import bm25s  # only loaded by the modes that match words

        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        self._bm25.index([arabic.tokens(t) or [""] for t in texts], show_progress=False)

    def scores(self, query: str) -> tuple[np.ndarray, float]:
        """BM25 of every text, and the share of the query's words that occur in the texts at all."""
        words = arabic.tokens(query)
        terms = [t for t in words if t in self._bm25.vocab_dict]
        if not terms:
            return np.zeros(self.size, dtype=np.float32), 0.0
        return self._bm25.get_scores(terms), len(terms) / len(words)
