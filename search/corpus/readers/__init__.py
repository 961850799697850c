"""File -> documents: one small reader per file type, behind one interface.

A reader takes a file's path (relative to the corpus folder, as users see it) and its bytes and
yields documents (title, the text that is indexed, a hash for incremental builds, and where in the
file each part of the text came from) and, for parts it cannot read, what it skipped and why. Each
reader is imported only when a file of its type is met, so a corpus of .txt files never loads an HTML
or Word parser.

    .txt               text.py       any text encoding, first line the title
    .md                markdown.py   the text a reader sees, without markup
    .html .htm         web_page.py   the main content, without menus and footers
    .docx              word.py       paragraphs, headings and tables
    .pdf               pdf.py        the text layer, page by page, in reading order
    .jsonl .csv .tsv   records.py    one document per record

An archive (.docx) is measured by archives.py before its reader inflates it: a zip bomb is skipped.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jisr.corpus.readers.archives import InflationLimits

Locator = dict  # where a passage lies in its file, for people: {"page": 3}, {"section": ["Part", "Chapter"]},
# {"record": "17"}; empty when the file has no such structure (a .txt file)


def describe(locator: Locator) -> str:
    """A locator as people read it: "page 3", "Part › Chapter", "record 17"; "" when there is none."""
    parts = []
    if isinstance(locator.get("page"), int):
        parts.append(f"page {locator['page']}")
    if isinstance(locator.get("section"), list):
        parts.append(" › ".join(str(s) for s in locator["section"]))
    if isinstance(locator.get("record"), str):
        parts.append(f"record {locator['record']}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Document:
    id: str  # the path relative to the corpus folder (file#record for records), stable across rebuilds
    path: str  # what users see as the source: the same
    title: str
    text: str  # what is indexed; passage offsets point into it
    sha256: str  # of the file's bytes, or of the record
    encoding: str = "utf-8"
    places: tuple[tuple[int, Locator], ...] = ()  # (offset into text, where the text from there on came from)
    fields: dict = field(default_factory=dict)  # declared fields, typed (jisr.corpus.fields)


@dataclass(frozen=True)
class Skipped:
    path: str  # relative to the corpus folder, with :line for a record
    reason: str


@dataclass(frozen=True)
class RecordFields:
    """Which field of a record holds its text, its title and its id (`jisr build --text-field ...`), and
    the fields a search may filter on, with their kinds (`--field NAME:KIND`; :mod:`jisr.corpus.fields`)."""

    text: str = "text"
    title: str = "title"
    id: str = "id"
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def declared(self) -> dict[str, str]:
        return dict(self.extra)

    @classmethod
    def recorded(cls, manifest: dict) -> RecordFields:
        """The record fields an index was built with (its manifest's ``record_fields``)."""
        given = manifest.get("record_fields") or {}
        return cls(
            **{k: given[k] for k in ("text", "title", "id") if k in given},
            extra=tuple((str(n), str(k)) for n, k in given.get("extra", ())),
        )


class Unreadable(ValueError):
    """A whole file cannot be read; the message is the reason shown in the skip list."""


READERS = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "web_page",
    ".htm": "web_page",
    ".docx": "word",
    ".pdf": "pdf",
    ".jsonl": "records",
    ".csv": "records",
    ".tsv": "records",
}
SUFFIXES = tuple(READERS)


def read_file(
    rel: str, raw: bytes, fields: RecordFields = RecordFields(), limits: InflationLimits | None = None
) -> Iterator[Document | Skipped]:
    """The documents in one file's bytes, by the reader of its type; a file no reader can use is skipped, and so
    is an archive that inflates past ``limits`` (default: the settings'), before its reader holds any of it."""
    from jisr.corpus.readers import archives

    suffix = "." + rel.rsplit(".", 1)[-1].lower() if "." in rel else ""
    reader = importlib.import_module(f".{READERS[suffix]}", __name__)
    try:
        archives.check(rel, raw, limits)
        yield from reader.read(rel, raw, fields)
    except Unreadable as exc:
        yield Skipped(rel, str(exc))
