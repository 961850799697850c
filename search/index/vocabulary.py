"""An index's vocabulary: every term BM25 indexes, with the passages that hold it, merged across segments.

What a query's words are checked against before a Latin query is read as Arabic typed another way
(:mod:`jisr.answers.typing`): a reading whose words the index knows is evidence, a reading it does not
know is not. The terms are those the lexical index already stores per segment (words and their stems,
folded as :func:`jisr.arabic.terms` folds them), so no build writes anything more for it. The same terms
complete a word as one types (:mod:`jisr.index.completions`, `GET /api/suggest`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from functools import cached_property

import numpy as np

from jisr.index.completions import Completions


class Vocabulary:
    """Terms and their passage counts (document frequencies, deleted rows included), sorted for prefix look-ups."""

    def __init__(self, counts: Mapping[str, int]):
        self.counts = dict(counts)
        self._sorted = sorted(self.counts)

    @classmethod
    def merged(cls, segments: Iterable[tuple[np.ndarray, np.ndarray]]) -> Vocabulary:
        """One vocabulary of many segments' postings, each as (terms, starts) (:class:`jisr.index.lexical.Postings`)."""
        counts: dict[str, int] = {}
        for words, starts in segments:
            df = np.diff(np.asarray(starts)).tolist()
            for word, n in zip(np.asarray(words).tolist(), df):
                if word and n:
                    counts[word] = counts.get(word, 0) + n
        return cls(counts)

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, term: str) -> bool:
        return term in self.counts

    def count(self, term: str) -> int:
        return self.counts.get(term, 0)

    def has_prefix(self, prefix: str) -> bool:
        """Whether any term begins with ``prefix``: lets a reading's candidates be pruned as they grow."""
        at = bisect.bisect_left(self._sorted, prefix)
        return at < len(self._sorted) and self._sorted[at].startswith(prefix)

    @cached_property
    def completions(self) -> Completions:
        """Its terms by prefix, most frequent first (`GET /api/suggest`): made on first use, as most commits
        are never asked, then kept with the vocabulary, which a new commit replaces."""
        return Completions(self._sorted, self.counts)


EMPTY = Vocabulary({})
