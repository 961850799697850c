"""A search's answer as types: :class:`Answer`, its :class:`Hit` s and their parts.

A program, the page and the command line read the attributes (``answer.hits[0].title``); the JSON API and
`jisr search --json` print :meth:`Answer.to_json`, whose fields, their order and which of them appear are
the API's contract (web/openapi.py describes them; tests/test_golden_answers.py holds them to a recording).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from jisr.answers.query import DEFAULT_PER_DOCUMENT


@dataclass(frozen=True)
class Highlight:
    """A passage's best sentence: its characters ``start``-``end`` in the passage's text."""

    start: int
    end: int
    text: str

    def to_json(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Hit:
    """One passage found, where it lies and why it was found. ``rank``: its place in the ranking (None for
    one of a document's passages shown under its best, in ``more``); ``more``: with ``group="document"``,
    those passages (None when not grouped); ``match``: "strong", "weak" or "none" (None when the index's
    models were never calibrated: :mod:`jisr.answers.match`); ``marks``: the spans of the query's words."""

    score: float
    match: str | None
    title: str
    source: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    lang: str
    locator: dict
    fields: dict
    text: str
    highlight: Highlight
    marks: tuple[tuple[int, int], ...] = ()
    rank: int | None = None
    more: tuple[Hit, ...] | None = None

    def to_json(self) -> dict:
        out: dict[str, Any] = {} if self.rank is None else {"rank": self.rank}
        out.update(
            score=self.score,
            match=self.match,
            title=self.title,
            source=self.source,
            doc_id=self.doc_id,
            ordinal=self.ordinal,
            start=self.start,
            end=self.end,
            lang=self.lang,
            locator=copy.deepcopy(self.locator),
            fields=dict(self.fields),
            text=self.text,
            highlight=self.highlight.to_json(),
            marks=[list(span) for span in self.marks],
        )
        if self.more is not None:
            out["more"] = [hit.to_json() for hit in self.more]
        return out


@dataclass(frozen=True)
class Total:
    """How many results match (above the weak line): ``relation`` "eq" when counted exactly, "gte" when at
    least ``value`` (passages past the ranked candidates may match too)."""

    value: int
    relation: str

    def to_json(self) -> dict:
        return {"value": self.value, "relation": self.relation}


@dataclass(frozen=True)
class FacetValue:
    """How many matches (documents, when grouped) have this ``value`` of a field."""

    value: Any
    count: int

    def to_json(self) -> dict:
        return {"value": self.value, "count": self.count}


@dataclass(frozen=True)
class Truncated:
    """A query longer than the token budget: the part of it that was searched, and a message saying so."""

    read: str
    message: str

    def to_json(self) -> dict:
        return {"read": self.read, "message": self.message}


@dataclass(frozen=True)
class Answer:
    """A search's answer: the request as searched, how well its best hit matches, the page of hits.

    ``group``/``per_document``: the grouping asked for ("none" or "document"); ``filter``: the filter as
    given (None: none); ``facets``: per field counted, its values (None: no facets asked for);
    ``truncated``: set when only part of the query was searched; ``cached``: the answer came from the
    result cache, and ``took_ms`` is the lookup's time; ``searched_as``: set when the query was searched as what it was
    meant to be (Arabic typed on the Latin keyboard layout or in Arabizi, English typed on the Arabic layout:
    :mod:`jisr.answers.typing`; Arabizi is searched beside the text as typed), with
    ``typed``, the query as typed (None for both when it was searched as typed); ``suggest``: the query with an
    Arabic word the index does not know replaced by the frequent term it was likely meant to be ("did you mean":
    :mod:`jisr.answers.spelling`), None when no word was; when the query as typed matched nothing, the
    suggestion is what was searched (``searched_as``) and ``suggest`` is None."""

    query: str
    model: str
    mode: str
    lang: str
    k: int
    query_tokens: int
    match: str | None
    total: Total | None
    offset: int
    next_offset: int | None
    took_ms: float
    hits: tuple[Hit, ...]
    group: str = "none"
    per_document: int = DEFAULT_PER_DOCUMENT
    filter: dict | None = None
    facets: dict[str, tuple[FacetValue, ...]] | None = None
    truncated: Truncated | None = None
    cached: bool = False
    searched_as: str | None = None
    typed: str | None = None
    suggest: str | None = None

    def to_json(self) -> dict:
        """The answer as the JSON API gives it: keys in the API's order, optional ones only when they apply."""
        out: dict[str, Any] = {
            "query": self.query,
            **({"searched_as": self.searched_as, "typed": self.typed} if self.searched_as is not None else {}),
            **({"suggest": self.suggest} if self.suggest is not None else {}),
            "model": self.model,
            "mode": self.mode,
            "lang": self.lang,
            "k": self.k,
            "query_tokens": self.query_tokens,
            "match": self.match,
            "total": self.total.to_json() if self.total is not None else None,
            "offset": self.offset,
            "next_offset": self.next_offset,
        }
        if self.group == "document":
            out.update(group=self.group, per_document=self.per_document)
        if self.filter is not None:
            out["filter"] = copy.deepcopy(self.filter)
        if self.facets is not None:
            out["facets"] = {name: [v.to_json() for v in values] for name, values in self.facets.items()}
        out.update(took_ms=self.took_ms, results=[hit.to_json() for hit in self.hits])
        if self.truncated is not None:
            out["truncated"] = self.truncated.to_json()
        if self.cached:
            out["cached"] = True
        return out
