"""Which part of the collection a search looks in: a filter over each passage's fields.

A filter is JSON, as Elasticsearch's bool filters and Milvus's expressions are, and is applied before
the top k is taken, so a filter that keeps 1% of the collection still returns k results:

    {"collection": "hadith"}                      the first folder under the corpus ("" at the top)
    {"source": {"prefix": "news/2015/"}}          a source's beginning
    {"doc_id": ["a.txt", "b.txt"]}                any of these values
    {"lang": "ar"}
    {"year": {"gte": 2015, "lt": 2016}}           a field declared with `jisr build --field year:number`
    {"author": "الطبري"}  {"date": {"gte": "2015-03"}}   keyword and date fields (jisr.corpus.fields)
    {"any": [{...}, {...}]}   {"all": [{...}, {...}]}   {"not": {...}}

An object with several fields means all of them. A declared field is checked against the index's
declarations (:func:`bind`) when the search meets its index; a document without the field never
matches a condition on it (and so matches its "not"). Each store evaluates a filter its own way: jisr's
segments as masks over columns of the passages (:meth:`Filter.rows`), Milvus as a filter expression
(:meth:`Filter.expression`), so both return the same passages.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from jisr.corpus.fields import BUILT_IN, NAME, typed
from jisr.errors import QueryError

FIELDS = BUILT_IN
RANGES = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}
MAX_VALUES = 1000  # values in one filter, all leaves together: a filter is a request, not a data set
MAX_DEPTH = 8
MAX_LIST, MAX_TEXT = 100, 500  # values of one field, characters of one value


@dataclass(frozen=True)
class Filter:
    """A parsed filter: ``op`` is "eq" (``field`` in ``values``), "prefix", "range" (``values``: pairs of
    an operator of RANGES and a bound), "any", "all" or "not". ``kind``: a declared field's, once bound."""
    op: str
    field: str = ""
    values: tuple = ()
    parts: tuple["Filter", ...] = ()
    text: str = ""  # the filter as given, canonical JSON: for a cache key and messages
    kind: str | None = None  # None: a built-in field (or a declared one not bound yet)

    def rows(self, mask: Callable[[str, Callable[[np.ndarray], np.ndarray]], np.ndarray]) -> np.ndarray:
        """The rows (a bool mask) the filter keeps. ``mask(field, test)`` applies ``test`` (values -> bools) to
        the field's values where they are fewest (a segment's documents, or its languages) and gives the rows."""
        if self.op in ("any", "all"):
            masks = [p.rows(mask) for p in self.parts]
            return np.logical_or.reduce(masks) if self.op == "any" else np.logical_and.reduce(masks)
        if self.op == "not":
            return ~self.parts[0].rows(mask)
        if self.kind is not None:  # a declared field: its column of ``kind`` (NaN or "" where a document lacks it)
            return mask(self.field, self._test, self.kind)
        if self.op == "prefix":
            return mask(self.field, lambda values: np.char.startswith(values, self.values[0]))
        return mask(self.field, lambda values: np.isin(values, np.array(self.values, dtype=str)))

    def _test(self, values: np.ndarray) -> np.ndarray:
        if self.op == "range":
            kept = np.ones(len(values), bool)
            for op, bound in self.values:
                kept &= {"gte": np.greater_equal, "gt": np.greater, "lte": np.less_equal, "lt": np.less}[op](values, bound)
            return kept
        if self.op == "prefix":
            return np.char.startswith(values, self.values[0]) & (values != "")
        return np.isin(values, np.array(self.values, dtype=float if self.kind != "keyword" else str))

    def expression(self, quote: Callable[[str], str]) -> str:
        """The filter in Milvus's expression language; every value through ``quote`` (data, never syntax)."""
        if self.op in ("any", "all"):
            return "(" + (" or " if self.op == "any" else " and ").join(p.expression(quote) for p in self.parts) + ")"
        if self.op == "not":
            return f"not {self.parts[0].expression(quote)}"
        if self.kind is not None:  # a declared field: a key of the passages' JSON field "fields"
            path = f'fields["{self.field}"]'  # a declared name is letters, digits and _ (jisr.corpus.fields.NAME)
            value = (lambda v: repr(float(v))) if self.kind != "keyword" else quote
            if self.op == "range":
                test = " and ".join(f"{path} {RANGES[op]} {value(b)}" for op, b in self.values)
            elif self.op == "prefix":
                test = f"{path} like {quote(_like(self.values[0]) + '%')}"
            else:
                test = " or ".join(f"{path} == {value(v)}" for v in self.values)  # Milvus: no "in" on a JSON path
            # false, not unknown, for a document without the field: so that its "not" keeps it, as jisr's segments do
            return f"(exists {path} and ({test}))"
        if self.field == "collection":  # Milvus holds source: a collection is a source's first folder
            if self.op == "prefix":
                return f'(source like {quote(_like(self.values[0]) + "%/%")})'
            return "(" + " or ".join('not (source like "%/%")' if v == "" else f"source like {quote(_like(v) + '/%')}"
                                     for v in self.values) + ")"
        if self.op == "prefix":
            return f"({self.field} like {quote(_like(self.values[0]) + '%')})"
        return f"({self.field} in [{', '.join(quote(v) for v in self.values)}])"


