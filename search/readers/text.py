"""Plain text: any text encoding (search/decoding.py), the first line the title, each other line a paragraph."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

from search.decoding import Undecodable, decode
from search.readers import Document, RecordFields, Skipped, Unreadable


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


def titled(rel: str, raw: bytes, title: str, lines: list[str], encoding: str) -> Document:
    """A document of ``lines`` (each a paragraph, whitespace collapsed, empty ones dropped) under ``title``
    (else its first line), the title as its first line, as a .txt file would have it."""
    lines = [text for text in (" ".join(line.split()) for line in lines) if text]
    if not lines:
        raise Unreadable("no text in the document")
    title = " ".join(title.split()) or lines[0]
    if lines[0] != title:
        lines.insert(0, title)
    return Document(rel, rel, title, "\n".join(lines), hashlib.sha256(raw).hexdigest(), encoding)


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    text, encoding = decoded(raw)  # kept as is: passage offsets point into it
    yield document(rel, raw, text, encoding)
