"""Reading a corpus folder: every file under it that a reader knows (search/readers/: text,
Markdown, HTML, Word, JSONL/CSV records), one file in memory at a time.

The corpus folder is a boundary: a symbolic link is followed only while its target lies
inside the folder, unless the user asks for more (``follow_links``), so a link to
/etc/passwd is never indexed and served by accident. Every link not followed, dangling
link and link loop is reported as skipped with its reason. Paths are kept relative to the
corpus folder, so an index never shows where the corpus lies on the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jisr.corpus.readers import SUFFIXES, Document, RecordFields, Skipped, read_file

__all__ = [
    "CorpusFile",
    "Document",
    "RecordFields",
    "Skipped",
    "corpus_files",
    "iter_corpus",
    "read_corpus",
    "read_corpus_file",
]


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, as text that can be written anywhere: bytes of a file name that
    are not UTF-8 appear as \\x escapes instead of breaking the index files. (The walk builds every
    path from ``root``, so string slicing does what PurePath.relative_to did at a fifth of the cost.)"""
    text, top = str(path), str(root) + os.sep
    rel = text[len(top) :].replace(os.sep, "/") if text.startswith(top) else path.relative_to(root).as_posix()
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
                    yield Skipped(
                        _shown(path, root),
                        "link to outside the corpus folder, not followed (pass --follow-links to index it)",
                    )
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


@dataclass(frozen=True)
class CorpusFile:
    """A file a reader knows, as the walk found it: enough to tell whether it changed without reading it."""

    path: Path
    rel: str  # relative to the corpus folder, as users see it
    size: int
    mtime_ns: int


def corpus_files(folder: str | Path, follow_links: bool = False) -> tuple[list[CorpusFile], list[Skipped]]:
    """The files under ``folder`` that a reader knows, in path order, and the links and folders skipped."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    files, skipped = [], []
    for found in _walk(root, follow_links):
        if isinstance(found, Skipped):
            skipped.append(found)
            continue
        try:
            st = found.stat()
        except OSError as exc:
            skipped.append(Skipped(_shown(found, root), exc.strerror or str(exc)))
            continue
        files.append(CorpusFile(found, _shown(found, root), st.st_size, st.st_mtime_ns))
    return sorted(files, key=lambda f: f.rel), skipped


def read_corpus_file(file: CorpusFile, fields: RecordFields = RecordFields()) -> Iterator[Document | Skipped]:
    """The documents in one corpus file, or what was skipped in it and why."""
    try:
        raw = file.path.read_bytes()
    except OSError as exc:
        yield Skipped(file.rel, exc.strerror or str(exc))
        return
    yield from read_file(file.rel, raw, fields)


def iter_corpus(
    folder: str | Path, follow_links: bool = False, fields: RecordFields = RecordFields()
) -> Iterator[Document | Skipped]:
    """Each readable document under ``folder`` in path order, or what was skipped with why; one file in
    memory at a time, so a corpus of any size can be read. ``fields``: which fields of JSONL/CSV
    records hold their text, title and id."""
    files, skipped = corpus_files(folder, follow_links)
    yield from skipped
    for file in files:
        yield from read_corpus_file(file, fields)


def read_corpus(
    folder: str | Path, follow_links: bool = False, fields: RecordFields = RecordFields()
) -> tuple[list[Document], list[Skipped]]:
    """All readable documents under ``folder`` in path order, and what was skipped with why."""
    found = list(iter_corpus(folder, follow_links, fields))
    return (
        [d for d in found if isinstance(d, Document)],
        sorted((s for s in found if isinstance(s, Skipped)), key=lambda s: s.path),
    )
