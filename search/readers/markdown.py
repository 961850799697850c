"""Markdown -> the plain text that is indexed: what a reader sees, not the markup.

A Markdown file indexed as is puts "##", "**", link targets and code into passages and into BM25,
and a paragraph wrapped over several lines becomes several passages. Here (with markdown-it-py,
MIT, the CommonMark parser that Jupyter and rich use) each block becomes one line: headings become
heading lines (the chunker joins a short one to the paragraph under it), links and images keep
their text, table rows become "cell | cell", and code blocks, raw HTML and front matter are dropped.
"""
from __future__ import annotations

from collections.abc import Iterator

from markdown_it import MarkdownIt

from search.readers import Document, RecordFields, Skipped, Unreadable
from search.readers.text import decoded, document

_PARSER = MarkdownIt("commonmark").enable("table")
_DROPPED_INLINE = {"html_inline", "link_open", "link_close"}


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    source, encoding = decoded(raw)
    text = plain_text(source)  # passage offsets point into the text without markup
    if not text.strip():
        raise Unreadable("no text outside Markdown markup and code")
    yield document(rel, raw, text, encoding)


def plain_text(source: str) -> str:
    """The readable text of a Markdown document, one block per line."""
    if source.startswith("---\n") and "\n---\n" in source[4:]:  # YAML front matter
        source = source[source.index("\n---\n", 4) + 5:]
    lines: list[str] = []
    row: list[str] | None = None
    for token in _PARSER.parse(source):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            if any(row):
                lines.append(" | ".join(row))
            row = None
        elif token.type == "inline":
            text = " ".join(_inline(token.children or []).split())
            if row is not None:
                row.append(text)
            elif text:
                lines.append(text)
    return "\n".join(lines)


def _inline(children) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline(child.children or []))  # its alt text
        elif child.type not in _DROPPED_INLINE:
            parts.append(_inline(child.children or []))
    return "".join(parts)
