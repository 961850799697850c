"""A document's own fields (a record's author, year, date), typed so that a search can filter on them.

`jisr build --field NAME[:keyword|number|date]` names the fields of JSONL/CSV records a search may filter
on; documents sent over HTTP bring theirs in ``"fields"``. Values are kept in one form each, the same in
every store, so that a filter compares like with like:

    keyword  text (whitespace folded, at most MAX_TEXT characters): equal to, any of, a prefix
    number   a float: equal to, ranges (gte, gt, lte, lt)
    date     an ISO date "YYYY", "YYYY-MM" or "YYYY-MM-DD" (a time after it is ignored), kept as the number
             YYYYMMDD (a missing month or day is 01), so that ranges compare as numbers
"""

from __future__ import annotations

import re
from collections.abc import Mapping

KINDS = ("keyword", "number", "date")
MAX_TEXT = 500
MAX_FIELDS = 32
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # a name a filter and a Milvus JSON path can hold as is
BUILT_IN = ("collection", "source", "doc_id", "lang")  # every passage's fields, never declared
_DATE = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?(?:[T ].*)?")


def declaration(text: str) -> tuple[str, str]:
    """``NAME[:KIND]`` as `--field` takes it -> (name, kind); ValueError saying what is wrong."""
    name, _, kind = text.partition(":")
    kind = kind or "keyword"
    if not NAME.fullmatch(name):
        raise ValueError(f"--field {text!r}: a field name is letters, digits and _, not starting with a digit")
    if name in BUILT_IN:
        raise ValueError(f"--field {name!r}: every passage has that field already")
    if kind not in KINDS:
        raise ValueError(f"--field {text!r}: the type is one of {', '.join(KINDS)}")
    return name, kind


def date_number(value) -> int | None:
    """An ISO date (or a year as a number) as YYYYMMDD, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 1 <= value <= 9999:
        return value * 10000 + 101
    found = _DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if not found:
        return None
    year, month, day = int(found.group(1)), int(found.group(2) or 1), int(found.group(3) or 1)
    return year * 10000 + month * 100 + day if 1 <= month <= 12 and 1 <= day <= 31 else None


def typed(kind: str, value):
    """``value`` in the form ``kind`` keeps (see above), or None when it is not one of that kind."""
    if kind == "number":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return float(value) if value == value else None
        try:
            return float(str(value).strip().replace(",", "")) if str(value).strip() else None
        except ValueError:
            return None
    if kind == "date":
        return date_number(value)
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())[:MAX_TEXT]
    return text or None


def shown(kind: str, value):
    """A kept value as a result shows it: a date as YYYY-MM-DD, a whole number without ".0"."""
    if kind == "date":
        return f"{int(value) // 10000:04d}-{int(value) // 100 % 100:02d}-{int(value) % 100:02d}"
    if kind == "number" and float(value).is_integer():
        return int(value)
    return value


def document_fields(row: Mapping, declared: Mapping[str, str]) -> dict:
    """The declared fields of one record (or a document's ``"fields"``), typed; a value that is not of its
    field's kind is left out."""
    out = {}
    for name, kind in declared.items():
        value = typed(kind, row.get(name))
        if value is not None:
            out[name] = value
    return out
