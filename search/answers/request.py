"""A search request, parsed and checked once where it comes in: the web, the command line or a program.

Every way in asks the same questions of a request, so the answer to each is given once, here: the
query's text and length, k, the language and mode, the page, the filter and the facets. What is left to
the index is what only it knows (a filter or facet on a field it does not declare:
:meth:`jisr.answers.searcher.Searcher.search`). A request is hashable, and is the key an answer is
cached under (:mod:`jisr.answers.cache`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jisr.answers import filters
from jisr.answers.filters import Filter
from jisr.answers.query import (
    API_NAMES,
    CLI_NAMES,
    DEFAULT_K,
    DEFAULT_LANG,
    DEFAULT_MODE,
    DEFAULT_PER_DOCUMENT,
    Paging,
    facet_fields,
    flag,
    paging,
    request_params,
    validate,
)


@dataclass(frozen=True)
class SearchRequest:
    """One search, its parameters checked and cleaned: make it with :meth:`of` (a program's keyword arguments),
    :meth:`from_params` (the JSON API's query string or body) or :meth:`from_cli`, never from unchecked values.

    ``filter``: parsed, not yet bound to an index's declared fields (:func:`jisr.answers.filters.bind`);
    ``facets``: the fields whose values are counted over the matches, each once; ``as_typed``: search the query
    as it is, never as Arabic typed on the Latin layout or in Arabizi (:mod:`jisr.answers.typing`)."""

    query: str
    k: int = DEFAULT_K
    lang: str = DEFAULT_LANG
    mode: str = DEFAULT_MODE
    paging: Paging = Paging()
    filter: Filter | None = None
    facets: tuple[str, ...] = ()
    as_typed: bool = False

    @classmethod
    def of(
        cls,
        query: Any,
        k: Any = DEFAULT_K,
        lang: Any = DEFAULT_LANG,
        mode: Any = DEFAULT_MODE,
        offset: Any = 0,
        group: Any = "none",
        per_document: Any = DEFAULT_PER_DOCUMENT,
        filter: Any = None,
        facets: Any = None,
        as_typed: Any = False,
        *,
        names: Mapping[str, str] = API_NAMES,
    ) -> SearchRequest:
        """The request these parameters ask for, or QueryError saying what is wrong, each parameter called by
        its ``names`` (:data:`jisr.answers.query.API_NAMES`, :data:`~jisr.answers.query.CLI_NAMES`). Numbers
        may come as text (a query string's); ``filter`` as JSON text or an object; ``facets`` as a list of
        field names or one text of names separated by commas."""
        query, k, lang, mode = validate(query, k, lang, mode, names)
        page = paging(k, offset, group, per_document, names)
        return cls(
            query,
            k,
            lang,
            mode,
            page,
            filters.parse(filter, names["filter"]),
            facet_fields(facets, names),
            flag(as_typed, names["as_typed"]),
        )

    @classmethod
    def from_params(cls, source: Mapping) -> SearchRequest:
        """The JSON API's request (its query string, or its JSON object): a parameter it does not know is
        refused by name, so that a typo (``lnag``) is not silently ignored."""
        return cls.of(**_by_argument(request_params(source, strict=True)))

    @classmethod
    def from_cli(cls, args: argparse.Namespace) -> SearchRequest:
        """`jisr search`'s request from its parsed arguments, its messages naming the command line's options."""
        return cls.of(
            args.query,
            args.k,
            args.lang,
            args.mode,
            args.offset,
            args.group,
            args.per_document,
            args.filter,
            args.facet,
            args.as_typed,
            names=CLI_NAMES,
        )

    @classmethod
    def given(cls, query: SearchRequest | str, options: Mapping[str, Any]) -> SearchRequest:
        """A search call's request: ``query`` when it is one already, else the one :meth:`of` makes of ``query``
        and the keyword ``options`` (TypeError for a request and options both: one of them would be ignored)."""
        if isinstance(query, cls):
            if options:
                raise TypeError(f"a search takes a SearchRequest or keyword arguments, not both ({', '.join(options)})")
            return query
        return cls.of(query, **options)


def _by_argument(params: dict) -> dict:
    """:func:`jisr.answers.query.request_params`'s names as :meth:`SearchRequest.of`'s arguments."""
    return {("query" if name == "q" else name): value for name, value in params.items()}
