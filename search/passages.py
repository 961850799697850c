"""Documents -> passages: the units we embed, rank and show.

A passage is a paragraph (one line of the source). Boilerplate lines (a lone
advertisement marker, a source or credit line) and exact repeats of a paragraph
are dropped; a short heading line is joined to the paragraph under it. A paragraph
longer than the model's window is split at sentence ends (then at spaces, if one
sentence alone is too long) into consecutive pieces that together keep every
character, so nothing is cut off silently by the encoder.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

from jisr.arabic import language, normalize
from jisr.corpus.files import Document

TokenCounter = Callable[[Sequence[str]], list[int]]  # tokens of each text, counted in one call

_LINE = re.compile(r"[^\r\n]+")
_SENTENCE_END = re.compile(r"[.!?\u061f\u061b;\u2026]+[\"'\u00bb\u201d\u2019)\]]*(?=\s|$)")
_SPACE = re.compile(r"\s+")
_ADVERTISEMENT = {"إعلان", "اعلان", "إعلانات", "اعلانات", "advertisement", "ad", "ads", "sponsored"}
_CREDIT = re.compile(r"^(المصدر|المصادر|مصدر الخبر|source|sources|credit|credits|photo credit)\s*[:\uff1a]", re.I)
_ENDS_SENTENCE = re.compile(r"[.!?\u061f\u061b;:\u2026\"'\u00bb\u201d)]$")


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = 512  # the model's window, prompt and special tokens included
    heading_max_words: int = 6

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    doc_id: str
    title: str
    source: str
    ordinal: int  # position among the document's passages, from 0
    start: int  # character offsets into the source file's text
    end: int
    lang: str
    text: str  # exactly source_text[start:end]
    sentences: tuple[tuple[int, int], ...] = field(default=())  # offsets into text
    locator: dict = field(default_factory=dict)  # where it lies in its file (jisr.corpus.readers.Locator)
    fields: dict = field(default_factory=dict)  # its document's declared fields, typed (jisr.corpus.fields)

    def sentence_texts(self) -> list[str]:
        return [self.text[a:b] for a, b in self.sentences]

    @property
    def collection(self) -> str:
        return collection(self.source)


def collection(source: str) -> str:
    """The collection a passage belongs to: the first folder of its source's path ("" at the corpus's top),
    what a search filters on to look in "only this book" or "only hadith"."""
    head, sep, _ = source.partition("/")
    return head if sep else ""


def is_boilerplate(line: str) -> bool:
    bare = line.strip().strip(".:-–—|*#").strip()
    return bare.casefold() in _ADVERTISEMENT or bool(_CREDIT.match(bare))


def _is_heading(line: str, settings: ChunkSettings) -> bool:
    if line.startswith("#"):
        return True
    return len(line.split()) <= settings.heading_max_words and not _ENDS_SENTENCE.search(line)


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line, surrounding whitespace excluded."""
    for m in _LINE.finditer(text):
        line = m.group()
        stripped = line.strip()
        if stripped:
            start = m.start() + (len(line) - len(line.lstrip()))
            yield start, start + len(stripped)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of text[start:end] as absolute offsets; a line break always ends one."""
    end = len(text) if end is None else end
    spans = []
    for a, b in _lines(text[start:end]):
        a, b = a + start, b + start
        cursor = a
        for m in _SENTENCE_END.finditer(text, a, b):
            spans.append((cursor, m.end()))
            cursor = m.end()
            while cursor < b and text[cursor].isspace():
                cursor += 1
        if cursor < b:
            spans.append((cursor, b))
    return spans


def _word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.compile(r"\S+").finditer(text, start, end)]


def _finer(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Smaller units of text[a:b]: its words, or blocks of BLOCK characters when it has no spaces."""
    words = _word_spans(text, a, b)
    if len(words) > 1:
        return words
    step = BLOCK if b - a > BLOCK else 1
    return [(i, min(i + step, b)) for i in range(a, b, step)]


BLOCK = 32  # characters: a unit of a text with no spaces, split into characters only if it alone is too long


