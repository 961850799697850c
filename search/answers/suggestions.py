"""Suggestions as one types (`GET /api/suggest`): the index's terms that complete the word being typed, and the
titles of its documents that begin with the line typed.

The last word of what was typed is folded as the index folds its terms (:func:`jisr.arabic.terms`: marks,
hamza and alef forms, ta marbuta, case), so ``الطا`` and ``الطأ`` are offered the same terms, and those that
begin with it come most frequent first from the vocabulary of the commit searched now
(:mod:`jisr.index.completions`). Each suggestion is the line as typed with its last word completed: what a
search box can put in its place (and what a browser's list, which keeps the options that contain what was
typed, keeps). The terms are the index's, in its folded spelling (``الطايرات``), as BM25 matches them. Titles
are matched on the whole line, folded the same way (:mod:`jisr.index.titles`), and given as documents spell them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jisr import arabic
from jisr.answers.query import MAX_QUERY_CHARS, _whole, is_text
from jisr.errors import QueryError
from jisr.index.completions import KEEP
from jisr.index.titles import EMPTY as NO_TITLES
from jisr.index.titles import Titles
from jisr.index.vocabulary import Vocabulary

DEFAULT_LIMIT = 10
MAX_LIMIT = KEEP
_LAST_WORD = re.compile(arabic._MARKED_WORD.pattern + "$")  # the word the line ends in, its marks included


@dataclass(frozen=True)
class Suggestions:
    """What ``query`` (as typed) may go on to: ``prefix`` is its last word as the index folds it (empty when
    the line ends in a space or a mark, a word done), ``terms`` each a (term, passages holding it), most frequent first;
    ``titles`` each a (title, documents bearing it) that begins with the whole line."""

    query: str
    prefix: str
    terms: tuple[tuple[str, int], ...] = ()
    titles: tuple[tuple[str, int], ...] = ()

    def texts(self) -> list[str]:
        """Each term as the line it completes: the line as typed, its last word as typed when it folds letter for
        letter to the prefix (``حاملة`` stays so, only the rest is the term's), else the term in its place."""
        if not self.terms:
            return []
        last = _LAST_WORD.search(self.query)
        typed = last.group()
        kept = typed if len(typed) == len(self.prefix) and arabic.terms(typed, stems=False) == [self.prefix] else ""
        head = self.query[: last.start()]
        return [head + (kept + term[len(kept) :] if kept else term) for term, _ in self.terms]

    def to_json(self) -> dict[str, Any]:
        return {
            "q": self.query,
            "prefix": self.prefix,
            "suggestions": [
                {"text": text, "term": term, "count": count} for text, (term, count) in zip(self.texts(), self.terms)
            ],
            "titles": [{"title": title, "count": count} for title, count in self.titles],
        }


API_NAMES = ("q", "limit")  # the parameters as the API calls them, for its messages
CLI_NAMES = ("PREFIX", "--limit")


def checked(query: Any, limit: Any = DEFAULT_LIMIT, names: tuple[str, str] = API_NAMES) -> tuple[str, int]:
    """The request's text and limit, or QueryError saying what is wrong (a 400 on the API), each parameter
    called by its ``names``."""
    text, most = names
    if not isinstance(query, str) or not query.strip():
        raise QueryError(f"the prefix is empty: give the beginning of a word in {text}, e.g. حامل")
    if not is_text(query):
        raise QueryError(f"{text} is not valid text: it holds bytes that are not UTF-8 (or a lone surrogate)")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"{text} is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    return query, _whole(limit, most, 1, MAX_LIMIT)


def suggest(query: str, vocabulary: Vocabulary, limit: int = DEFAULT_LIMIT, titles: Titles = NO_TITLES) -> Suggestions:
    """The terms of ``vocabulary`` that complete ``query``'s last word (``query`` and ``limit`` as
    :func:`checked` returns them; none after a space or a mark such as ``?``), and the
    ``titles`` that begin with ``query``: up to ``limit`` of each."""
    last = _LAST_WORD.search(query)
    words = arabic.terms(last.group(), stems=False) if last else []
    prefix = words[-1] if words else ""
    found = tuple(vocabulary.completions.top(prefix, limit)) if prefix and len(vocabulary) else ()
    return Suggestions(query, prefix, found, tuple(titles.top(query, limit)))
