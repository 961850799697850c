"""A PDF: the text layer of each page, in reading order, each paragraph with its page number.

A PDF holds glyphs at positions, not text. pypdf (BSD-3, pure Python, maintained by py-pdf) gives
each run of glyphs with its Unicode text and position; this module rebuilds lines (by baseline),
paragraphs (by the gap between lines) and reading order:

- A right-to-left line's runs are laid out from left to right: they are put back in reading order,
  runs of Latin words and numbers inside it kept as they are, and brackets drawn mirrored turned
  back. Without this, "(الأوروبية)" comes out as ")الأوروبية(" after the text it ends.
- Arabic is often stored as presentation forms (U+FB50-U+FDFF, U+FE70-U+FEFF: a letter's initial,
  medial, final or isolated glyph). They are read as the letters they draw (NFKC), or the model and
  BM25 would see words no one types.
- Glyphs are drawn left to right, so PDFs store Arabic in visual order, which pypdf turns around run
  by run. A producer that stored its glyphs in reading order instead gives text that reads backwards.
  The shapes tell: a word read forwards starts with an initial or isolated form and ends with a final
  or isolated one. When most words read the other way round (or, without presentation forms, when
  common words such as "في" and "من" appear reversed), each line is turned around, its Latin and
  number runs kept in order.
- Running headers and footers are dropped: a page number alone at the top or bottom of a page; a line
  that opens or closes most pages alike (digits aside: "Chapter 2 · page 14"); and a line in a page's
  margin, smaller than the body text, that holds what a printing browser puts there (the date and
  time, the page's address, "3/12"). Left in, a browser's header joined the document's title
  ("... وادي النيل 12/2/26,") and its footer became a passage that queries found.
  A paragraph is not joined across a page break: it would need guessing, and each passage keeps the
  page it starts on.

A file with no text layer (a scanned image) is skipped with that reason: it needs OCR first.
Columns side by side are read as one line each; a PDF laid out in columns needs another reader.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from jisr.corpus.readers import Document, Locator, RecordFields, Skipped, Unreadable
from jisr.corpus.readers.archives import TooInflated
from jisr.corpus.readers.text import titled

_ARABIC = re.compile(r"[\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")
_LATIN = re.compile(r"[^\W\d_\u0600-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")  # letters of other scripts
_DIGIT = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]")
_LTR_RUN = re.compile(
    r"[0-9A-Za-z\u00c0-\u024f\u0660-\u0669\u06f0-\u06f9]"
    r"(?:[0-9A-Za-z\u00c0-\u024f\u0660-\u0669\u06f0-\u06f9 .,:/%'\-+]*"
    r"[0-9A-Za-z\u00c0-\u024f\u0660-\u0669\u06f0-\u06f9])?"
)
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")
_WORD = re.compile(r"[\u0621-\u064a\ufb50-\ufdff\ufe70-\ufefc]{2,}")
_ARABIC_LETTER = "[\u0621-\u063f\u0641-\u064a]"  # not tatweel: "الـ26" is written joined on purpose
_SCRIPTS_TOUCH = re.compile(f"(?<={_ARABIC_LETTER})(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?={_ARABIC_LETTER})")
_TIGHT = re.compile(r"(?<=[(\[]) | (?=[)\],.\u060c])")
_PAGE_NUMBER = re.compile(r"\W*\d{1,4}\W*")
_DIGITS = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]+")
# what a browser or word processor prints in a page's margin: an address, a page count, a date, a time
_MARGIN_NOTE = re.compile(
    r"\b(?:file|https?)://|\b\d{1,4}\s*/\s*\d{1,4}\b(?!\s*/)|\b(?:page|p\.)\s*\d+"
    r"|\bصفحة\s*\d+|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?",
    re.IGNORECASE,
)
_SHAPES = {"initial": "I", "medial": "M", "final": "F", "isolated": "S"}
_COMMON = {"في", "من", "على", "إلى", "الى", "عن", "أن", "ان", "التي", "الذي", "مع", "هذا", "كان", "قال"}
_COMMON_REVERSED = {w[::-1] for w in _COMMON}


def _forms() -> dict[str, str]:
    """Each Arabic presentation-form character -> I, M, F or S (initial, medial, final, isolated)."""
    found = {}
    for code in list(range(0xFB50, 0xFE00)) + list(range(0xFE70, 0xFEFD)):
        tag = unicodedata.decomposition(chr(code)).split(" ", 1)[0].strip("<>")
        if tag in _SHAPES:
            found[chr(code)] = _SHAPES[tag]
    return found


_FORM = _forms()
logging.getLogger("pypdf").setLevel(logging.ERROR)  # its notes on damaged files: the skip list says why, once


@dataclass
class _Line:
    y: float
    size: float
    page: int
    runs: list[tuple[float, str]] = field(default_factory=list)  # (x, text) in the order drawn


def read(rel: str, raw: bytes, fields: RecordFields) -> Iterator[Document | Skipped]:
    lines = _lines(raw)
    if not any(text.strip() for line in lines for _, text in line.runs):
        raise Unreadable("no text layer (a scanned image?): run OCR on it first, for example with ocrmypdf")
    logical = [_logical(line) for line in lines]
    if _reads_backwards(logical):
        logical = [_turned_around(line) for line in lines]
    texts = [_unforms(text) for text in logical]
    paragraphs: list[str] = []
    places: list[Locator] = []
    typical = _typical_gaps(lines)
    previous = None
    for line, text in _without_margins(lines, texts):
        if not text:
            continue
        if previous is not None and not _breaks(previous, line, typical):
            paragraphs[-1] = _join(paragraphs[-1], text)
        else:
            paragraphs.append(text)
            places.append({"page": line.page})
        previous = line
    yield titled(rel, raw, "", paragraphs, "pdf", places, _metadata(raw) if fields.extra else None, fields)


def _metadata(raw: bytes) -> dict:
    """The PDF's Author and CreationDate, when its document information has them."""
    from pypdf import PdfReader

    try:
        info = PdfReader(io.BytesIO(raw)).metadata
        return {"author": info.author, "date": info.creation_date} if info else {}
    except Exception:  # noqa: BLE001 - a damaged information dictionary only loses the metadata, never the text
        return {}


