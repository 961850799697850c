"""Two rankings of one request merged into one: a query read as Arabizi is searched as its Arabic reading and
as typed (:mod:`jisr.answers.typing`), so an English query that also reads as Arabizi keeps its English results.

The reading is what the index's vocabulary says was meant, so its ranking leads; the text as typed adds its
strong results only: those are what an English query that also reads as Arabizi must not lose, while an
Arabizi string read as a cross-lingual query mostly meets near misses (letting those in lowered the Arabizi
MRR@10: benchmarks/results/decisions.md). The two queries'
scores are not on one scale (an Arabic query's passages score higher than an English query's), so each score
is placed between its own query's match lines (:meth:`jisr.answers.match.Lines.scaled`) and a passage found
by both keeps its better place; the rest of the text as typed follows the reading's ranking. Without lines
(an index whose models were never calibrated) nothing tells a strong result, and the reading's ranking is
followed by the other's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jisr.answers import match

LEVEL_TIER = {"strong": 0, "weak": 1, "none": 2}  # levels in rank order


@dataclass(frozen=True)
class Ranking:
    """One query's candidates in ranked order, with the lines its scores are read by (None: uncalibrated)."""

    ids: np.ndarray
    scores: np.ndarray
    rows: np.ndarray
    lines: match.Lines | None

    def levels(self) -> list[str] | None:
        """Each candidate's match level, read against its ranking's background; None without lines."""
        if self.lines is None:
            return None
        behind = match.background(self.scores)
        return [self.lines.of(float(s), behind) for s in self.scores]

    def places(self, strong_only: bool = False) -> np.ndarray:
        """Each candidate's score on the merged scale: between its lines (``strong_only``: -inf for the
        candidates below the strong line), or raw without lines (-inf for all with ``strong_only``)."""
        if self.lines is None:
            return np.full(len(self.scores), -np.inf) if strong_only else np.asarray(self.scores, dtype=np.float64)
        behind = match.background(self.scores)
        placed = np.array([self.lines.scaled(float(s), behind) for s in self.scores], dtype=np.float64)
        return np.where(placed >= 1.0, placed, -np.inf) if strong_only else placed


def merged(first: Ranking, second: Ranking, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list | None]:
    """(ids, scores, best rows, levels) of both rankings in one order, at most ``limit``: ``first``'s ranking,
    with ``second``'s strong results placed among it where they place better and each of its others after
    ``first``'s of the same level, so the levels still fall in rank order; each passage once, with the score,
    row and level of the ranking that placed it best (on a tie, ``first``). Levels are None when either
    ranking is uncalibrated (then ``second`` follows ``first``)."""
    if first.lines is None or second.lines is None:
        first, second = (Ranking(r.ids, r.scores, r.rows, None) for r in (first, second))
    rankings = (first, second)
    levels = [r.levels() for r in rankings]
    best: dict[int, tuple[int, float, int, int]] = {}  # id -> (level's tier, -place, source, position)
    for source, ranking in enumerate(rankings):
        places = ranking.places(strong_only=source == 1).tolist()
        tiers = [0] * len(places) if levels[source] is None else [LEVEL_TIER[x] for x in levels[source]]
        for position, pid in enumerate(ranking.ids.tolist()):
            key = (tiers[position], -places[position], source, position)
            if pid not in best or key < best[pid]:
                best[pid] = key
    order = sorted(best.items(), key=lambda item: item[1])[:limit]
    ids = np.array([pid for pid, _ in order], dtype=first.ids.dtype)
    scores = np.array([rankings[s].scores[at] for _, (_, _, s, at) in order], dtype=first.scores.dtype)
    rows = np.array([rankings[s].rows[at] for _, (_, _, s, at) in order], dtype=first.rows.dtype)
    chosen = None if levels[0] is None else [levels[s][at] for _, (_, _, s, at) in order]
    return ids, scores, rows, chosen
