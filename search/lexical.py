"""BM25 over normalized Arabic words and their stems: the part of ranking that matches words, not meaning.

Like a FAISS index, it knows its texts only by position: it is built from a list of
texts and answers a query with one score per text, in that order.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from search import arabic


class LexicalIndex:
    """A bm25s index (default parameters) over ``arabic.terms`` of each text."""

    def __init__(self, texts: Sequence[str]):
        import bm25s  # only loaded by the modes that match words

        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        self._bm25.index([arabic.terms(t) or [""] for t in texts], show_progress=False)

    def scores(self, query: str) -> tuple[np.ndarray, float]:
        """BM25 of every text, and the share of the query's words (not stems) that occur in the texts at all."""
        known = [t for t in arabic.terms(query) if t in self._bm25.vocab_dict]
        words = arabic.terms(query, stems=False)
        if not known:
            return np.zeros(self.size, dtype=np.float32), 0.0
        return self._bm25.get_scores(known), sum(w in self._bm25.vocab_dict for w in words) / len(words)