def _lines(raw: bytes) -> list[_Line]:
    """Each page's lines, top to bottom: runs of text grouped by baseline."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        pdf = PdfReader(io.BytesIO(raw))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise Unreadable("encrypted with a password")
        found: list[_Line] = []
        for number, page in enumerate(pdf.pages, start=1):
            on_page: list[_Line] = []

            def visit(text, cm, tm, font, size, on_page=on_page, number=number):
                text = text.replace("\n", "")
                if not text:
                    return
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                height = abs(size * (tm[2] * cm[1] + tm[3] * cm[3])) or abs(size) or 1.0
                line = next((ln for ln in reversed(on_page) if abs(ln.y - y) < 0.4 * max(height, ln.size)), None)
                if line is None:
                    line = _Line(y, height, number)
                    on_page.append(line)
                line.runs.append((x, text))

            page.extract_text(visitor_text=visit)
            found += sorted(on_page, key=lambda ln: -ln.y)
        return found
    except Unreadable:
        raise
    except LimitReachedError:  # pypdf's own bound on what one stream may inflate to: a bomb, refused as a .docx one
        raise TooInflated("a stream of it inflates past the limit pypdf sets on one stream") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file can fail anywhere in the parser: it is skipped, not fatal
        raise Unreadable(f"not a readable PDF ({type(exc).__name__})") from None


def _direction(text: str) -> str:
    if _ARABIC.search(text):
        return "R"
    return "L" if _LATIN.search(text) or _DIGIT.search(text) else "N"


def _logical(line: _Line) -> str:
    """The line's runs in reading order. Runs are sorted left to right; in a right-to-left line the order
    of runs is reversed, except within runs of Latin text and numbers (and the spaces between them)."""
    runs = [text for _, text in sorted(line.runs, key=lambda r: r[0])]
    kinds = [_direction(t) for t in runs]
    letters = "".join(runs)
    if len(_ARABIC.findall(letters)) < len(_LATIN.findall(letters)):
        return "".join(runs)
    groups: list[str] = []  # in visual order: a run of Latin and numbers, or one other run
    i = 0
    while i < len(runs):
        if kinds[i] == "L":
            j = i
            for k in range(i, len(runs)):
                if kinds[k] == "R":
                    break
                if kinds[k] == "L":
                    j = k
            groups.append("".join(runs[i : j + 1]))
            i = j + 1
        else:
            groups.append(runs[i].translate(_MIRROR))
            i += 1
    return "".join(reversed(groups))


def _turned_around(line: _Line) -> str:
    """A line whose text reads backwards, turned around: reversed, its Latin and number runs turned back.
    Its brackets were stored as typed, not mirrored, so they stay."""
    text = "".join(t for _, t in sorted(line.runs, key=lambda r: r[0]))[::-1]
    return _LTR_RUN.sub(lambda m: m.group()[::-1], text)


def _reads_backwards(texts: list[str]) -> bool:
    """Whether the file's Arabic (its lines in reading order) reads backwards: its words' shapes, else its
    common words, say so."""
    forwards = backwards = 0
    for text in texts:
        for word in _WORD.findall(text):
            first, last = _FORM.get(word[0]), _FORM.get(word[-1])
            if first is None or last is None or (first, last) == ("S", "S"):
                common = unicodedata.normalize("NFKC", word)
                forwards += common in _COMMON
                backwards += common in _COMMON_REVERSED
                continue
            forwards += first in "IS" and last in "FS"
            backwards += first in "FS" and last in "IS"
    return backwards > forwards


def _unforms(text: str) -> str:
    """Presentation forms read as the letters they draw; spaces collapsed, none inside brackets or before a
    comma or full stop, and one between Arabic and Latin letters or digits that touch. Spaces between runs
    are guessed from gaps, and the guess varies: one caption came out as "(الجزيرة )" once and
    "( الجزيرة )" below it, and was not seen as a repeat; "مطار Le Bourget" came out "مطارLe Bourget",
    one word to BM25."""
    text = "".join(unicodedata.normalize("NFKC", c) if "\ufb50" <= c <= "\ufefc" else c for c in text)
    return _TIGHT.sub("", _SCRIPTS_TOUCH.sub(" ", " ".join(text.split())))


def _without_margins(lines: list[_Line], texts: list[str]) -> Iterator[tuple[_Line, str]]:
    """The lines that are the document's text: running headers, footers and page numbers left out."""
    edges = [
        i
        for i, line in enumerate(lines)
        if i == 0 or i == len(lines) - 1 or lines[i - 1].page != line.page or lines[i + 1].page != line.page
    ]
    pages = len({line.page for line in lines})
    body = _body_size(lines, texts)
    seen: dict[tuple[bool, str], set[int]] = {}  # (at the top, text with digits as #) -> the pages it is on
    for i in edges:
        top = i == 0 or lines[i - 1].page != lines[i].page
        seen.setdefault((top, _DIGITS.sub("#", texts[i])), set()).add(lines[i].page)
    dropped = set()
    for i in edges:
        text = texts[i]
        top = i == 0 or lines[i - 1].page != lines[i].page
        running = pages > 1 and len(seen[(top, _DIGITS.sub("#", text))]) >= max(2, pages / 2)
        note = lines[i].size < 0.85 * body and _MARGIN_NOTE.search(unicodedata.normalize("NFKC", text))
        if _PAGE_NUMBER.fullmatch(text) or running or note:
            dropped.add(i)
    return ((line, text) for i, (line, text) in enumerate(zip(lines, texts)) if i not in dropped)


