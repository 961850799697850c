"""Two rankings of one request merged into one: a query read as Arabizi is searched as its Arabic reading and
as typed (:mod:`jisr.answers.typing`), so an English query that also reads as Arabizi keeps its English results.

The two queries' scores are not on one scale (an Arabic query's passages score higher than an English
query's), so each score is placed between its own query's match lines (:meth:`jisr.answers.match.Lines.scaled`)
and a passage found by both keeps its better place; without lines (an index whose models were never
calibrated) the raw scores are compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jisr.answers import match


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

    def places(self) -> np.ndarray:
        """Each candidate's score on the merged scale: between its lines, or raw without them."""
        if self.lines is None:
            return np.asarray(self.scores, dtype=np.float64)
        behind = match.background(self.scores)
        return np.array([self.lines.scaled(float(s), behind) for s in self.scores], dtype=np.float64)


def merged(first: Ranking, second: Ranking, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list | None]:
    """(ids, scores, best rows, levels) of both rankings in one order, at most ``limit``: each passage once,
    where it places best (on a tie, ``first``'s), each with the score, row and level of the ranking that
    placed it. Levels are None when either ranking is uncalibrated (then raw scores are compared)."""
    if first.lines is None or second.lines is None:
        first, second = (Ranking(r.ids, r.scores, r.rows, None) for r in (first, second))
    best: dict[int, tuple[float, int, int, int]] = {}  # id -> (place, -source, position, source)
    for source, ranking in enumerate((first, second)):
        for position, (pid, place) in enumerate(zip(ranking.ids.tolist(), ranking.places().tolist())):
            if pid not in best or place > best[pid][0]:
                best[pid] = (place, -source, position, source)
    order = sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], item[1][2]))[:limit]
    rankings = (first, second)
    levels = [r.levels() for r in rankings]
    ids = np.array([pid for pid, _ in order], dtype=first.ids.dtype)
    scores = np.array([rankings[s].scores[at] for _, (_, _, at, s) in order], dtype=first.scores.dtype)
    rows = np.array([rankings[s].rows[at] for _, (_, _, at, s) in order], dtype=first.rows.dtype)
    chosen = None if levels[0] is None else [levels[s][at] for _, (_, _, at, s) in order]
    return ids, scores, rows, chosen
