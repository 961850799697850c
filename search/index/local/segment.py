"""A segment: an immutable slice of the index, as in Lucene. Passages in SQLite, vectors memory-mapped.

A build fills a segment in batches. Each batch appends its vectors to two flat files and then
commits its rows in one SQLite transaction, so a killed build loses at most the batch in flight:
the next build truncates the vector files to the rows SQLite holds and goes on where it stopped.
``finish`` writes what is derived from the rows (sentence offsets, languages, postings, the vector
index) and last ``segment.json``, which names every file with its size and sha256; from then on the
segment never changes. A passage's text is kept zlib-compressed (less than half the size on Arabic,
and cheap to read back for the tens a query reads; benchmarks/results/decisions.md): segments written
before that keep it as text and are read as they are. Opening one reads only small files and maps the
rest: its cost does not grow with the passages it holds.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from jisr import durable
from jisr.index import lexical
from jisr.index.local import ann
from jisr.index.local import vectors as stored
from jisr.index.options import VectorIndexPolicy
from jisr.passages import Passage, collection

META = "segment.json"  # written last: a segment folder without it is unfinished
BUILDING = "building.json"  # what an unfinished segment is being built with
LANGS = ("ar", "en")
COMPANION = "companion.bin"  # a companion encoder's passage vectors (jisr.embeddings.companion), when the build has one
_SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, lang TEXT NOT NULL,
    text TEXT NOT NULL, sentences TEXT NOT NULL, first_sentence INTEGER NOT NULL, locator TEXT NOT NULL DEFAULT '{}',
    fields TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS documents (doc_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, passages INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS passages_by_doc ON passages (doc_id);
"""
REQUIRED = {
    "passages.sqlite",
    "vectors.bin",
    "sentences.bin",
    "sentence_offsets.npy",
    "lang.npy",
    *(f"lexical/{name}" for name in lexical.FILES),
}
DOCUMENT_COLUMNS = ("doc_id", "source", "collection")  # what a filter compares per document, kept in documents/
OPTIONAL = {
    ann.FILE,
    *(f"lexical/{name}" for name in lexical.DENSE_FILES),  # segments written before them lack these
    *(f"lexical/{name}" for name in lexical.COUNTS + lexical.WEIGHTS),  # one of the two (Postings checks)
    COMPANION,
    "documents/row_doc.npy",
    *(f"documents/{c}.npy" for c in DOCUMENT_COLUMNS),
    *(
        f(name)
        for name in ("vectors.bin", "sentences.bin", COMPANION)
        for f in (stored.scales_file, stored.center_file)
    ),
}  # int8 segments
_COLUMNS = 'doc_id, title, source, ordinal, start, "end", lang, text, sentences, locator, fields'


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


