"""The live documents' titles by their folded form: the whole lines the search box can offer as one types.

A title is found by what was typed so far, folded as the index folds its terms (:func:`jisr.arabic.terms`:
marks, hamza and alef forms, ta marbuta, case), so ``حاملة الط`` finds ``حاملة الطائرات شارل ديغول``; titles
shared by several documents come first, then in sorted order (:mod:`jisr.index.completions`). Made from a
commit's segments once, on first use, as the vocabulary is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cached_property

from jisr import arabic
from jisr.index.completions import Completions


def folded(text: str) -> str:
    """``text`` as titles are looked up: its words folded as the index folds its terms, one space apart."""
    return " ".join(arabic.terms(text, stems=False))


class Titles:
    """Each folded title with how many live documents bear it, and the spelling most of them have."""

    def __init__(self, titles: Iterable[str]):
        spellings: dict[str, Counter] = {}
        for title in titles:
            key = folded(title)
            if key:
                spellings.setdefault(key, Counter())[" ".join(title.split())] += 1
        self.counts = {key: sum(c.values()) for key, c in spellings.items()}
        self.shown = {key: min(c.items(), key=lambda tc: (-tc[1], tc[0]))[0] for key, c in spellings.items()}
        self._sorted = sorted(self.counts)

    def __len__(self) -> int:
        return len(self.counts)

    @cached_property
    def completions(self) -> Completions:
        return Completions(self._sorted, self.counts)

    def top(self, typed: str, k: int) -> list[tuple[str, int]]:
        """The ``k`` titles that begin with ``typed`` (folded), each as most of its documents spell it, with
        how many documents bear it; none for a line with no word."""
        key = folded(typed)
        if not key or not self.counts:
            return []
        return [(self.shown[t], n) for t, n in self.completions.top(key, k)]


EMPTY = Titles(())
