"""Documents sent over the API: kept in the index folder, read by every build beside the corpus folder.

A document PUT to ``/api/documents/<id>`` is the user's, as a file in the corpus folder is: a
rebuild (``jisr build`` of the same index) must keep it, so it is written to
``INDEX/documents/`` (one small JSON file per document, named by a hash of its id, in 256
subfolders so no folder grows past a few thousand files at a million documents) and each build
reads that folder as a second corpus. A document is its id, title, text and fields, or an uploaded
file (its name and bytes) read by the reader of its type. Each file is written atomically and
durably (a temporary file, fsync, rename, fsync of the folder): once a write is acknowledged, a
killed server or a power cut does not lose it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from jisr import durable
from jisr.corpus.fields import document_fields
from jisr.corpus.files import CorpusFile
from jisr.corpus.readers import SUFFIXES, Document, RecordFields, Skipped, archives, read_file

FOLDER = "documents"
UNDO = ".undo"  # in FOLDER: the earlier versions of the documents the commit under way changes (apply)
PREFIX = "<api>/"  # the corpus-relative name of a submitted document's file: no corpus file is named so
MAX_ID = 512  # characters


class NoText(ValueError):
    """An uploaded file in which its reader finds nothing to index (an empty or damaged PDF, blank text); the
    message says why. Acknowledged, it would never be searched: it is refused instead."""


def check_id(doc_id: str) -> str:
    """``doc_id`` in Unicode's composed form (NFC) if it can name a document, else ValueError saying why.
    NFC: the same name typed on two systems (أحمد with its hamza as one character or two) is one document."""
    if any("\ud800" <= c <= "\udfff" for c in doc_id):  # a JSON escape of half a UTF-16 pair: no UTF-8 for it
        raise ValueError("a document id must be valid UTF-8: it holds half a UTF-16 surrogate pair (\\ud800-\\udfff)")
    doc_id = unicodedata.normalize("NFC", doc_id)
    if not doc_id or not doc_id.strip():
        raise ValueError("a document id cannot be empty")
    if len(doc_id) > MAX_ID:
        raise ValueError(f"a document id has at most {MAX_ID} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in doc_id):
        raise ValueError("a document id cannot hold control characters")
    return doc_id


def from_json(doc_id: str, body: object) -> dict:
    """The stored form of a JSON document ``{"title", "text", "fields"}``, or ValueError saying what is wrong."""
    if not isinstance(body, dict):
        raise ValueError('a document is a JSON object, e.g. {"title": "...", "text": "..."}')
    unknown = sorted(set(body) - {"title", "text", "fields"})
    if unknown:
        raise ValueError(f"unknown document field {unknown[0]!r}; a document has title, text and fields")
    text, title, fields = body.get("text"), body.get("title", ""), body.get("fields", {})
    if not isinstance(text, str) or not text.strip():
        raise ValueError('a document needs "text": a non-empty string')
    if not isinstance(title, str):
        raise ValueError('"title" must be a string')
    if not isinstance(fields, dict):
        raise ValueError('"fields" must be an object')
    return {"id": check_id(doc_id), "title": " ".join(title.split()), "text": text, "fields": fields}


def from_upload(
    doc_id: str,
    filename: str,
    raw: bytes,
    fields: RecordFields = RecordFields(),
    limits: archives.InflationLimits | None = None,
) -> dict:
    """The stored form of an uploaded file, read now by the reader of its type (``fields``: the index's record
    fields; ``limits``: how far an archive may inflate, default the settings'), so that what the server
    acknowledges is searched. ValueError when no reader knows its type, TooInflated for an archive over
    ``limits``, NoText when the reader finds no document in it."""
    name = os.path.basename(filename or "")
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"cannot read a file named {name!r}: upload one of {', '.join(sorted(SUFFIXES))}")
    doc_id = check_id(doc_id)
    archives.check(name, raw, limits)
    found = list(read_file(name, raw, fields, limits))
    if not any(isinstance(item, Document) for item in found):
        reasons = sorted({item.reason for item in found if isinstance(item, Skipped)}) or ["nothing in it"]
        raise NoText(f"no text to index in {name!r}: {'; '.join(reasons)[:500]}")
    return {"id": doc_id, "filename": name, "content": base64.b64encode(raw).decode("ascii")}


def _path(index_dir: Path, doc_id: str) -> Path:
    key = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:40]
    return index_dir / FOLDER / key[:2] / f"{key}.json"


def holds(index_dir: str | os.PathLike, doc_id: str) -> bool:
    """Whether ``doc_id`` was sent over the API (and not deleted since)."""
    return _path(Path(index_dir), doc_id).is_file()


def apply(index_dir: str | os.PathLike, changes: dict[str, dict | None]) -> Callable[[], None]:
    """Store each document of ``changes`` (id -> stored form, None to delete it), durably and all or none: a
    failure part-way (a full disk) puts back what was changed before it is raised. Returns what puts the folder
    back as it was, for a build that fails before it commits. The earlier version of each changed file is kept
    by a hard link in ``documents/.undo/`` until the next call, so putting it back is a rename, which needs no
    free space: a full disk cannot leave a write that failed half-applied."""
    index_dir = Path(index_dir)
    aside = index_dir / FOLDER / UNDO
    shutil.rmtree(aside, ignore_errors=True)  # the previous call's: its commit is made, or it was put back
    changed: list[tuple[Path, Path | None]] = []  # each file changed, with its earlier version (None: none)

    def undo() -> None:
        for path, before in reversed(changed):
            if before is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(before, path)
        for folder in {path.parent for path, _ in changed}:
            durable.fsync_dir(folder)

    try:
        for doc_id, stored in changes.items():
            path = _path(index_dir, doc_id)
            before = None
            if path.is_file():
                aside.mkdir(parents=True, exist_ok=True)
                before = aside / path.name
                os.link(path, before)
            changed.append((path, before))
            if stored is not None:
                durable.replace(path, json.dumps(stored, ensure_ascii=False).encode("utf-8"))
            elif before is not None:
                path.unlink()
                durable.fsync_dir(path.parent)
        (index_dir / FOLDER).mkdir(exist_ok=True)
        durable.fsync_dir(index_dir / FOLDER)
        durable.fsync_dir(index_dir)
    except BaseException:
        undo()
        raise
    return undo


def files(index_dir: str | os.PathLike) -> list[CorpusFile]:
    """The stored documents of ``index_dir``, as the files a build walks (names under :data:`PREFIX`)."""
    folder = Path(index_dir) / FOLDER
    found = []
    for path in sorted(folder.glob("??/*.json")) if folder.is_dir() else []:
        st = path.stat()
        found.append(CorpusFile(path, PREFIX + path.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    return found


def owns(file: CorpusFile) -> bool:
    return file.rel.startswith(PREFIX)


def read(file: CorpusFile, fields: RecordFields = RecordFields()) -> Iterator[Document | Skipped]:
    """The document a stored file holds (an upload of records: one per record, ``id#record``)."""
    try:
        raw = file.path.read_bytes()
        stored = json.loads(raw)
        doc_id = stored["id"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        yield Skipped(file.rel, f"a document sent over the API cannot be read ({exc})")
        return
    digest = hashlib.sha256(raw).hexdigest()
    if "filename" in stored:
        name = stored["filename"]
        for item in read_file(name, base64.b64decode(stored["content"]), fields):
            if isinstance(item, Skipped):
                yield Skipped(doc_id + item.path[len(name) :], item.reason)
                continue
            rest = item.id[len(name) :]  # "" or "#record"
            title = item.title if item.title != name else doc_id
            yield Document(
                doc_id + rest, doc_id + rest, title, item.text, digest, item.encoding, item.places, item.fields
            )
        return
    title = stored.get("title") or doc_id
    given = stored.get("fields") if isinstance(stored.get("fields"), dict) else {}
    yield Document(
        doc_id, doc_id, title, f"{title}\n{stored['text']}", digest, fields=document_fields(given, fields.declared)
    )
