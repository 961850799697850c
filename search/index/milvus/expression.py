"""Milvus's filter-expression language, written here only: a filter, and values as literals of it."""

from __future__ import annotations

from jisr.index.filtering import Filter

_OPERATORS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}


def quote(text: str) -> str:
    """``text`` as a string literal of Milvus's filter language (a document id is data, never syntax)."""
    return (
        '"'
        + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        + '"'
    )


def _like(text: str) -> str:
    """``text`` matched literally by LIKE: its % and _ escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def expression(where: Filter) -> str:
    """``where`` in Milvus's expression language; every value quoted (data, never syntax)."""
    if where.op in ("any", "all"):
        return "(" + (" or " if where.op == "any" else " and ").join(expression(p) for p in where.parts) + ")"
    if where.op == "not":
        return f"not {expression(where.parts[0])}"
    if where.kind is not None:  # a declared field: a key of the passages' JSON field "fields"
        path = f'fields["{where.field}"]'  # a declared name is letters, digits and _ (jisr.corpus.fields.NAME)
        value = (lambda v: repr(float(v))) if where.kind != "keyword" else quote
        if where.op == "range":
            test = " and ".join(f"{path} {_OPERATORS[op]} {value(b)}" for op, b in where.values)
        elif where.op == "prefix":
            test = f"{path} like {quote(_like(where.values[0]) + '%')}"
        else:
            test = " or ".join(f"{path} == {value(v)}" for v in where.values)  # Milvus: no "in" on a JSON path
        # false, not unknown, for a document without the field: so that its "not" keeps it, as jisr's segments do
        return f"(exists {path} and ({test}))"
    if where.field == "collection":  # Milvus holds source: a collection is a source's first folder
        if where.op == "prefix":
            return f"(source like {quote(_like(where.values[0]) + '%/%')})"
        return (
            "("
            + " or ".join(
                'not (source like "%/%")' if v == "" else f"source like {quote(_like(v) + '/%')}" for v in where.values
            )
            + ")"
        )
    if where.op == "prefix":
        return f"({where.field} like {quote(_like(where.values[0]) + '%')})"
    return f"({where.field} in [{', '.join(quote(v) for v in where.values)}])"


def one_of(field: str, values) -> str:
    """``field`` equal to any of ``values`` (texts quoted, numbers as integers)."""
    return f"{field} in [{', '.join(quote(v) if isinstance(v, str) else str(int(v)) for v in values)}]"