def _pack(text: str, units: list[tuple[int, int]], fits: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Join consecutive units into the longest spans that fit; split a unit that alone does not.

    Each span's end is searched for from the last span's size (galloping, then bisecting), so a span
    costs a few token counts of about its own length. Growing it one unit at a time re-counted it for
    every unit, so the cost grew with the square of a line's length and a line of megabytes did not finish; now
    it grows linearly (tests/test_chunking.py; figures in benchmarks/results/decisions.md and long_line.md).
    """
    pieces: list[tuple[int, int]] = []
    i, size = 0, 1  # size: units in the last piece, the first guess for the next one
    while i < len(units):
        a, b = units[i]
        if not fits(a, b):
            finer = _finer(text, a, b)
            pieces.extend([(a, b)] if len(finer) <= 1 else _pack(text, finer, fits))  # one character must go
            i += 1
            continue
        good, bad = i, len(units)  # units[i..good] fit together, units[i..bad] do not (or run out)
        guess, up = min(i + size - 1, bad - 1), True
        if guess > good:
            up = fits(a, units[guess][1])
            good, bad = (guess, bad) if up else (good, guess)
        step = 1
        while good + step < bad:  # gallop from the guess, up while it fits or down while it does not
            probe = good + step if up else bad - step
            if fits(a, units[probe][1]) != up:
                good, bad = (good, probe) if up else (probe, bad)
                break
            good, bad = (probe, bad) if up else (good, probe)
            step *= 2
        while bad - good > 1:  # bisect what is left
            mid = (good + bad) // 2
            good, bad = (mid, bad) if fits(a, units[mid][1]) else (good, mid)
        pieces.append((a, units[good][1]))
        size = good - i + 1
        i = good + 1
    return pieces


def chunk(document: Document, count_tokens: TokenCounter, settings: ChunkSettings = ChunkSettings()) -> list[Passage]:
    """Cut one document into passages; ``count_tokens`` measures texts as the model will see them."""
    text = document.text
    lines = list(_lines(text))
    body = lines[1:] or lines  # the first line is the title; a one-line file is its own passage
    spans: list[tuple[int, int]] = []
    seen: set[str] = set()
    heading_start: int | None = None
    boilerplate = [is_boilerplate(text[a:b]) for a, b in body]
    content_follows = [False] * len(body)  # is there a non-boilerplate line after line i?
    for i in range(len(body) - 2, -1, -1):
        content_follows[i] = content_follows[i + 1] or not boilerplate[i + 1]
    for i, (a, b) in enumerate(body):
        line = text[a:b]
        if boilerplate[i]:
            continue
        key = _SPACE.sub(" ", normalize(line))
        if key in seen:
            continue
        seen.add(key)
        if content_follows[i] and _is_heading(line, settings):
            heading_start = a if heading_start is None else heading_start
            continue
        spans.append((a if heading_start is None else heading_start, b))
        heading_start = None

    def fits(a: int, b: int) -> bool:
        return count_tokens([text[a:b]])[0] <= settings.max_tokens

    pieces = []
    counts = count_tokens([text[a:b] for a, b in spans]) if spans else []  # one call: the tokenizer batches
    for (a, b), n in zip(spans, counts):
        pieces.extend([(a, b)] if n <= settings.max_tokens else _pack(text, sentence_spans(text, a, b), fits))

    starts = [offset for offset, _ in document.places]
    passages = []
    for ordinal, (a, b) in enumerate(pieces):
        sentences = tuple((s - a, e - a) for s, e in sentence_spans(text, a, b))
        place = bisect.bisect_right(starts, a) - 1
        passages.append(
            Passage(
                document.id,
                document.title,
                document.path,
                ordinal,
                a,
                b,
                language(text[a:b]),
                text[a:b],
                sentences,
                dict(document.places[place][1]) if place >= 0 else {},
                dict(document.fields),
            )
        )
    return passages


def passage_input(p: Passage) -> str:
    """What the model reads for a passage: its document's title, then its text.

    The title tells the model what a paragraph is about when the paragraph itself does not say
    (a hadith's chapter, an article's headline); it raised hybrid's MRR@10 on the tune halves of both
    labeled sets (benchmarks/results/decisions.md). Sentences are read alone: they are evidence of their
    own words.
    """
    return f"{p.title}\n{p.text}" if p.title else p.text
