"""Plain text: any text encoding (search/corpus/decoding.py), the first line the title, each other line a paragraph."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping

from jisr.corpus.decoding import Undecodable, decode
from jisr.corpus.fields import document_fields
from jisr.corpus.readers import Document, Locator, RecordFields, Skipped, Unreadable


def decoded(raw: bytes) -> tuple[str, str]:
    """(text, encoding), or Unreadable saying why; empty text is unreadable too."""
    try:
        text, encoding = decode(raw)
    except Undecodable as exc:
        raise Unreadable(str(exc)) from None
    if not text.strip():
        raise Unreadable("empty")
    return text, encoding


def document(rel: str, raw: bytes, text: str, encoding: str) -> Document:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return Document(rel, rel, first.strip().lstrip("#").strip(), text, hashlib.sha256(raw).hexdigest(), encoding)


def titled(
    rel: str,
    raw: bytes,
    title: str,
    lines: list[str],
    encoding: str,
    places: list[Locator] | None = None,
    metadata: Mapping | None = None,
    fields: RecordFields = RecordFields(),
) -> Document:
    """A document of ``lines`` (each a paragraph, whitespace collapsed, empty ones dropped) under ``title``
    (else its first line), the title as its first line, as a .txt file would have it. ``places``: where
    each line came from (one locator per line); a heading path that starts with the title omits it.
    ``metadata``: what the file says of itself (author, date), kept as the fields of those names that
    the build declares (``fields``, `--field author --field date:date`)."""
    kept = [
        (text, place)
        for text, place in zip((" ".join(line.split()) for line in lines), places or [{}] * len(lines))
        if text
    ]
    if not kept:
        raise Unreadable("no text in the document")
    title = " ".join(title.split()) or kept[0][0]
    if kept[0][0] != title:
        kept.insert(0, (title, {}))
    marks, offset, last = [], 0, {}
    for text, place in kept:
        if place.get("section", [None])[0] == title:
            place = (
                {**place, "section": place["section"][1:]}
                if len(place["section"]) > 1
                else {k: v for k, v in place.items() if k != "section"}
            )
        if place != last:
            marks.append((offset, place))
            last = place
        offset += len(text) + 1
    meta = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in (metadata or {}).items()}
    return Document(
        rel,
        rel,
        title,
        "\n".join(text for text, _ in kept),
        hashlib.sha256(raw).hexdigest(),
        encoding,
        tuple(marks),
        document_fields(meta, fields.declared),
    )


class Outline:
    """The heading path at each point of a document: a heading of level n closes those of level >= n."""

    def __init__(self):
        self.open: list[tuple[int, str]] = []

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if text:
            while self.open and self.open[-1][0] >= level:
                self.open.pop()
            self.open.append((level, text))

    def place(self) -> Locator:
        return {"section": [text for _, text in self.open]} if self.open else {}


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    text, encoding = decoded(raw)  # kept as is: passage offsets point into it
    yield document(rel, raw, text, encoding)