class SegmentWriter:
    """Fills one new segment folder; ``add`` is one durable batch, ``finish`` seals the segment.
    ``centers``: what int8 vectors are stored from (:mod:`jisr.index.local.vectors`), by file, as the
    index's other segments store them; by default the mean of the segment's first batch."""

    def __init__(self, folder: Path, header: dict, centers: dict[str, np.ndarray] | None = None):
        self.folder, self.header = folder, header
        self.dim = int(header["dimension"])
        self.companion_dim = int(header["companion"]["dimension"]) if header.get("companion") else 0
        self.kinds = kinds(header)
        self.centers, self._saved = dict(centers or {}), set()
        resumed = (folder / BUILDING).exists()
        durable.make_dirs(folder)
        if not resumed:
            (folder / BUILDING).write_text(json.dumps(header, ensure_ascii=False), encoding="utf-8")
        self.db = sqlite3.connect(folder / "passages.sqlite")
        self.db.execute("PRAGMA synchronous=OFF")  # durable against a killed process; fsynced at finish
        self.db.executescript(_SCHEMA)
        have = {row[1] for row in self.db.execute("PRAGMA table_info(passages)")}
        for column in ("locator", "fields"):  # resuming a segment begun before passages had these
            if column not in have:
                self.db.execute(f"ALTER TABLE passages ADD COLUMN {column} TEXT NOT NULL DEFAULT '{{}}'")
        self.rows = self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        last = self.db.execute("SELECT first_sentence, sentences FROM passages ORDER BY id DESC LIMIT 1").fetchone()
        self.sentence_rows = last[0] + len(json.loads(last[1])) if last else 0
        # vectors appended after the last committed batch belong to no row: cut them off
        for name, count, dim in (
            ("vectors.bin", self.rows, self.dim),
            ("sentences.bin", self.sentence_rows, self.dim),
            (COMPANION, self.rows, self.companion_dim),
        ):
            if dim:
                kind = self.kinds[name]
                for file, size in zip(stored.files(name, kind), stored.row_bytes(kind, dim)):
                    with open(folder / file, "ab") as f:
                        f.truncate(count * size)

    @staticmethod
    def resumable(folder: Path, header: dict) -> bool:
        """Whether ``folder`` is an unfinished segment built with exactly ``header`` (model, chunking)."""
        try:
            return (
                json.loads((folder / BUILDING).read_text(encoding="utf-8")) == header and not (folder / META).exists()
            )
        except (OSError, ValueError):
            return False

    def documents(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT doc_id, sha256 FROM documents"))

    def add(
        self,
        documents: Sequence[tuple[str, str]],
        passages: Sequence[Passage],
        passage_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        companion_vectors: np.ndarray | None = None,
    ) -> None:
        """Append whole documents ((id, sha256)) with their passages and vectors, in one transaction
        (``companion_vectors``: one per passage, when the header names a companion)."""
        if self.companion_dim and (companion_vectors is None or len(companion_vectors) != len(passages)):
            raise ValueError("a segment with a companion needs one companion vector per passage")
        written = [("vectors.bin", passage_vectors), ("sentences.bin", sentence_vectors)]
        for name, vectors in written + ([(COMPANION, companion_vectors)] if self.companion_dim else []):
            center = self._center(name, vectors)
            kind = self.kinds[name]
            for file, data in zip(stored.files(name, kind), stored.encoded(vectors, kind, center)):
                with open(self.folder / file, "ab") as f:
                    f.write(data)
        counts: dict[str, int] = {doc: 0 for doc, _ in documents}
        rows = []
        for p in passages:
            counts[p.doc_id] += 1
            rows.append(
                (
                    self.rows + len(rows),
                    p.doc_id,
                    p.title,
                    p.source,
                    p.ordinal,
                    p.start,
                    p.end,
                    p.lang,
                    _pack(p.text),
                    json.dumps(p.sentences),
                    json.dumps(p.locator, ensure_ascii=False),
                    json.dumps(p.fields, ensure_ascii=False, sort_keys=True),
                    self.sentence_rows,
                )
            )
            self.sentence_rows += len(p.sentences)
        with self.db:
            self.db.executemany(
                f"INSERT INTO passages (id, {_COLUMNS}, first_sentence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", [(doc, sha, counts[doc]) for doc, sha in documents]
            )
        self.rows += len(rows)

    def _center(self, name: str, vectors: np.ndarray) -> np.ndarray | None:
        """The center of ``name``'s quantized rows: the one written with its first rows, else the index's, else
        the mean of ``vectors``; saved (before any row that depends on it) when first decided."""
        if not stored.quantized(self.kinds[name]):
            return None
        if name not in self._saved:
            dim = self.companion_dim if name == COMPANION else self.dim
            found = stored.load_center(self.folder, name, dim)  # a resumed segment's
            if found is None and name not in self.centers and not len(vectors):
                return None
            if found is None:
                found = np.asarray(
                    self.centers[name] if name in self.centers else np.mean(vectors, axis=0), np.float32
                ).reshape(dim)
                path = self.folder / stored.center_file(name)
                tmp = path.with_name(path.name + ".tmp")
                with open(tmp, "wb") as f:
                    np.save(f, found)
                os.replace(tmp, path)
            self.centers[name] = found
            self._saved.add(name)
        return self.centers[name]

    def _texts(self) -> Iterable[str]:
        for (text,) in self.db.execute("SELECT text FROM passages ORDER BY id"):
            yield _unpack(text)

    def finish(self, index_kind: str, candidates: int, policy: VectorIndexPolicy) -> dict:
        """Write the derived files and seal the segment; return its metadata (``segment.json``). ``policy``:
        where the vector index ``index_kind`` gives way to exact search."""
        folder, n = self.folder, self.rows
        first = np.fromiter(
            (r[0] for r in self.db.execute("SELECT first_sentence FROM passages ORDER BY id")), np.int64, n
        )
        np.save(folder / "sentence_offsets.npy", np.append(first, self.sentence_rows).astype(np.int64))
        codes = {lang: i for i, lang in enumerate(LANGS)}
        np.save(
            folder / "lang.npy",
            np.fromiter((codes[r[0]] for r in self.db.execute("SELECT lang FROM passages ORDER BY id")), np.uint8, n),
        )
        lexical.write(folder / "lexical", self._texts())
        row_doc, columns, _ = _documents_columns(self.db, n)  # a filter maps them: no SQLite read at its first query
        (folder / "documents").mkdir(exist_ok=True)
        np.save(folder / "documents" / "row_doc.npy", row_doc)
        for name in DOCUMENT_COLUMNS:
            np.save(folder / "documents" / f"{name}.npy", columns[name])
        self.db.close()
        vectors, _ = stored.open_rows(folder, "vectors.bin", n, self.dim, self.kinds["vectors.bin"])
        sentences, _ = stored.open_rows(
            folder, "sentences.bin", self.sentence_rows, self.dim, self.kinds["sentences.bin"]
        )
        kind = ann.choose(index_kind, n, policy.pq_min)
        if kind in ("ivf", "pq") and n:
            rng = np.random.default_rng(0)
            probe = sentences if len(sentences) else vectors
            queries = np.asarray(
                probe[np.sort(rng.choice(len(probe), min(len(probe), ann.PROBE_QUERIES), replace=False))], np.float32
            )
            vector_index = (ann.train_ivf if kind == "ivf" else ann.train_pq)(folder, vectors, queries, candidates)
        else:
            vector_index = {"kind": "flat"}
        names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != BUILDING)
        for name in names:
            _fsync(folder / name)
        meta = {
            **self.header,
            "passages": n,
            "sentences": self.sentence_rows,
            "vector_index": vector_index,
            "files": {
                name: {"bytes": (folder / name).stat().st_size, "sha256": _sha256(folder / name)} for name in names
            },
        }
        tmp = folder / (META + ".tmp")
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync(tmp)
        os.replace(tmp, folder / META)
        (folder / BUILDING).unlink()
        durable.sync_tree(folder)  # the files' names (and segment.json's rename), before a commit names them
        return meta


