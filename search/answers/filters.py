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
matches a condition on it (and so matches its "not"). The parsed :class:`jisr.index.filtering.Filter` is
handed to the store, which evaluates it its own way, so both stores return the same passages.
"""

from __future__ import annotations

import json

from jisr.corpus.fields import BUILT_IN, NAME, typed
from jisr.errors import QueryError
from jisr.index.filtering import RANGES, Filter

FIELDS = BUILT_IN
MAX_VALUES = 1000  # values in one filter, all leaves together: a filter is a request, not a data set
MAX_DEPTH = 8
MAX_LIST, MAX_TEXT = 100, 500  # values of one field, characters of one value


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
    return Filter(
        parsed.op,
        parsed.field,
        parsed.values,
        parsed.parts,
        json.dumps(given, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
    )


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
            parts.append(
                Filter(key, parts=tuple(_parse(v, f"{at}[{i}]", counted, depth + 1) for i, v in enumerate(value)))
            )
        elif key == "not":
            parts.append(Filter("not", parts=(_parse(value, at, counted, depth + 1),)))
        elif key in FIELDS:
            parts.append(_leaf(key, value, at, counted))
        elif isinstance(key, str) and NAME.fullmatch(key):
            parts.append(_declared_leaf(key, value, at, counted))
        else:
            raise QueryError(
                f"{where} has no field {str(key)[:40]!r}; filter on {', '.join(FIELDS)} or a field "
                "declared with `jisr build --field` (or combine with any, all, not)"
            )
    return parts[0] if len(parts) == 1 else Filter("all", parts=tuple(parts))


def _declared_leaf(field: str, value, where: str, counted: list[int]) -> Filter:
    """A condition on a declared field, not yet checked against the index's declarations (:func:`bind`)."""
    scalar = (str, int, float)
    if isinstance(value, dict):
        if set(value) == {"prefix"}:
            return _leaf(field, value, where, counted)
        if not value or not set(value) <= set(RANGES):
            raise QueryError(
                f'{where} takes a value, a list of values, {{"prefix": "..."}} or a range of '
                f'{", ".join(RANGES)}, e.g. {{"gte": 2015, "lt": 2016}}'
            )
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
        raise QueryError(
            f"{at}.{node.field}: this index has no field {node.field!r} (fields declared with "
            f"`jisr build --field`: {have}; every passage has {', '.join(FIELDS)})"
        )
    where = f"{at}.{node.field}"

    def value(v):
        kept = typed(kind, v)
        if kept is None:
            raise QueryError(
                f"{where}: {v!r} is not a {'date (YYYY, YYYY-MM or YYYY-MM-DD)' if kind == 'date' else kind}"
            )
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
