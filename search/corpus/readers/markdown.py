"""Markdown -> the plain text that is indexed: what a reader sees, not the markup.

A Markdown file indexed as is puts "##", "**", link targets and code into passages and into BM25,
and a paragraph wrapped over several lines becomes several passages. Here (with markdown-it-py,
MIT, the CommonMark parser that Jupyter and rich use) each block becomes one line: headings become
heading lines (the chunker joins a short one to the paragraph under it) and give each passage its
heading path, links and images keep their text, table rows become "cell | cell", and code blocks,
raw HTML and front matter are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

from markdown_it import MarkdownIt

from jisr.corpus.readers import Document, Locator, RecordFields, Skipped, Unreadable
from jisr.corpus.readers.text import Outline, decoded, titled

_PARSER = MarkdownIt("commonmark").enable("table")
_DROPPED_INLINE = {"html_inline", "link_open", "link_close"}


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    source, encoding = decoded(raw)
    lines, places = blocks(source)  # passage offsets point into the text without markup
    if not lines:
        raise Unreadable("no text outside Markdown markup and code")
    yield titled(rel, raw, "", lines, encoding, places)


def blocks(source: str) -> tuple[list[str], list[Locator]]:
    """The readable text of a Markdown document, one block per line, and the heading path of each."""
    if source.startswith("---\n") and "\n---\n" in source[4:]:  # YAML front matter
        source = source[source.index("\n---\n", 4) + 5 :]
    lines: list[str] = []
    places: list[Locator] = []
    outline = Outline()
    row: list[str] | None = None
    level = 0  # of the heading being read, else 0
    for token in _PARSER.parse(source):
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "heading_close":
            level = 0
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            if any(row):
                lines.append(" | ".join(row))
                places.append(outline.place())
            row = None
        elif token.type == "inline":
            text = " ".join(_inline(token.children or []).split())
            if row is not None:
                row.append(text)
            elif text:
                if level:
                    outline.heading(level, text)
                lines.append(text)
                places.append(outline.place())
    return lines, places


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
