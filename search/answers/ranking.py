"""Ranking modes as composition: one function per signal, and one table of the signals each mode adds.

A mode's score for a candidate passage is the sum of its signals, each times its weight
(:mod:`jisr.weights`; None: 1). The signals:

  passage    cosine of the query and the whole passage
  sentence   cosine of the query and the passage's best sentence (a long passage that answers in
             one sentence is not diluted by the rest)
  bm25       BM25 over normalized Arabic words and their stems
  bm25_share BM25 / the best BM25 of the query x the share of its words the lexical index knows
             (weighted by IDF): counts in full for an Arabic query and fades for an English one,
             where only names and numbers can match
  companion  the companion encoder's cosine of query and passage, for a query not in Arabic on an
             index built with one (:mod:`jisr.embeddings.companion`)
  names      BM25 of the Arabic spellings of a Latin query's names (:mod:`jisr.answers.names`) / its best,
             for a query not in Arabic
  phrase     the phrase evidence of an Arabic query for the best candidates so far
             (:mod:`jisr.answers.phrase`)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from jisr.answers import phrase
from jisr.weights import Weights

# mode -> (signal, the weight it is scaled by: a field of Weights, or None for 1), in the order added
MODES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "dense": (("passage", None),),
    "sentence": (("passage", None), ("sentence", None)),
    "lexical": (("bm25", None),),
    "hybrid": (
        ("passage", None),
        ("sentence", None),
        ("bm25_share", "lexical"),
        ("companion", "companion"),
        ("names", "names"),
        ("phrase", "phrase"),
    ),
}


@dataclass
class Evidence:
    """What the signals read about one query's candidates; expensive parts are read only when a mode asks."""

    query: str
    arabic: bool
    candidates: np.ndarray  # passage ids
    passage_cos: Callable[[], np.ndarray]
    sentence_cos: Callable[[], np.ndarray]
    bm25: np.ndarray
    coverage: float
    companion_cos: Callable[[], np.ndarray | None]  # None: no companion for this query
    texts: Callable[[np.ndarray], list[str]]  # the passages' texts, for the candidates at these positions
    weights: Weights
    names: np.ndarray | None = None  # BM25 of the query's names spelled in Arabic (None: it has none)
    _seen: dict = field(default_factory=dict)

    def once(self, name: str, compute: Callable[[], np.ndarray | None]):
        if name not in self._seen:
            self._seen[name] = compute()
        return self._seen[name]


def _passage(e: Evidence, so_far: np.ndarray) -> np.ndarray:
    return e.once("passage", e.passage_cos)


def _sentence(e: Evidence, so_far: np.ndarray) -> np.ndarray:
    return e.once("sentence", e.sentence_cos)


def _bm25(e: Evidence, so_far: np.ndarray) -> np.ndarray:
    return e.bm25


def _bm25_share(e: Evidence, so_far: np.ndarray) -> np.ndarray:
    top = float(e.bm25.max()) if len(e.bm25) else 0.0
    return e.coverage * e.bm25 / top if top > 0 else np.zeros(len(e.bm25))


def _companion(e: Evidence, so_far: np.ndarray) -> np.ndarray:
    cos = None if e.arabic else e.once("companion", e.companion_cos)
    return np.zeros(len(e.candidates)) if cos is None else cos


def _names(e: Evidence, so_far: np.ndarray) -> np.ndarray:
    top = float(e.names.max()) if e.names is not None and len(e.names) else 0.0
    return e.names / top if top > 0 else np.zeros(len(e.candidates))


def _phrase(e: Evidence, so_far: np.ndarray) -> np.ndarray:
    """The phrase shares of the best :data:`jisr.answers.phrase.RERANK` candidates by the score so far
    (0 for the rest)."""
    out = np.zeros(len(e.candidates))
    if e.arabic:
        best = np.argsort(-so_far, kind="stable")[: phrase.RERANK]
        out[best] = phrase.shares(e.query, e.texts(best), e.weights.phrase_min_run)
    return out


SIGNALS: dict[str, Callable[[Evidence, np.ndarray], np.ndarray]] = {
    "passage": _passage,
    "sentence": _sentence,
    "bm25": _bm25,
    "bm25_share": _bm25_share,
    "companion": _companion,
    "names": _names,
    "phrase": _phrase,
}


def score(mode: str, evidence: Evidence) -> np.ndarray:
    """The candidates' scores in ``mode``: its signals summed in the table's order, each times its weight
    (a signal whose weight is 0 is not computed)."""
    total = np.zeros(len(evidence.candidates), np.float32)  # float32 signals add in float32, as they are stored
    for signal, weight_name in MODES[mode]:
        weight = 1.0 if weight_name is None else getattr(evidence.weights, weight_name)
        if weight:
            value = SIGNALS[signal](evidence, total)
            total = total + (value if weight_name is None else weight * value)
    return np.asarray(total, np.float64)
