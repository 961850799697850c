"""Corpus folder -> index folder: new segments for new and changed files, tombstones for the rest.

A build streams the corpus: documents are read, chunked and embedded in batches of
BATCH_PASSAGES and appended to a segment as they go, so memory stays flat however large the
corpus, and a killed build loses at most one batch: the next build adopts the segments it
finished and resumes the one it was filling (same model and chunking only). A file whose size and
modification time are those the last commit recorded is not read again (as make and rsync judge);
one that was touched is read and hashed, and a changed file's unchanged paragraphs keep their
vectors. The new commit is made current in one atomic step, after a merge folds small segments
together.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from embeddings import model_fingerprint, model_name
from embeddings.batching import document_lengths, encode_documents
from search import ann, preflight, store
from search import companion as companions
from search import manifest as manifests
from search.chunking import ChunkSettings, Passage, chunk
from search.documents import CorpusFile, Document, Skipped, corpus_files, read_corpus_file
from search.readers import RecordFields
from search.lock import WriterLock
from search.manifest import KINDS
from search.errors import BuildError, IndexUnavailable, StoreError
from search.segment import META, VECTOR_DTYPE, Segment, SegmentWriter

BATCH_PASSAGES = 1024  # embedded and written together: what a killed build can lose
SEGMENT_PASSAGES = 100_000  # a segment is sealed at this size: it bounds a build's memory and a merge's work
MAX_SMALL_SEGMENTS = 8  # more segments than this under SEGMENT_PASSAGES / 2 are merged


@dataclass
class BuildReport:
    index_dir: Path
    documents: int
    passages: int
    sentences: int
    embedded: int  # texts (passages and sentences) sent to the model
    reused: int  # texts of the index whose vectors this build did not compute
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)
    segments: int = 0
    merged: int = 0  # segments folded into one by this build


def _sources(manifest: dict) -> dict[str, list]:
    """A manifest's record of each corpus file, [size, mtime_ns, doc ids], keeping only well-formed entries
    (the manifest is data, not trusted); an index built before it has none, and every file is read."""
    found = manifest.get("sources")
    if not isinstance(found, dict):
        return {}
    return {rel: entry for rel, entry in found.items() if isinstance(entry, list) and len(entry) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) for v in entry[:2])
            and isinstance(entry[2], list) and all(isinstance(d, str) for d in entry[2])}


def model_info(model: SentenceTransformer) -> dict:
    return {"name": model_name(model), "fingerprint": model_fingerprint(model),
            "normalizer": getattr(model, "jisr_normalizer", None),
            "dimension": model.get_embedding_dimension(), "prompts": dict(model.prompts),
            "max_seq_length": model.max_seq_length}


def token_counter(model: SentenceTransformer):
    """Tokens the model sees for each text as a passage: its document prompt and special tokens included."""
    return lambda texts: document_lengths(model, texts)


def passage_input(p: Passage) -> str:
    """What the model reads for a passage: its document's title, then its text.

    The title tells the model what a paragraph is about when the paragraph itself does not say
    (a hadith's chapter, an article's headline). Tune halves, MRR@10 en->ar / ar->ar hybrid: the
    hadith set 0.443 -> 0.469 / 0.944 -> 0.958, XQuAD 0.872 -> 0.884 / 0.958 -> 0.956. Sentences are
    read alone: they are evidence of their own words.
    """
    return f"{p.title}\n{p.text}" if p.title else p.text


Encoder = Callable[[list[str]], np.ndarray]  # texts -> rows of model.encode_document(texts)


def build(corpus: str | Path, index_dir: str | Path, model: SentenceTransformer, index_type: str = "auto",
          settings: ChunkSettings | None = None, progress: bool = False, follow_links: bool = False,
          commit: Callable[[], AbstractContextManager] = contextlib.nullcontext,
          fields: RecordFields = RecordFields(), encoder: Encoder | None = None,
          batch_passages: int | None = None, milvus=None,
          companion: SentenceTransformer | str | None = companions.DEFAULT) -> BuildReport:
    """Build (or update) the index of ``corpus`` at ``index_dir`` and commit it atomically.

    Everything that can be checked before embedding is: the corpus, the index folder, that no
    other build is writing it, and the free space. ``commit`` wraps the swap (the CLI's refuses
    it after Ctrl-C); ``follow_links`` lets symlinks lead out of the corpus folder; ``fields`` names
    the text, title and id fields of JSONL/CSV records. ``encoder`` embeds the texts in place of
    ``model`` (which still counts tokens and names the index's model), such as
    :class:`embeddings.ray_encoding.RayEncoder`; ``batch_passages`` are chunked and embedded together.
    ``milvus``: a :class:`search.milvus_build.MilvusTarget` puts the data on Milvus instead of in segments.
    ``companion``: a second encoder whose passage vectors hybrid search also ranks by
    (:mod:`search.companion`), or one of its names (``auto``: USE v3, none on Milvus; ``use``; ``none``
    or None); it runs here, beside the build, whatever ``encoder`` is.
    """
    started = time.perf_counter()
    if index_type not in KINDS:
        raise BuildError(f"unknown index type {index_type!r}; choose one of {', '.join(KINDS)}")
    companion = _companion(companion, on_milvus=milvus is not None)
    if milvus is not None and index_type == "pq":
        raise BuildError("index type 'pq' is jisr's own store; on Milvus choose auto, flat or ivf (IVF_SQ8)")
    preflight.corpus_folder(corpus)
    index_dir = preflight.index_folder(index_dir)
    try:
        with WriterLock(index_dir):
            args = (corpus, index_dir, model, index_type, settings, progress, follow_links, fields,
                    encoder or (lambda texts: encode_documents(model, texts)), batch_passages or BATCH_PASSAGES)
            if milvus is None:
                return _Build(*args, companion=companion).run(commit, started)
            from search.milvus_build import MilvusBuild

            return MilvusBuild(*args, target=milvus).run(commit, started)
    except StoreError as exc:  # Milvus could not be reached or used before anything was written
        raise BuildError(str(exc)) from None
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and store.why(exc) != "the disk is full":
            raise
        raise BuildError(f"cannot write the index at {index_dir}: {store.why(exc)}; "
                         "the previous index is unchanged") from exc


def _companion(companion: SentenceTransformer | str | None, on_milvus: bool) -> SentenceTransformer | None:
    """The companion model a build was given, or the one it names, loaded; refused on Milvus."""
    if isinstance(companion, str):
        try:
            choice = companions.resolve(companion, on_milvus)
        except ValueError as exc:
            raise BuildError(str(exc)) from None
        if not (on_milvus and choice == "use"):
            return companions.load(choice)
    if on_milvus and companion is not None:
        raise BuildError("a companion encoder's vectors are kept in jisr's own store only; "
                         "on Milvus build with --companion none (or auto)")
    return companion


class _Build:
    """One build's state: where each file's passages live, what is deleted, the segment being filled."""

    def __init__(self, corpus, index_dir: Path, model, index_type, settings, progress, follow_links, fields,
                 encoder: Encoder, batch_passages: int, companion: SentenceTransformer | None = None):
        self.corpus, self.index_dir, self.model, self.index_type = Path(corpus), index_dir, model, index_type
        self.progress, self.follow_links, self.fields = progress, follow_links, fields
        self.encoder, self.batch_passages = encoder, batch_passages
        self.info = model_info(model)
        self.companion = companion
        self.companion_info = companions.info(companion) if companion is not None else None
        self.settings = settings or ChunkSettings(max_tokens=self.info["max_seq_length"] or 512)
        self.chunking = {**self.settings.to_dict(), "passage_input": "title\\ntext"}
        self.header = {"fingerprint": self.info["fingerprint"], "normalizer": self.info["normalizer"],
                       "dimension": self.info["dimension"], "chunking": self.chunking,
                       "vector_dtype": np.dtype(VECTOR_DTYPE).name, "companion": self.companion_info}
        self.count = token_counter(model)
        self.segments: dict[str, Segment] = {}  # every segment the new commit may name, by name
        self.before: dict[str, set[str]] = {}  # documents live in each segment before this build
        self.old_deletes: dict[str, dict] = {}  # the previous commit's entry of each of its segments
        self.files: dict[str, dict] = {}  # the new commit's files: doc id -> sha256, segment, passages
        self.writer: SegmentWriter | None = None
        self.filling: Path | None = None  # the folder of the segment being filled
        self.embedded = self.stored_new = 0
        self.old_sources: dict[str, list] = {}  # the previous commit's files by path: [size, mtime_ns, doc ids]
        self.old_skipped: dict[str, list[Skipped]] = {}  # the previous commit's, by corpus file
        self.sources: dict[str, list] = {}  # the new commit's, for files whose stat can be trusted next time
        self.doc_file: dict[str, str] = {}  # the corpus file of each document read in pass 1
        self.rewrite_all = False  # the previous commit had another companion: no document stays where it is

    # -- what the previous commit and killed builds left ---------------------------------------------

    def _next_generation(self) -> int:
        commits = self.index_dir / "commits"
        gens = [int(p.stem) for p in commits.glob("*.json") if p.stem.isdigit()] if commits.is_dir() else []
        return max(gens, default=0) + 1

    def _made_alike(self, m: dict) -> bool:
        """Whether commit ``m`` was made with this build's model and chunking (so its vectors can stay)."""
        return m["model"]["fingerprint"] == self.info["fingerprint"] and m["chunking"] == self.chunking \
            and m["model"]["normalizer"] == self.info["normalizer"]

    def _previous(self) -> tuple[dict, int]:
        """The previous commit's files (empty when it was made with another model or chunking, or is
        damaged, or lives on Milvus: then everything is rebuilt) and the next generation number."""
        nxt = self._next_generation()
        try:
            old = store.load(self.index_dir) if store.exists(self.index_dir) and not self._on_milvus() else None
        except IndexUnavailable:
            return {}, nxt
        if old is None:
            return {}, nxt
        m = old.manifest
        if not self._made_alike(m):
            old.close()
            return {}, nxt
        # another companion (or none): every document is written again, its model's vectors reused
        self.rewrite_all = m.get("companion") != self.companion_info
        for seg, entry in zip(old.segments, m["segments"]):
            self.segments[seg.name] = seg
            self.before[seg.name] = set()
            self.old_deletes[seg.name] = entry
        for doc, f in m["files"].items():
            self.before[f["segment"]].add(doc)
        self._remember(m)
        return m["files"], nxt

    def _current_manifest(self) -> dict | None:
        """The live commit's manifest, checked, without opening its data; None if there is none or it is damaged."""
        try:
            path = store.current_commit(self.index_dir)
            return manifests.check(json.loads(path.read_text(encoding="utf-8")), str(self.index_dir)) if path else None
        except (IndexUnavailable, OSError, ValueError):
            return None

    def _on_milvus(self) -> bool:
        m = self._current_manifest()
        return m is not None and store.on_milvus(m)

    def _remember(self, m: dict) -> None:
        """The previous commit's corpus files and skips, so unchanged files are not read again."""
        self.old_sources = _sources(m)
        for s in m.get("skipped") if isinstance(m.get("skipped"), list) else []:
            if isinstance(s, dict) and isinstance(s.get("path"), str) and isinstance(s.get("reason"), str):
                file, _, line = s["path"].rpartition(":")  # a record's skip is "file:line"
                self.old_skipped.setdefault(file if file and line.isdigit() else s["path"], []).append(
                    Skipped(s["path"], s["reason"]))

    def _adopt(self) -> tuple[dict[str, dict], SegmentWriter | None]:
        """Segments a killed build finished (documents by id) and the one it was filling, if made alike."""
        found: dict[str, dict] = {}
        writer = None
        folder = self.index_dir / "segments"
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.name in self.segments:
                continue
            if (path / META).exists():
                try:
                    seg = Segment.open(path)
                except (OSError, ValueError, KeyError, TypeError):
                    continue
                if all(seg.meta.get(k) == v for k, v in self.header.items()):
                    self.segments[seg.name] = seg
                    found[seg.name] = {d: sha for d, (sha, _) in seg.documents().items()}
                    self.before[seg.name] = set(found[seg.name])
                else:
                    seg.close()
            elif SegmentWriter.resumable(path, self.header):
                writer = SegmentWriter(path, self.header)
                self.filling = path  # the newest wins; older ones are cleaned away
        if writer is not None:
            found[writer.folder.name] = writer.documents()
        return found, writer

    # -- the build ---------------------------------------------------------------------------------------

    def _start(self, gen: int) -> dict[str, dict]:
        """Adopt what killed builds left and clean the rest; return the adopted documents by segment."""
        adopted, self.writer = self._adopt()
        keep = set(self.segments) | ({self.writer.folder.name} if self.writer else set())
        store.clean(self.index_dir, keep=keep)
        return adopted

    def run(self, commit, started: float) -> BuildReport:
        old_files, gen = self._previous()
        adopted = self._start(gen)

        # pass 1: which files need work, and room on the disk for it. A file whose size and modification
        # time are those the previous commit recorded is not read again: at a million passages, reading
        # and hashing every file twice was 90% of adding one file (31 of 34.5 s)
        todo, documents, todo_bytes = {}, 0, 0
        files, skipped = corpus_files(self.corpus, self.follow_links)
        trusted_before = time.time_ns() - 2_000_000_000  # a file changed since then may change again unseen
        for file in files:
            known_file = self.old_sources.get(file.rel)
            if known_file and not self.rewrite_all and known_file[:2] == [file.size, file.mtime_ns] \
                    and all(doc in old_files for doc in known_file[2]):
                for doc in known_file[2]:
                    self.files[doc] = old_files[doc]
                documents += len(known_file[2])
                skipped += self.old_skipped.get(file.rel, [])
                self.sources[file.rel] = known_file
                continue
            in_file = []
            for item in read_corpus_file(file, self.fields):
                if isinstance(item, Skipped):
                    skipped.append(item)
                    continue
                documents += 1
                in_file.append(item.id)
                self.doc_file[item.id] = file.rel
                known = old_files.get(item.id)
                if known and known["sha256"] == item.sha256 and not self.rewrite_all:
                    self.files[item.id] = known
                    continue
                home = next((name for name, docs in adopted.items() if docs.get(item.id) == item.sha256), None)
                if home is not None:
                    self.files[item.id] = {"sha256": item.sha256, "segment": home, "passages": None,
                                           "encoding": item.encoding}
                    continue
                todo[item.id] = known
                todo_bytes += len(item.text.encode("utf-8"))
            if file.mtime_ns < trusted_before:
                self.sources[file.rel] = [file.size, file.mtime_ns, in_file]
        if not documents:
            raise BuildError(f"no readable documents (.txt, .md, .html, .docx, .pdf, or records in .jsonl, .csv, "
                             f".tsv) under {self.corpus}")
        if self.writer is not None and any(self.files.get(d, {}).get("segment") != self.writer.folder.name
                                           for d in adopted[self.writer.folder.name]):
            # a file in the half-filled segment changed or went since: its rows cannot be told apart
            # from the new version's, so that segment is dropped and its files are indexed again
            name = self.writer.folder.name
            self.writer.db.close()
            shutil.rmtree(self.writer.folder, ignore_errors=True)
            self.writer = self.filling = None
            for doc, f in list(self.files.items()):
                if f["segment"] == name:
                    del self.files[doc]
                    todo[doc] = old_files.get(doc)

        preflight.free_space(self.index_dir, preflight.index_size(todo_bytes, self.info["dimension"]))

        # pass 2: chunk, embed and write what changed, in batches, reading only the files that hold it
        try:
            needed = {self.doc_file[doc] for doc in todo}
            self._index(todo, [f for f in files if f.rel in needed])
            if self.writer is not None:
                self._seal()
        except BaseException as exc:
            if self.filling is not None and not isinstance(exc, KeyboardInterrupt):
                shutil.rmtree(self.filling, ignore_errors=True)  # a failed write is not resumed
            raise

        entries, live, sentences, merged = self._finish(gen)
        seconds = time.perf_counter() - started
        total = live + sentences
        manifest = {
            "model": self.info, "chunking": self.chunking, "corpus": str(self.corpus.resolve()),
            "record_fields": asdict(self.fields),
            "index": {"type": self.index_type, "metric": "inner_product"},
            "companion": self.companion_info,
            "files": self.files, "sources": self.sources, "segments": entries,
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
            "counts": {"documents": documents, "passages": live, "sentences": sentences,
                       "embedded": self.embedded, "reused": total - self.stored_new},
            "build_seconds": round(seconds, 3), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **self._store_fields(),
        }
        store.write_commit(self.index_dir, gen, manifest, commit=commit)
        self._committed(gen)
        return BuildReport(self.index_dir, documents, live, sentences, self.embedded, total - self.stored_new,
                           seconds, sorted(skipped, key=lambda s: s.path), len(entries), merged)

    def _index(self, todo: dict[str, dict | None], files: list[CorpusFile]) -> None:
        from tqdm import tqdm

        batch: list[tuple[Document, list[Passage]]] = []
        with tqdm(total=len(todo), unit="doc", desc="indexing", disable=not self.progress or not todo,
                  file=sys.stderr, dynamic_ncols=True) as bar:
            passages, begun = 0, time.perf_counter()
            for item in (item for file in files for item in read_corpus_file(file, self.fields)):
                if isinstance(item, Skipped) or item.id not in todo:
                    continue
                batch.append((item, chunk(item, self.count, self.settings)))
                if sum(len(p) for _, p in batch) >= self.batch_passages:
                    passages += self._flush(batch, todo)
                    bar.update(len(batch))
                    bar.set_postfix(passages_per_s=f"{passages / (time.perf_counter() - begun):.1f}")
                    batch = []
            if batch:
                self._flush(batch, todo)
                bar.update(len(batch))

    def _reusable(self, docs: list[str], todo: dict[str, dict | None]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Vectors of the previous version of changed documents by the text the model read, and their
        companion vectors by the passage's text."""
        known: dict[str, np.ndarray] = {}
        known_companion: dict[str, np.ndarray] = {}
        for doc in docs:
            old = todo.get(doc)
            seg = self.segments.get(old["segment"]) if old else None
            if seg is None:
                continue
            rows = seg.rows_of([doc])
            for row, p in zip(rows, seg.passages(rows)):
                known[passage_input(p)] = np.asarray(seg.vectors[row], np.float32)
                if seg.companion_vectors is not None and seg.meta.get("companion") == self.companion_info:
                    known_companion[p.text] = np.asarray(seg.companion_vectors[row], np.float32)
                a = seg.sentence_offsets[row]
                for i, s in enumerate(p.sentence_texts()):
                    known[s] = np.asarray(seg.sentence_vectors[a + i], np.float32)
        return known, known_companion

    def _flush(self, batch: list[tuple[Document, list[Passage]]], todo) -> int:
        passages, vectors, sentence_vectors, companion_vectors = self._embed(batch, todo)
        self._write(batch, passages, vectors, sentence_vectors, companion_vectors)
        return len(passages)

    def _embed(self, batch: list[tuple[Document, list[Passage]]], todo) \
            -> tuple[list[Passage], np.ndarray, np.ndarray, np.ndarray | None]:
        """The batch's passages with their vectors, their sentences' vectors and their companion vectors
        (None without a companion), reused where the text is known."""
        passages = [p for _, ps in batch for p in ps]
        inputs = [passage_input(p) for p in passages]
        sentences = [s for p in passages for s in p.sentence_texts()]
        known, known_companion = self._reusable([d.id for d, _ in batch], todo)
        self.stored_new += sum(t not in known for t in inputs) + sum(s not in known for s in sentences)
        missing = sorted((set(inputs) | set(sentences)) - known.keys())  # one call: one trip to a cluster
        self.embedded += len(missing)
        known.update(zip(missing, self.encoder(missing)))
        dim = self.info["dimension"]
        vectors = np.stack([known[t] for t in inputs]) if inputs else np.zeros((0, dim), np.float32)
        sentence_vectors = np.stack([known[s] for s in sentences]) if sentences else np.zeros((0, dim), np.float32)
        return passages, vectors, sentence_vectors, self._companion_vectors(passages, known_companion)

    def _companion_vectors(self, passages: list[Passage], known: dict[str, np.ndarray]) -> np.ndarray | None:
        """The companion's vector of each passage's text (None without a companion)."""
        if self.companion is None:
            return None
        missing = sorted({p.text for p in passages} - known.keys())
        if missing:
            known.update(zip(missing, self.companion.encode_document(missing, batch_size=16)))
        return np.stack([known[p.text] for p in passages]) if passages \
            else np.zeros((0, self.companion_info["dimension"]), np.float32)

    def _write(self, batch, passages: list[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray,
               companion_vectors: np.ndarray | None = None) -> None:
        if self.writer is None:
            self.filling = self.index_dir / "segments" / store.new_segment_name()
            self.writer = SegmentWriter(self.filling, self.header)
        self.writer.add([(d.id, d.sha256) for d, _ in batch], passages, vectors, sentence_vectors, companion_vectors)
        for d, ps in batch:
            self.files[d.id] = {"sha256": d.sha256, "segment": self.writer.folder.name, "passages": len(ps),
                                "encoding": d.encoding}
        if self.writer.rows >= SEGMENT_PASSAGES:
            self._seal()

    def _seal(self) -> None:
        self.writer.finish(self.index_type, ann.CANDIDATES)
        seg = Segment.open(self.writer.folder)
        self.writer = self.filling = None
        self.segments[seg.name] = seg
        self.before.setdefault(seg.name, set())

    # -- the commit ------------------------------------------------------------------------------------

    def _finish(self, gen: int) -> tuple[list[dict], int, int, int]:
        """The new commit's segments, live passages and sentences, and how many segments were merged."""
        entries = self._entries(gen)
        live = sum(e["passages"] - e["deleted"] for e in entries)
        if not live:
            raise BuildError(f"the documents under {self.corpus} hold no passages (only titles or boilerplate)")
        merged = self._merge(entries, gen)
        if merged:
            entries = self._entries(gen)
        return entries, live, sum(self._live_sentences(e) for e in entries), merged

    def _store_fields(self) -> dict:
        """What the manifest records about where the data lives, beyond its segments (nothing, here)."""
        return {}

    def _committed(self, gen: int) -> None:
        for seg in self.segments.values():
            seg.close()
        store.clean(self.index_dir)

    def _entries(self, gen: int) -> list[dict]:
        """The new commit's segments with their deletes: every row of a document no longer assigned to
        the segment is deleted. Segments left with no live rows are dropped."""
        assigned: dict[str, set[str]] = {name: set() for name in self.segments}
        for doc, f in self.files.items():
            assigned[f["segment"]].add(doc)
        entries = []
        for name, seg in self.segments.items():
            gone = (self.before.get(name, set()) | set(seg.documents())) - assigned[name] \
                if name not in self.old_deletes else self.before[name] - assigned[name]
            old = self.old_deletes.get(name)
            rows = seg.rows_of(sorted(gone)) if gone else np.zeros(0, np.int64)
            if old and old["deletes"]:
                rows = np.union1d(rows, np.load(self.index_dir / "deletes" / old["deletes"], allow_pickle=False))
            if len(rows) >= seg.size:
                continue
            if old and len(rows) == old["deleted"]:
                deletes = old["deletes"]
            else:
                deletes = store.write_deletes(self.index_dir, name, gen, rows) if len(rows) else None
            entries.append({"name": name, "passages": seg.size, "deleted": int(len(rows)), "deletes": deletes})
        for doc, f in self.files.items():  # documents found in adopted segments: count their passages
            if f["passages"] is None:
                f["passages"] = self.segments[f["segment"]].documents()[doc][1]
        return entries

    def _deleted(self, entry: dict) -> np.ndarray:
        mask = np.zeros(self.segments[entry["name"]].size, bool)
        if entry["deletes"]:
            mask[np.load(self.index_dir / "deletes" / entry["deletes"], allow_pickle=False)] = True
        return mask

    def _live_sentences(self, entry: dict) -> int:
        counts = np.diff(np.asarray(self.segments[entry["name"]].sentence_offsets))
        return int(counts[~self._deleted(entry)].sum())

    def _merge(self, entries: list[dict], gen: int) -> int:
        """Fold the smallest segments into one when there are too many small ones; return how many."""
        small = sorted((e for e in entries if e["passages"] - e["deleted"] < SEGMENT_PASSAGES // 2),
                       key=lambda e: e["passages"] - e["deleted"])
        if len(small) <= MAX_SMALL_SEGMENTS:
            return 0
        chosen, total = [], 0
        for e in small:
            if total + e["passages"] - e["deleted"] > SEGMENT_PASSAGES and len(chosen) >= 2:
                break
            chosen.append(e)
            total += e["passages"] - e["deleted"]
        from search.merge import merge

        names = {e["name"] for e in chosen}
        masks = [self._deleted(e) for e in chosen]
        live_docs = {doc for doc, f in self.files.items() if f["segment"] in names}
        merged = merge(self.index_dir, [self.segments[e["name"]] for e in chosen], masks, live_docs,
                       self.header, self.index_type)
        for e in chosen:
            self.segments.pop(e["name"])
            self.old_deletes.pop(e["name"], None)
        self.segments[merged.name] = merged
        self.before[merged.name] = set(merged.documents())
        for doc, f in self.files.items():
            if f["segment"] in names:
                f["segment"] = merged.name
        return len(chosen)
