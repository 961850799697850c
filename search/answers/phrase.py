"""Phrase evidence: how long a run of an Arabic query's words a passage holds in the same order.

BM25 counts words wherever they stand. Someone who types a remembered phrase of a hadith, a verse or
a line of poetry wants the passage that holds that phrase, and in a collection where the same
narrators' chains and formulas recur in hundreds of passages, many passages hold its words. Hybrid
therefore adds, for an Arabic query, a weight (search/weights.json) x (the longest run of the query's words found in a
passage in the query's order, as a share of its words), counting runs of a few words or more,
to its best RERANK candidates. Words are compared as BM25 reads them, unstemmed
(:func:`jisr.arabic.terms`). Chosen on the tune halves of both labeled sets
(benchmarks/fit_phrase_weight.py): it lifts the hadith set's typed phrases and leaves XQuAD's Arabic
questions as they were (benchmarks/results/phrase_weight.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jisr.arabic import terms

RERANK = 20  # the best candidates by hybrid's score that are read for phrases


def longest_run(query: Sequence[str], passage: Sequence[str]) -> int:
    """The most consecutive words of ``query`` that ``passage`` holds consecutively, in that order."""
    at: dict[str, list[int]] = {}
    for j, word in enumerate(passage):
        at.setdefault(word, []).append(j)
    best, ending = 0, {}  # ending[j]: length of the run that ends at passage word j with the last query word
    for word in query:
        ending = {j: ending.get(j - 1, 0) + 1 for j in at.get(word, ())}
        best = max(best, *ending.values()) if ending else best
    return best


def shares(query: str, texts: Sequence[str], min_run: int) -> np.ndarray:
    """For each text, its longest run of ``query``'s words (``min_run`` or more, else 0) over the query's
    words. Fewer words in order than ``min_run`` are ordinary co-occurrence, which BM25 already counts."""
    words = terms(query, stems=False)
    out = np.zeros(len(texts))
    if len(words) < min_run:
        return out
    for i, text in enumerate(texts):
        run = longest_run(words, terms(text, stems=False))
        out[i] = run / len(words) if run >= min_run else 0.0
    return out
