"""Whether a result answers the query: "strong", "weak" or "none", from lines drawn on labeled data.

The best passage of a question the collection cannot answer still ranks first, with a score that means
nothing to a reader. So each score is read against two lines, per ranking mode and query language
(Arabic, or any other), drawn by ``benchmarks/calibrate_match.py`` on the tune halves of the labeled sets
with questions that have an answer and questions that have none: below the ``weak`` line a result is
"none", at or above the ``strong`` line "strong", "weak" between.

Scores are a property of the model, the companion and the ranking's weights, so the lines are kept per
model and companion fingerprint in ``match.json`` beside this file; an index whose models have no
entry gets no match (``None``) rather than a guess.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from jisr.arabic import language

TABLE = Path(__file__).with_name("match.json")
LEVELS = ("strong", "weak", "none")


NEXT = 9  # a ranking's background: the mean score of the NEXT results after its best (:func:`background`)


@dataclass(frozen=True)
class Lines:
    """A mode's lines for one query group. A result is read by its score plus ``spread`` x how far the
    score stands above its ranking's :func:`background`: a question the collection answers tends to have
    a passage ahead of the rest, while random letters, or a question about something else, meet a flat row
    of near misses, however high their cosines (a multilingual encoder gives gibberish high ones)."""

    weak: float  # below it: "none"
    strong: float  # at or above it: "strong"
    spread: float = 0.0

    def of(self, score: float, background: float | None = None) -> str:
        """The level of a result's ``score`` in a ranking with this ``background`` (None: too few results
        to have one); a score of 0 or less is "none" in every mode (lexical: no query word matched)."""
        if not score > 0:
            return "none"
        read = score + (self.spread * (score - background) if background is not None else 0.0)
        return "strong" if read >= self.strong else "weak" if read >= self.weak else "none"

    def scaled(self, score: float, background: float | None = None) -> float:
        """Where ``score`` lies between the lines: below 0 "none", 0 to 1 "weak", 1 and above "strong"
        (as :meth:`of` reads it), so rankings read by different lines can be merged into one order."""
        if not score > 0:
            return float("-inf")
        read = score + (self.spread * (score - background) if background is not None else 0.0)
        return (read - self.weak) / max(self.strong - self.weak, 1e-9)


def background(scores) -> float | None:
    """The mean of the :data:`NEXT` scores after a ranking's best (``scores`` in ranked order), or None
    when it has no other result."""
    after = [float(s) for s in scores[1 : NEXT + 1]]
    return sum(after) / len(after) if after else None


def group(query: str) -> str:
    """The lines a query is read by: "ar" for an Arabic query, "other" for the rest (cross-lingual)."""
    return "ar" if language(query) == "ar" else "other"


def key(manifest: dict) -> str:
    """An index's entry in the table: its model's fingerprint and its companion's ("none" without one)."""
    companion = manifest.get("companion")
    return f"{manifest['model']['fingerprint']}+{companion['fingerprint'] if companion else 'none'}"


@functools.cache
def _table(file: Path) -> dict:
    try:
        return json.loads(file.read_text(encoding="utf-8"))["models"]
    except (OSError, ValueError, KeyError):
        return {}


def for_index(manifest: dict, file: Path | None = None) -> dict[str, dict[str, Lines]]:
    """{mode: {group: Lines}} for an index (its manifest), or {} when its models were never calibrated;
    ``file``: the table (default :data:`TABLE`)."""
    entry = _table(file or TABLE).get(key(manifest), {})
    return {mode: {g: Lines(**v) for g, v in groups.items()} for mode, groups in entry.get("modes", {}).items()}


def write(file: Path, entry_key: str, modes: dict, chosen_by: str) -> None:
    """Record the lines of one model and companion in ``file``, leaving the other entries as they are."""
    table = json.loads(file.read_text(encoding="utf-8")) if file.exists() else {"models": {}}
    table["about"] = (
        "Where search calls a result strong, weak or no match, per model+companion fingerprint, mode "
        "and query group (ar: Arabic queries, other: the rest); chosen on the tune halves by the "
        "script named in chosen_by (search/answers/match.py)."
    )
    table["chosen_by"] = chosen_by
    table["models"][entry_key] = {"modes": modes}
    file.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _table.cache_clear()