def kinds(meta: dict) -> dict[str, str]:
    """How a segment (its header or ``segment.json``) stores each vector file: ``vector_dtype``, and sentence
    and companion vectors as ``sentence_dtype`` and ``companion_dtype`` where given (segments written before
    them store all alike)."""
    kind = meta.get("vector_dtype", "float32")
    return {
        "vectors.bin": kind,
        "sentences.bin": meta.get("sentence_dtype", kind),
        COMPANION: meta.get("companion_dtype", kind),
    }


def index_centers(segments: Iterable[Segment]) -> dict[str, np.ndarray]:
    """The centers an index's int8 segments store their vectors from (the first found: they share them), so
    that a new segment stores its vectors as they do and a merge copies rows without changing their codes."""
    for seg in segments:
        if found := seg.centers():
            return found
    return {}


def _documents_columns(
    db: sqlite3.Connection, n: int, fields_column: str = "fields"
) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
    """Each row's document (a number), each document's DOCUMENT_COLUMNS (unicode arrays: a filter compares
    them in C) and its fields as stored (JSON), read from a segment's passages table."""
    row_doc = np.zeros(n, np.int32)
    docs: dict[tuple[str, str], int] = {}
    fields: list[str] = []
    for row, doc_id, source, as_stored in db.execute(
        f"SELECT id, doc_id, source, {fields_column} FROM passages ORDER BY id"
    ):
        at = docs.setdefault((doc_id, source), len(docs))
        row_doc[row] = at
        if at == len(fields):
            fields.append(as_stored)
    keys = list(docs)
    text = (lambda values: np.array(values, dtype=str)) if keys else (lambda _: np.zeros(0, "<U1"))
    return (
        row_doc,
        {
            "doc_id": text([d for d, _ in keys]),
            "source": text([s for _, s in keys]),
            "collection": text([collection(s) for _, s in keys]),
        },
        fields,
    )


