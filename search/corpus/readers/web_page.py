"""A saved web page: its main content, without menus, headers, footers and comments.

Most of a saved news or Wikipedia page is navigation, related links and footers; indexed as
they are, every page shares those passages. trafilatura (Apache-2.0, maintained, built for
exactly this) finds the main content and keeps its paragraphs, headings and tables, one per
line. The title is the page's (its <title> or main heading); its headings give each passage its
heading path.
"""

from __future__ import annotations

from collections.abc import Iterator

from jisr.corpus.readers import Document, RecordFields, Skipped, Unreadable
from jisr.corpus.readers.text import Outline, decoded, titled


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    import trafilatura  # loads lxml and its models: only when a page is met

    source, encoding = decoded(raw)  # the page's own charset declaration is not trusted over its bytes
    # favor_precision: on a short page the default falls back to the whole body, menus included
    # (a one-paragraph article under <nav>الرئيسية</nav> kept "الرئيسية" as its first passage line)
    found = trafilatura.bare_extraction(
        source, include_comments=False, include_tables=True, with_metadata=True, deduplicate=False, favor_precision=True
    )
    if found is None or not (found.text or "").strip():
        raise Unreadable("no main text found in the page")
    lines = found.text.split("\n")
    yield titled(
        rel,
        raw,
        found.title or "",
        lines,
        encoding,
        _places(found.body, lines),
        {"author": found.author, "date": found.date},
        fields,
    )


def _places(body, lines: list[str]) -> list:
    """The heading path of each line of trafilatura's text: its <head rend="hN"> elements, met in order."""
    heads = [
        (_level(h.get("rend", "")), " ".join("".join(h.itertext()).split()))
        for h in (body.iter("head") if body is not None else [])
    ]
    outline, places, i = Outline(), [], 0
    for line in lines:
        if i < len(heads) and " ".join(line.split()) == heads[i][1]:
            outline.heading(*heads[i])
            i += 1
        places.append(outline.place())
    return places


def _level(rend: str) -> int:
    return int(rend[1:]) if rend[:1] == "h" and rend[1:].isdigit() else 2
