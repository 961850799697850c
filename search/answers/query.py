"""What a search request may ask for, and its validation: no numpy, torch or FAISS here.

The CLI builds its help text from these names, so `jisr --help` and argument errors
answer without loading the model's libraries. The checks here run in one place,
:class:`jisr.answers.request.SearchRequest`, whichever way a request comes in.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from jisr.embeddings import reading
from jisr.errors import QueryError

MODES = ("dense", "sentence", "lexical", "hybrid")
DEFAULT_MODE = "hybrid"
DEFAULT_K = 10
DEFAULT_LANG = "ar"
LANGS = ("ar", "any")
MAX_K = 100
MAX_QUERY_CHARS = 1000
GROUPS = ("none", "document")  # group=document: each document's best passage once, with more from it
DEFAULT_PER_DOCUMENT = 2  # passages shown under a document's best one when grouped
MAX_PER_DOCUMENT = 10
MAX_DEPTH = 200  # pages reach this rank (the candidates a query ranks): offset < 200, the page ends at 200
FACETS = ("collection", "source", "doc_id", "lang")  # fields a search counts its matches by (``facets``)
MAX_FACET_VALUES = 20  # values listed per facet, the most frequent first
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # a declared field's name (jisr.corpus.fields.NAME)
# How a message names each parameter: the API's fields, or the command line's arguments.
API_NAMES = {
    "q": "q",
    "k": "k",
    "lang": "lang",
    "mode": "mode",
    "offset": "offset",
    "group": "group",
    "per_document": "per_document",
    "filter": "filter",
    "facets": "facets",
    "as_typed": "as_typed",
}
CLI_NAMES = {
    "q": "the QUERY argument",
    "k": "-k",
    "lang": "--lang",
    "mode": "--mode",
    "offset": "--offset",
    "group": "--group",
    "per_document": "--per-document",
    "filter": "--filter",
    "facets": "--facet",
    "as_typed": "--as-typed",
}


@dataclass(frozen=True)
class Paging:
    """Which part of the ranking a request wants: a page from ``offset``, passages or grouped documents."""

    offset: int = 0
    group: str = "none"
    per_document: int = DEFAULT_PER_DOCUMENT


def request_params(source: Mapping, strict: bool = False) -> dict:
    """A request's search parameters (query string or JSON object), defaults filled in; `validate` and
    `paging` check them. ``strict``: a parameter the API does not know is a QueryError naming it, so a
    typo (``lnag``) is not silently ignored under an answer that looks valid."""
    if strict:
        for name in source:
            if name not in API_NAMES:
                close = difflib.get_close_matches(str(name), API_NAMES, n=1)
                raise QueryError(
                    f"unknown parameter {str(name)[:40]!r}"
                    + (f": did you mean {close[0]!r}?" if close else f"; a search takes {', '.join(API_NAMES)}")
                )
    return {
        "q": source.get("q"),
        "k": source.get("k", DEFAULT_K),
        "lang": source.get("lang", DEFAULT_LANG),
        "mode": source.get("mode", DEFAULT_MODE),
        "offset": source.get("offset", 0),
        "group": source.get("group", "none"),
        "per_document": source.get("per_document", DEFAULT_PER_DOCUMENT),
        "filter": source.get("filter"),
        "facets": source.get("facets"),
        "as_typed": source.get("as_typed", False),
    }


def _whole(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise QueryError(f"{name} must be a whole number from {low} to {high}, not {value!r}") from None
    if not low <= value <= high:
        raise QueryError(f"{name} must be from {low} to {high}, not {value}")
    return value


def paging(k: int, offset, group, per_document, names: Mapping[str, str] = API_NAMES) -> Paging:
    """Check a request's page and grouping (``k`` already checked); return them cleaned, or raise QueryError."""
    del k  # a page that would reach past MAX_DEPTH ends there (the last page), as OpenAPI can say
    offset = _whole(offset, names["offset"], 0, MAX_DEPTH - 1)
    if group not in GROUPS:
        raise QueryError(f"{names['group']} must be one of {', '.join(GROUPS)}, not {group!r}")
    return Paging(offset, group, _whole(per_document, names["per_document"], 0, MAX_PER_DOCUMENT))


def facet_fields(value, names: Mapping[str, str] = API_NAMES) -> tuple[str, ...]:
    """The fields a request counts its matches by: a list of names, or one text of names separated by
    commas (a query string's ``facets=collection,lang``); () for none. QueryError for anything else."""
    if value is None or value == "" or value == []:
        return ()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QueryError(f"{names['facets']} must be a list of field names from {', '.join(FACETS)}")
    unknown = [v for v in value if v not in FACETS and not _NAME.fullmatch(v)]
    if unknown:
        raise QueryError(
            f"{names['facets']}: no field {unknown[0][:40]!r} to count by; "
            f"facets are {', '.join(FACETS)} and the fields declared with `jisr build --field`"
        )
    twice = next((v for i, v in enumerate(value) if v in value[:i]), None)
    if twice is not None:  # as the API's schema says (uniqueItems): a repeated name is more likely a slip
        raise QueryError(f"{names['facets']} names {twice[:40]!r} twice; name each field once")
    return tuple(value)


def flag(value, name: str) -> bool:
    """A yes-or-no parameter: true or false, or as a query string writes them (1/0, true/false, yes/no)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise QueryError(f"{name} must be true or false (1 or 0), not {str(value)[:40]!r}")


def is_text(query: str) -> bool:
    """False for lone surrogates: bytes that were not UTF-8 (a shell argument) or a JSON "\\ud800"."""
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(query, k, lang, mode, names: Mapping[str, str] = API_NAMES) -> tuple[str, int, str, str]:
    """Check a request's parameters; return them cleaned, or raise QueryError saying what is wrong, with
    each parameter called by its ``names`` (:data:`API_NAMES`, :data:`CLI_NAMES`)."""
    if query is not None and not isinstance(query, str):
        raise QueryError(f"the query ({names['q']}) must be text, not {type(query).__name__}")
    if not query or not query.strip():
        raise QueryError(f"the query is empty: give some words to search for in {names['q']}")
    if not is_text(query):
        raise QueryError("the query is not valid text: it holds bytes that are not UTF-8 (or a lone surrogate)")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    k = _whole(k, names["k"], 1, MAX_K)
    if lang not in LANGS:
        raise QueryError(f"{names['lang']} must be one of {', '.join(LANGS)}, not {lang!r}")
    if mode not in MODES:
        raise QueryError(f"{names['mode']} must be one of {', '.join(MODES)}, not {mode!r}")
    return query.strip(), k, lang, mode


def cut(tokenizer, query: str, tokens: int) -> tuple[str, int]:
    """The query up to its ``tokens``-th token, and how many tokens it had: what search reads of it. The
    tokenizer is only read, never set (:mod:`jisr.embeddings.reading`): a build may be encoding with it."""
    ids, spans = reading.tokens(tokenizer, query)
    count = len(ids)
    if count > tokens:
        query = (query[: spans[tokens - 1][1]] if spans is not None else tokenizer.decode(ids[:tokens])).strip()
    return query, count
