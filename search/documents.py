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
from pathlib import Path

from search.readers import SUFFIXES, Document, RecordFields, Skipped, read_file

__all__ = ["Document", "RecordFields", "Skipped", "iter_corpus", "read_corpus"]


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
        except OSError as exc:
            yield Skipped(rel, exc.strerror or str(exc))
            continue
        yield from read_file(rel, raw, fields)


def read_corpus(folder: str | Path, follow_links: bool = False,
                fields: RecordFields = RecordFields()) -> tuple[list[Document], list[Skipped]]:
    """All readable documents under ``folder`` in path order, and what was skipped with why."""
    found = list(iter_corpus(folder, follow_links, fields))
    return ([d for d in found if isinstance(d, Document)],
            sorted((s for s in found if isinstance(s, Skipped)), key=lambda s: s.path))
