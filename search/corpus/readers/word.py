"""A Word document (.docx): its paragraphs, headings and tables in order.

python-docx (MIT, maintained) reads the document's XML; each non-empty paragraph becomes a line
(the chunker joins a short heading to the paragraph under it) and each table row "cell | cell".
The title is the document's Title property, else its first Title or Heading paragraph, else its
first line. Heading styles ("Heading 1".."Heading 9") give each passage its heading path.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from jisr.corpus.readers import Document, RecordFields, Skipped, Unreadable
from jisr.corpus.readers.text import Outline, titled


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml import etree

    try:
        word = docx.Document(io.BytesIO(raw))
    # XMLSyntaxError: damaged XML, or a text node past lxml's limit (no XML_PARSE_HUGE), which crashed a build
    except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise Unreadable(f"not a readable .docx file ({type(exc).__name__})") from None
    lines: list[str] = []
    places = []
    outline = Outline()
    heading = None
    for block in word.iter_inner_content():
        if isinstance(block, Paragraph):
            text = " ".join(block.text.split())
            style = (block.style.name if block.style is not None else "") or ""
            if text and heading is None and (style == "Title" or style.startswith("Heading")):
                heading = text
            level = style.removeprefix("Heading ")
            if text and level.isdigit():
                outline.heading(int(level), text)
            if text:
                lines.append(text)
                places.append(outline.place())
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
                    places.append(outline.place())
    props = word.core_properties
    yield titled(
        rel,
        raw,
        props.title or heading or "",
        lines,
        "docx",
        places,
        {"author": props.author, "date": props.created},
        fields,
    )
