"""A saved web page: its main content, without menus, headers, footers and comments.

Most of a saved news or Wikipedia page is navigation, related links and footers; indexed as
they are, every page shares those passages. trafilatura (Apache-2.0, maintained, built for
exactly this) finds the main content and keeps its paragraphs, headings and tables, one per
line. The title is the page's (its <title> or main heading).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

from search.readers import Document, RecordFields, Skipped, Unreadable
from search.readers.text import decoded


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    import trafilatura  # loads lxml and its models: only when a page is met

    source, encoding = decoded(raw)  # the page's own charset declaration is not trusted over its bytes
    found = trafilatura.bare_extraction(source, include_comments=False, include_tables=True, with_metadata=True,
                                        deduplicate=False)
    body = (found.text or "") if found is not None else ""
    lines = [" ".join(line.split()) for line in body.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise Unreadable("no main text found in the page")
    title = " ".join((found.title or "").split()) or lines[0]
    if lines[0] != title:
        lines.insert(0, title)
    yield Document(rel, rel, title, "\n".join(lines), hashlib.sha256(raw).hexdigest(), encoding)
