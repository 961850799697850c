"""The weights of hybrid ranking, in the one place the fits in benchmarks/ write them.

Each weight is chosen on the tune halves of both labeled sets by its fit, which records the choice
in ``weights.json`` beside this file (:func:`write`); search reads it from there (:func:`shipped`).
The companion's weight is the one exception at search time: an index records the weight it was
built with, and is ranked with that one.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

FILE = Path(__file__).with_name("weights.json")


@dataclass(frozen=True)
class Weights:
    lexical: float  # hybrid's share of BM25 (scaled by the query's word coverage and the best BM25)
    phrase: float  # of an Arabic query's phrase evidence (jisr.answers.phrase)
    phrase_min_run: int  # the fewest words in order that count as a phrase
    names: float  # of the BM25 of a Latin query's names spelled in Arabic (jisr.answers.names)
    companion: float  # of the companion encoder's cosine, for queries not in Arabic (jisr.embeddings.companion)

    def but(self, **changes) -> Weights:
        """These weights with some changed: what a fit tries, one searcher at a time."""
        return replace(self, **changes)


@functools.cache
def shipped() -> Weights:
    """The weights in ``weights.json``."""
    table = json.loads(FILE.read_text(encoding="utf-8"))
    kinds = {"float": float, "int": int}
    return Weights(**{f.name: kinds[f.type](table[f.name]["value"]) for f in fields(Weights)})


def write(chosen_by: str, file: Path = FILE, **values: float) -> None:
    """Record what a fit chose (``chosen_by``: the script) in ``file``, leaving the other weights as they are."""
    table = json.loads((file if file.exists() else FILE).read_text(encoding="utf-8"))
    for name, value in values.items():
        if name not in {f.name for f in fields(Weights)}:
            raise KeyError(f"no weight {name!r}")
        table[name] = {"value": value, "chosen_by": chosen_by}
    file.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if file == FILE:
        shipped.cache_clear()
