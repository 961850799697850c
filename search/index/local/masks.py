"""A filter as jisr's segments apply it: a bool mask over a segment's rows, built from its columns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jisr.index.filtering import Filter

_COMPARE = {"gte": np.greater_equal, "gt": np.greater, "lte": np.less_equal, "lt": np.less}

Mask = Callable[..., np.ndarray]  # (field, test[, kind]) -> rows: Segment.mask


def rows(where: Filter, mask: Mask) -> np.ndarray:
    """The rows (a bool mask) ``where`` keeps. ``mask(field, test)`` applies ``test`` (values -> bools) to the
    field's values where they are fewest (a segment's documents, or its languages) and gives the rows."""
    if where.op in ("any", "all"):
        masks = [rows(p, mask) for p in where.parts]
        return np.logical_or.reduce(masks) if where.op == "any" else np.logical_and.reduce(masks)
    if where.op == "not":
        return ~rows(where.parts[0], mask)
    if where.kind is not None:  # a declared field: its column of ``kind`` (NaN or "" where a document lacks it)
        return mask(where.field, lambda values: _declared(where, values), where.kind)
    if where.op == "prefix":
        return mask(where.field, lambda values: np.char.startswith(values, where.values[0]))
    return mask(where.field, lambda values: np.isin(values, np.array(where.values, dtype=str)))


def _declared(where: Filter, values: np.ndarray) -> np.ndarray:
    if where.op == "range":
        kept = np.ones(len(values), bool)
        for op, bound in where.values:
            kept &= _COMPARE[op](values, bound)
        return kept
    if where.op == "prefix":
        return np.char.startswith(values, where.values[0]) & (values != "")
    return np.isin(values, np.array(where.values, dtype=float if where.kind != "keyword" else str))
