"""A search's filter as the stores receive it: a parsed tree of conditions, in no store's syntax.

:mod:`jisr.answers.filters` parses and checks what a request gives into a :class:`Filter`; each store
applies it its own way (jisr's segments as masks over their columns, :mod:`jisr.index.local.masks`;
Milvus as a filter expression, :mod:`jisr.index.milvus.expression`), so both return the same passages
and neither knows how a request spells a filter.
"""

from __future__ import annotations

from dataclasses import dataclass

RANGES = ("gte", "gt", "lte", "lt")  # a range's bounds, as a request names them


@dataclass(frozen=True)
class Filter:
    """A parsed filter: ``op`` is "eq" (``field`` in ``values``), "prefix", "range" (``values``: pairs of
    a name of RANGES and a bound), "any", "all" or "not". ``kind``: a declared field's, once bound."""

    op: str
    field: str = ""
    values: tuple = ()
    parts: tuple[Filter, ...] = ()
    text: str = ""  # the filter as given, canonical JSON: for a cache key and messages
    kind: str | None = None  # None: a built-in field (or a declared one not bound yet)