def _columns(db: sqlite3.Connection) -> str:
    """The passage columns a segment has: those written before passages had locators, or fields, read as
    having none, so they stay searchable."""
    have = {row[1] for row in db.execute("PRAGMA table_info(passages)")}
    return ", ".join(c if c.strip('"') in have else "'{}'" for c in _COLUMNS.split(", "))


def _pack(text: str) -> bytes | str:
    """A passage's text as stored: zlib at level 6, a BLOB in the text column (SQLite keeps BLOBs as given),
    or the text itself where that is shorter (a few words)."""
    raw = text.encode("utf-8")
    packed = zlib.compress(raw, 6)
    return packed if len(packed) < len(raw) else text


def _unpack(stored_text: str | bytes) -> str:
    """A stored text back: compressed, or plain text in a segment written before texts were compressed."""
    return stored_text if isinstance(stored_text, str) else zlib.decompress(stored_text).decode("utf-8")


def _locator(text: str) -> dict:
    """A stored locator (or fields); anything but a JSON object (a hand-edited row) reads as none."""
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


class Segment:
    """A sealed segment, opened read-only: passages by row from SQLite, vectors mapped from disk."""

    def __init__(self, folder: Path, meta: dict):
        self.folder, self.meta, self.name = folder, meta, folder.name
        self.size, dim = int(meta["passages"]), int(meta["dimension"])
        names = set(meta["files"])
        if not REQUIRED <= names or not names <= REQUIRED | OPTIONAL:
            raise ValueError(f"segment {self.name} does not list the files a segment has")
        for name, f in meta["files"].items():  # sizes only: hashing every file would cost minutes at scale
            try:
                size = (folder / name).stat().st_size
            except FileNotFoundError:
                raise ValueError(f"{folder / name} is missing") from None
            if size != f["bytes"]:
                raise ValueError(
                    f"{folder / name} is not the size its segment records ({size} bytes, not {f['bytes']})"
                )
        kind = kinds(meta)
        if any(
            k not in stored.KINDS or not set(stored.files(name, k)) <= names
            for name, k in kind.items()
            if name != COMPANION or meta.get("companion")
        ):
            raise ValueError(f"segment {self.name} stores its vectors in a way this jisr does not read")
        self.vectors, self._vector_files = stored.open_rows(folder, "vectors.bin", self.size, dim, kind["vectors.bin"])
        self.companion_vectors, self._companion_files = (
            None,
            [],
        )  # rows of companion.bin, when the segment was built with a companion
        if meta.get("companion"):
            if COMPANION not in names:
                raise ValueError(f"segment {self.name} names a companion but lists no {COMPANION}")
            self.companion_vectors, self._companion_files = stored.open_rows(
                folder, COMPANION, self.size, int(meta["companion"]["dimension"]), kind[COMPANION]
            )
        self.sentence_vectors, self._sentence_files = stored.open_rows(
            folder, "sentences.bin", int(meta["sentences"]), dim, kind["sentences.bin"]
        )
        self.sentence_offsets = np.load(folder / "sentence_offsets.npy", mmap_mode="r", allow_pickle=False)
        self.lang = np.load(folder / "lang.npy", mmap_mode="r", allow_pickle=False)
        if (
            len(self.sentence_offsets) != self.size + 1
            or len(self.lang) != self.size
            or (self.size and self.sentence_offsets[-1] != len(self.sentence_vectors))
        ):
            raise ValueError(f"the files of segment {self.name} disagree on its passages")
        self.postings = lexical.Postings(folder / "lexical", self.size)
        self.vector_index = ann.load(folder, meta["vector_index"], self.vectors)
        uri = (folder / "passages.sqlite").resolve().as_uri() + "?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            self._columns = _columns(self._db)
        except sqlite3.DatabaseError as exc:  # "file is not a database": named, as a damaged file, not a crash
            self._db.close()
            raise ValueError(f"{folder / 'passages.sqlite'} is not a readable SQLite database ({exc})") from None
        self._lock = threading.Lock()
        self._table: tuple[np.ndarray, dict[str, np.ndarray]] | None = None  # for filters: see mask()
        self._titles: tuple[list[int], list[str]] | None = None  # each document's first row and title (titles)
        self._readers = 1  # the commits open on this segment: a live server's next commit shares it (share)
        self._fields: dict[tuple[str, str], np.ndarray] = {}  # a declared field's column per document, by kind

    def droppable(self) -> list[mmap.mmap]:
        """The maps of the files a query reads a few rows of (sentence and companion vectors, their scales):
        what a server over its memory budget lets go of first (:mod:`jisr.index.local.warmup`)."""
        return [mapped for _, _, mapped in self._sentence_files + self._companion_files if mapped is not None]

    def centers(self) -> dict[str, np.ndarray]:
        """The centers its quantized vectors are stored from, by file (none for float32 segments)."""
        return {
            name: rows.center
            for name, rows in (
                ("vectors.bin", self.vectors),
                ("sentences.bin", self.sentence_vectors),
                (COMPANION, self.companion_vectors),
            )
            if isinstance(rows, stored.Quantized) and stored.center_file(name) in self.meta["files"]
        }

    def expect_queries(self) -> tuple[list[tuple[Path, np.ndarray]], list[tuple[Path, np.ndarray]]]:
        """Tell the kernel how queries read this segment; return the files every query reads from, and
        those a query reads a few rows of (the sentence vectors), each with its map, for a warm-up.

        A query reads a few thousand sentence rows, scattered. On a cold page cache the kernel read
        ahead 128 kB around each, and a first query at 1M passages took seconds (benchmarks/scale.py):
        here it is told not to. Merges read the same rows in order and keep the read-ahead."""
        some = []
        for path, array, mapped in (
            self._sentence_files + self._companion_files
        ):  # a companion's rows are read as sparsely
            if mapped is not None:
                mapped.madvise(mmap.MADV_RANDOM)
            some.append((path, array))
        every = [(path, array) for path, array, _ in self._vector_files] + self.postings.maps()
        return every, some

    @classmethod
    def open(cls, folder: Path) -> Segment:
        return cls(folder, json.loads((folder / META).read_text(encoding="utf-8")))

    def verify(self) -> list[str]:
        """Every file hashed against segment.json: the problems found (``jisr check``)."""
        problems = []
        for name, f in self.meta["files"].items():
            try:
                if _sha256(self.folder / name) != f["sha256"]:
                    problems.append(f"{self.folder / name} is damaged (its sha256 differs from the one recorded)")
            except FileNotFoundError:  # removed since the segment was opened
                problems.append(f"{self.folder / name} is missing")
        return problems

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        rows = [int(r) for r in rows]
        with self._lock:
            found = {
                r[0]: r[1:]
                for r in self._db.execute(
                    f"SELECT id, {self._columns} FROM passages WHERE id IN ({','.join('?' * len(rows))})", rows
                )
            }
        return [
            Passage(
                *found[r][:7],
                _unpack(found[r][7]),
                tuple(tuple(s) for s in json.loads(found[r][8])),
                _locator(found[r][9]),
                _locator(found[r][10]),
            )
            for r in rows
        ]

    def mask(self, field: str, test, kind: str | None = None) -> np.ndarray:
        """Rows (a bool mask) whose ``field`` (doc_id, source, collection, lang, or a declared field of
        ``kind``) passes ``test``, a function of the field's values: applied per document (or per language),
        then spread over the rows. The columns are read from SQLite once, at the first filter that needs
        them: a segment never changes. A document without a declared field has NaN (number, date) or ""."""
        if field == "lang":
            return np.asarray(test(np.array(LANGS)), bool)[np.asarray(self.lang)]
        row_doc, columns = self._documents_table()
        if not self.size:
            return np.zeros(0, bool)
        values = columns[field] if kind is None else self._field_column(field, kind)
        return np.asarray(test(values), bool)[row_doc]

    def _field_column(self, name: str, kind: str) -> np.ndarray:
        stored = self._stored_fields()
        with self._lock:
            if (name, kind) not in self._fields:
                found = [_locator(f).get(name) for f in stored]
                self._fields[name, kind] = (
                    np.array([np.nan if v is None else float(v) for v in found])
                    if kind != "keyword"
                    else np.array(["" if v is None else str(v) for v in found], dtype=str)
                )
            return self._fields[name, kind]

    def _documents_table(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Each row's document and the documents' columns: mapped from documents/ (segments written before
        it: read from SQLite once)."""
        with self._lock:
            if self._table is None:
                kept = self.folder / "documents"
                if "documents/row_doc.npy" in self.meta["files"]:
                    self._table = (
                        np.load(kept / "row_doc.npy", mmap_mode="r", allow_pickle=False),
                        {c: np.load(kept / f"{c}.npy", mmap_mode="r", allow_pickle=False) for c in DOCUMENT_COLUMNS},
                        None,
                    )
                else:
                    self._table = _documents_columns(self._db, self.size, self._columns.split(", ")[-1])
            return self._table[0], self._table[1]

    def _stored_fields(self) -> list[str]:
        """Each document's fields as stored (JSON), in the order of its number in the documents' columns."""
        self._documents_table()
        with self._lock:
            if self._table[2] is None:
                self._table = (
                    *self._table[:2],
                    _documents_columns(self._db, self.size, self._columns.split(", ")[-1])[2],
                )
            return self._table[2]

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        doc_ids = list(doc_ids)
        found: list[int] = []
        with self._lock:
            for a in range(0, len(doc_ids), 500):
                chunk = doc_ids[a : a + 500]
                found += [
                    r[0]
                    for r in self._db.execute(
                        f"SELECT id FROM passages WHERE doc_id IN ({','.join('?' * len(chunk))})", chunk
                    )
                ]
        return np.array(sorted(found), dtype=np.int64)

    def document_rows(self) -> list[tuple[str, int, int]]:
        """(doc id, first row, passages) of each document that has passages, in row order."""
        with self._lock:
            return list(
                self._db.execute("SELECT doc_id, MIN(id), COUNT(*) FROM passages GROUP BY doc_id ORDER BY MIN(id)")
            )

    def titles(self) -> tuple[list[int], list[str]]:
        """Each document's first row and its title, read once: a segment never changes (a deleted document's
        rows are masked by the commit, so the caller skips them)."""
        if self._titles is None:
            with self._lock:
                found = list(self._db.execute("SELECT MIN(id), title FROM passages GROUP BY doc_id"))
            self._titles = ([r for r, _ in found], [t for _, t in found])
        return self._titles

    def documents(self) -> dict[str, tuple[str, int]]:
        with self._lock:
            return {d: (sha, n) for d, sha, n in self._db.execute("SELECT doc_id, sha256, passages FROM documents")}

    def share(self) -> Segment:
        """This open segment for one more reader: a commit that keeps the segment reuses it rather than
        open it again (its vector index would be read twice). Each reader closes it once."""
        with self._lock:
            if self._readers <= 0:
                raise ValueError(f"segment {self.name} is closed")
            self._readers += 1
        return self

    def close(self) -> None:
        """The reader is done with the segment; the last one closes it (the files of a segment that no
        commit names any more are freed then: a build removes them, readers keep them open until now)."""
        with self._lock:
            self._readers -= 1
            if self._readers:
                return
            self._db.close()