def _body_size(lines: list[_Line], texts: list[str]) -> float:
    """The size of most of the text's characters: the body's, which headings and margin notes are not."""
    chars: dict[float, int] = {}
    for line, text in zip(lines, texts):
        chars[round(line.size, 1)] = chars.get(round(line.size, 1), 0) + len(text)
    return max(chars, key=chars.get) if chars else 0.0


def _typical_gaps(lines: list[_Line]) -> dict[int, float]:
    """The usual distance between baselines inside a paragraph, per font size (in whole points): the
    lower fifth of the gaps seen, so the larger gaps between paragraphs stand out."""
    gaps: dict[int, list[float]] = {}
    for a, b in zip(lines, lines[1:]):
        if a.page == b.page and round(a.size) == round(b.size) and a.y > b.y:
            gaps.setdefault(round(a.size), []).append(a.y - b.y)
    return {size: statistics.quantiles(g, n=5)[0] if len(g) > 1 else g[0] for size, g in gaps.items()}


def _breaks(a: _Line, b: _Line, typical: dict[int, float]) -> bool:
    """Whether line b starts a new paragraph after line a."""
    if a.page != b.page or abs(a.size - b.size) > 0.1 * a.size or a.y <= b.y:
        return True
    gap = a.y - b.y  # more than 2.2 sizes: a blank line's worth, even where every paragraph is one line
    return gap > 1.3 * typical.get(round(a.size), gap) or gap > 2.2 * a.size


def _join(paragraph: str, line: str) -> str:
    if re.search(r"[a-z]-$", paragraph) and line[:1].islower():  # a word hyphenated at the line's end
        return paragraph[:-1] + line
    return f"{paragraph} {line}"
