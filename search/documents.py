"""Reading a corpus folder: every .txt and .md file under it, UTF-8, first line the title."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Document:
    id: str  # the path relative to the corpus folder, stable across rebuilds
    path: str
    title: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def _title(text: str) -> str:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return first.strip().lstrip("#").strip()


def read_corpus(folder: str | Path) -> tuple[list[Document], list[Skipped]]:
    """All readable documents under ``folder`` in path order, and the files skipped with why."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    documents, skipped = [], []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")  # kept as is: passage offsets point into it
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(str(path), f"not valid UTF-8 (byte {exc.start})"))
            continue
        except OSError as exc:
            skipped.append(Skipped(str(path), exc.strerror or str(exc)))
            continue
        if not text.strip():
            skipped.append(Skipped(str(path), "empty"))
            continue
        documents.append(Document(rel, str(path), _title(text), text, hashlib.sha256(raw).hexdigest()))
    return documents, skipped