def _like(text: str) -> str:
    """``text`` matched literally by LIKE: its % and _ escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse(given, name: str = "filter") -> Filter | None:
    """The filter a request gives (JSON text or an object), or QueryError saying what is wrong; None for none."""
    if given is None or given == "" or given == {}:
        return None
    if isinstance(given, str):
        try:
            given = json.loads(given)
        except RecursionError:
            raise QueryError(f"{name} is nested too deeply") from None
        except ValueError:
            raise QueryError(f'{name} must be a JSON object, e.g. {{"collection": "hadith"}}') from None
    counted = [0]
    parsed = _parse(given, name, counted, 0)
    return Filter(parsed.op, parsed.field, parsed.values, parsed.parts,
                  json.dumps(given, ensure_ascii=False, sort_keys=True, separators=(",", ":")))


def describe(where: Filter | None) -> str:
    return where.text if where is not None else ""


def _parse(node, where: str, counted: list[int], depth: int) -> Filter:
    if depth > MAX_DEPTH:
        raise QueryError(f"{where} nests more than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or not node:
        raise QueryError(f'{where} must be a non-empty JSON object, e.g. {{"collection": "hadith"}}')
    parts = []
    for key, value in node.items():
        at = f"{where}.{key}"
        if key in ("any", "all"):
            if not isinstance(value, list) or not value:
                raise QueryError(f"{at} must be a non-empty list of filters")
            parts.append(Filter(key, parts=tuple(_parse(v, f"{at}[{i}]", counted, depth + 1)
                                                 for i, v in enumerate(value))))
        elif key == "not":
            parts.append(Filter("not", parts=(_parse(value, at, counted, depth + 1),)))
        elif key in FIELDS:
            parts.append(_leaf(key, value, at, counted))
        elif isinstance(key, str) and NAME.fullmatch(key):
            parts.append(_declared_leaf(key, value, at, counted))
        else:
            raise QueryError(f"{where} has no field {str(key)[:40]!r}; filter on {', '.join(FIELDS)} or a field "
                             "declared with `jisr build --field` (or combine with any, all, not)")
    return parts[0] if len(parts) == 1 else Filter("all", parts=tuple(parts))


def _declared_leaf(field: str, value, where: str, counted: list[int]) -> Filter:
    """A condition on a declared field, not yet checked against the index's declarations (:func:`bind`)."""
    scalar = (str, int, float)
    if isinstance(value, dict):
        if set(value) == {"prefix"}:
            return _leaf(field, value, where, counted)
        if not value or not set(value) <= set(RANGES):
            raise QueryError(f'{where} takes a value, a list of values, {{"prefix": "..."}} or a range of '
                             f'{", ".join(RANGES)}, e.g. {{"gte": 2015, "lt": 2016}}')
        if not all(isinstance(v, scalar) and not isinstance(v, bool) for v in value.values()):
            raise QueryError(f"{where}: a range's bounds are numbers or dates")
        counted[0] += len(value)
        return Filter("range", field, tuple(sorted(value.items())))
    values = tuple(value) if isinstance(value, list) else (value,)
    if not values:
        raise QueryError(f"{where} is an empty list: it would keep nothing")
    if not all(isinstance(v, scalar) and not isinstance(v, bool) for v in values):
        raise QueryError(f"{where} must be a value (text, a number, a date) or a list of them")
    if len(values) > MAX_LIST or any(isinstance(v, str) and len(v) > MAX_TEXT for v in values):
        raise QueryError(f"{where} takes at most {MAX_LIST} values of at most {MAX_TEXT} characters")
    counted[0] += len(values)
    if counted[0] > MAX_VALUES:
        raise QueryError(f"the filter has more than {MAX_VALUES} values")
    return Filter("eq", field, values)


