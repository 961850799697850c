"""What a search request may ask for, and its validation: no numpy, torch or FAISS here.

The CLI builds its help text from these names, so `jisr --help` and argument errors
answer without loading the model's libraries; the web app and the Searcher check
requests with the same rules.
"""
from __future__ import annotations

from collections.abc import Mapping
from jisr.errors import QueryError

MODES = ("dense", "sentence", "lexical", "hybrid")
DEFAULT_MODE = "hybrid"
DEFAULT_K = 10
DEFAULT_LANG = "ar"
LANGS = ("ar", "any")
MAX_K = 100
MAX_QUERY_CHARS = 1000
# How a message names each parameter: the API's fields, or the command line's arguments.
API_NAMES = {"q": "q", "k": "k", "lang": "lang", "mode": "mode"}
CLI_NAMES = {"q": "the QUERY argument", "k": "-k", "lang": "--lang", "mode": "--mode"}



def request_params(source: Mapping) -> dict:
    """A request's search parameters (query string or JSON object), defaults filled in; `validate` checks them."""
    return {"q": source.get("q"), "k": source.get("k", DEFAULT_K),
            "lang": source.get("lang", DEFAULT_LANG), "mode": source.get("mode", DEFAULT_MODE)}


def _is_text(query: str) -> bool:
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
    if not _is_text(query):
        raise QueryError("the query is not valid text: it holds bytes that are not UTF-8 (or a lone surrogate)")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    if isinstance(k, bool) or not isinstance(k, int):
        try:
            k = int(str(k).strip())
        except ValueError:
            raise QueryError(f"{names['k']} must be a whole number from 1 to {MAX_K}, not {k!r}") from None
    if not 1 <= k <= MAX_K:
        raise QueryError(f"{names['k']} must be from 1 to {MAX_K}, not {k}")
    if lang not in LANGS:
        raise QueryError(f"{names['lang']} must be one of {', '.join(LANGS)}, not {lang!r}")
    if mode not in MODES:
        raise QueryError(f"{names['mode']} must be one of {', '.join(MODES)}, not {mode!r}")
    return query.strip(), k, lang, mode


def cut(tokenizer, query: str, tokens: int) -> tuple[str, int]:
    """The query up to its ``tokens``-th token, and how many tokens it had: what search reads of it."""
    if getattr(tokenizer, "is_fast", False):
        pieces = tokenizer(query, add_special_tokens=False, return_offsets_mapping=True)
        count = len(pieces["input_ids"])
        if count > tokens:
            query = query[:pieces["offset_mapping"][tokens - 1][1]].strip()
    else:
        ids = tokenizer(query, add_special_tokens=False)["input_ids"]
        count = len(ids)
        if count > tokens:
            query = tokenizer.decode(ids[:tokens]).strip()
    return query, count
