"""JSONL and CSV exports -> one document per record.

Datasets of articles usually come as one record per article: a JSON object per line, or a CSV
row. Each record with text becomes a document whose id is ``file#record-id`` (the id field, or the
record's line number), so results point at the record. The fields named with ``--field`` are kept
with it, typed (:mod:`jisr.corpus.fields`), for filters. A record is hashed on its own title and
text, so a rebuild re-reads only the records that changed, and changing ``--text-field`` changes
what is indexed. A malformed line or a record without text is skipped with its line number; the
rest of the file is still read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator

from jisr.corpus.fields import document_fields
from jisr.corpus.readers import Document, RecordFields, Skipped
from jisr.corpus.readers.text import decoded

csv.field_size_limit(2**31 - 1)  # an article is often longer than csv's default 131,072 characters


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    """The documents of one JSONL/CSV/TSV file, and its skipped records with why."""
    text, encoding = decoded(raw)
    rows = (
        _jsonl(text)
        if rel.lower().endswith(".jsonl")
        else _csv(text, "\t" if rel.lower().endswith(".tsv") else ",", fields)
    )
    seen: set[str] = set()
    for line, row in rows:
        where = f"{rel}:{line}"
        if isinstance(row, str):
            yield Skipped(where, row)
            continue
        body = row.get(fields.text)
        if not isinstance(body, str) or not body.strip():
            yield Skipped(where, f"no text in field {fields.text!r}")
            continue
        raw_id = row.get(fields.id)
        record_id = " ".join(str(raw_id).split())[:200] if raw_id not in (None, "") else str(line)
        if record_id in seen:
            yield Skipped(where, f"repeats the record id {record_id!r} of an earlier record")
            continue
        seen.add(record_id)
        title = row.get(fields.title)
        title = " ".join(title.split()) if isinstance(title, str) else ""
        title = title or f"{rel} #{record_id}"
        doc_id = f"{rel}#{record_id}"
        kept = document_fields(row, fields.declared)
        # the fields count in the hash only when there are some: records hashed before fields keep their hash
        digest = hashlib.sha256(
            json.dumps([title, body, kept] if kept else [title, body], ensure_ascii=False, sort_keys=True).encode(
                "utf-8"
            )
        ).hexdigest()
        yield Document(doc_id, doc_id, title, f"{title}\n{body}", digest, encoding, ((0, {"record": record_id}),), kept)


def _jsonl(text: str) -> Iterator[tuple[int, dict | str]]:
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: JSON may hold U+2028
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except RecursionError:
            yield number, "not valid JSON (nested too deeply)"
            continue
        except ValueError as exc:
            yield number, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        yield number, row if isinstance(row, dict) else f"not a JSON object but {type(row).__name__}"


def _csv(text: str, delimiter: str, fields: RecordFields) -> Iterator[tuple[int, dict | str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        yield 1, f"not a readable header row ({exc})"
        return
    if fields.text not in header:
        yield 1, f"no column {fields.text!r} (columns: {', '.join(map(repr, header[:20]))}); see --text-field"
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"not a readable CSV row ({exc})"
            continue
        yield reader.line_num, row