def bind(where: Filter | None, declared: dict[str, str]) -> Filter | None:
    """``where`` with each condition on a declared field checked against the index's ``declared`` fields
    ({name: kind}) and its values in the form that kind is kept in; QueryError for a field the index does
    not have or a value not of its kind."""
    if where is None:
        return None
    bound = _bind(where, declared, "filter")
    return Filter(bound.op, bound.field, bound.values, bound.parts, where.text, bound.kind)


def _bind(node: Filter, declared: dict[str, str], at: str) -> Filter:
    if node.parts:
        return Filter(node.op, parts=tuple(_bind(p, declared, at) for p in node.parts))
    if node.field in FIELDS or node.kind is not None:  # built in, or bound already
        return node
    kind = declared.get(node.field)
    if kind is None:
        have = ", ".join(declared) or "none"
        raise QueryError(f"{at}.{node.field}: this index has no field {node.field!r} (fields declared with "
                         f"`jisr build --field`: {have}; every passage has {', '.join(FIELDS)})")
    where = f"{at}.{node.field}"

    def value(v):
        kept = typed(kind, v)
        if kept is None:
            raise QueryError(f"{where}: {v!r} is not a {'date (YYYY, YYYY-MM or YYYY-MM-DD)' if kind == 'date' else kind}")
        return kept
    if node.op == "prefix" and kind != "keyword":
        raise QueryError(f"{where}: a prefix applies to keyword fields; {node.field} is a {kind}")
    if node.op == "range":
        if kind == "keyword":
            raise QueryError(f"{where}: ranges apply to number and date fields; {node.field} is a keyword")
        return Filter("range", node.field, tuple((op, value(b)) for op, b in node.values), kind=kind)
    return Filter(node.op, node.field, tuple(value(v) for v in node.values), kind=kind)


def _leaf(field: str, value, where: str, counted: list[int]) -> Filter:
    if isinstance(value, dict):
        if set(value) != {"prefix"} or not isinstance(value["prefix"], str):
            raise QueryError(f'{where} takes a value, a list of values, or {{"prefix": "..."}}')
        values = (value["prefix"],)
        op = "prefix"
    else:
        values = tuple(value) if isinstance(value, list) else (value,)
        op = "eq"
        if not values:
            raise QueryError(f"{where} is an empty list: it would keep nothing")
    if not all(isinstance(v, str) for v in values):
        raise QueryError(f"{where} must be text (or a list of texts)")
    if len(values) > MAX_LIST or any(len(v) > MAX_TEXT for v in values):
        raise QueryError(f"{where} takes at most {MAX_LIST} values of at most {MAX_TEXT} characters")
    counted[0] += len(values)
    if counted[0] > MAX_VALUES:
        raise QueryError(f"the filter has more than {MAX_VALUES} values")
    return Filter(op, field, values)
