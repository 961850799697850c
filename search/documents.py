"""Reading a corpus folder: every .txt and .md file under it, in whatever text encoding it is
(search/decoding.py), Markdown as its plain text (search/markdown.py), first line the title; and every .jsonl, .csv and .tsv file, one document
per record (search/records.py).

The corpus folder is a boundary: a symbolic link is followed only while its target lies
inside the folder, unless the user asks for more (``follow_links``), so a link to
/etc/passwd is never indexed and served by accident. Every link not followed, dangling
link and link loop is reported as skipped with its reason. Paths are kept relative to the
corpus folder, so an index never shows where the corpus lies on the server.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from search.decoding import Undecodable, decode
from search.markdown import plain_text
from search.records import SUFFIXES as RECORD_SUFFIXES, RecordFields, read_records

SUFFIXES = (".txt", ".md") + RECORD_SUFFIXES


@dataclass(frozen=True)
class Document:
    id: str  # the path relative to the corpus folder, stable across rebuilds
    path: str  # what users see as the source: the same relative path
    title: str
    text: str
    sha256: str  # of the file's bytes
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Skipped:
    path: str  # relative to the corpus folder
    reason: str


def _title(text: str) -> str:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return first.strip().lstrip("#").strip()


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, as text that can be written anywhere: bytes of a file name that
    are not UTF-8 appear as \\x escapes instead of breaking the index files."""
    rel = path.relative_to(root).as_posix()
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _walk(root: Path, follow_links: bool) -> Iterator[Path | Skipped]:
    """Candidate files under ``root`` and links not followed, depth first."""
    inside = root.resolve()
    seen = {inside}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            yield Skipped(_shown(folder, root), f"folder not readable ({exc.strerror})")
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except FileNotFoundError:
                    yield Skipped(_shown(path, root), "dangling link (its target does not exist)")
                    continue
                except (RuntimeError, OSError):
                    yield Skipped(_shown(path, root), "link loop")
                    continue
                if not follow_links and not target.is_relative_to(inside):
                    yield Skipped(_shown(path, root), "link to outside the corpus folder, not followed "
                                                      "(pass --follow-links to index it)")
                    continue
                if target.is_dir():
                    if target in seen or inside.is_relative_to(target):
                        yield Skipped(_shown(path, root), "link loop (to a folder already read)")
                        continue
                    seen.add(target)
                    stack.append(path)
                elif path.suffix.lower() in SUFFIXES and target.is_file():
                    yield path
            elif entry.is_dir(follow_symlinks=False):
                seen.add(path.resolve())
                stack.append(path)
            elif path.suffix.lower() in SUFFIXES and entry.is_file(follow_symlinks=False):
                yield path


def iter_corpus(folder: str | Path, follow_links: bool = False,
                fields: RecordFields = RecordFields()) -> Iterator[Document | Skipped]:
    """Each readable document under ``folder`` in path order, or what was skipped with why; one file in
    memory at a time, so a corpus of any size can be read. ``fields``: which fields of JSONL/CSV
    records hold their text, title and id."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    found = list(_walk(root, follow_links))
    yield from (s for s in found if isinstance(s, Skipped))
    for path in sorted((p for p in found if isinstance(p, Path)), key=lambda p: _shown(p, root)):
        rel = _shown(path, root)
        try:
            raw = path.read_bytes()
            text, encoding = decode(raw)  # passage offsets point into this text
        except Undecodable as exc:
            yield Skipped(rel, str(exc))
            continue
        except OSError as exc:
            yield Skipped(rel, exc.strerror or str(exc))
            continue
        if not text.strip():
            yield Skipped(rel, "empty")
            continue
        if path.suffix.lower() in RECORD_SUFFIXES:
            yield from read_records(rel, text, encoding, fields)
            continue
        if path.suffix.lower() == ".md":
            text = plain_text(text)  # passage offsets point into the text as indexed, without markup
            if not text.strip():
                yield Skipped(rel, "no text outside Markdown markup and code")
                continue
        yield Document(rel, rel, _title(text), text, hashlib.sha256(raw).hexdigest(), encoding)


def read_corpus(folder: str | Path, follow_links: bool = False,
                fields: RecordFields = RecordFields()) -> tuple[list[Document], list[Skipped]]:
    """All readable documents under ``folder`` in path order, and what was skipped with why."""
    found = list(iter_corpus(folder, follow_links, fields))
    return ([d for d in found if isinstance(d, Document)],
            sorted((s for s in found if isinstance(s, Skipped)), key=lambda s: s.path))
