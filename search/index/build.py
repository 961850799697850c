"""Corpus folder -> index folder: what changed is chunked, embedded and handed to the store's writer.

A build streams the corpus: documents are read, chunked and embedded in batches of
``BuildOptions.batch_passages`` (:mod:`jisr.index.options`) and handed to a
:class:`jisr.index.contract.StoreWriter` as they go (jisr's own segments, or Milvus:
:func:`jisr.index.stores.writer`), so memory stays flat however large the corpus. A file whose
size and modification time are those the last commit recorded is not read again (as make and rsync
judge); one that was touched is read and hashed, and a changed file's unchanged paragraphs keep their
vectors. The new commit is made current in one atomic step.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from jisr.corpus import submitted
from jisr.corpus.files import CorpusFile, Document, Skipped, corpus_files, read_corpus_file
from jisr.embeddings import Embedder, model_fingerprint, model_name, wrap
from jisr.embeddings import companion as companions
from jisr.embeddings.batching import document_lengths, encode_documents
from jisr.errors import BuildError, DiskFull, StoreError
from jisr.index import commit as commits
from jisr.index import preflight, stores
from jisr.index.contract import BuildSpec, StoreWriter
from jisr.index.lock import WriterLock
from jisr.index.options import BuildOptions, companion_refused_on_milvus
from jisr.passages import ChunkSettings, Passage, chunk, passage_input

log = logging.getLogger(__name__)  # at DEBUG, each corpus file a build reads: what it skipped as unchanged is not


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
    return {
        rel: entry
        for rel, entry in found.items()
        if isinstance(entry, list)
        and len(entry) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) for v in entry[:2])
        and isinstance(entry[2], list)
        and all(isinstance(d, str) for d in entry[2])
    }


def model_info(model: Embedder | SentenceTransformer) -> dict:
    return {
        "name": model_name(model),
        "fingerprint": model_fingerprint(model),
        "normalizer": wrap(model).normalizer,
        "dimension": model.get_embedding_dimension(),
        "prompts": dict(model.prompts),
        "max_seq_length": model.max_seq_length,
    }


def token_counter(model: SentenceTransformer):
    """Tokens the model sees for each text as a passage: its document prompt and special tokens included."""
    return lambda texts: document_lengths(model, texts)


Encoder = Callable[[list[str]], np.ndarray]  # texts -> rows of model.encode_document(texts)


def build(
    corpus: str | Path,
    index_dir: str | Path,
    model: Embedder | SentenceTransformer,
    options: BuildOptions = BuildOptions(),
    *,
    progress: bool = False,
    commit: Callable[[], AbstractContextManager] = contextlib.nullcontext,
    encoder: Encoder | None = None,
    companion_model: Embedder | SentenceTransformer | None = None,
    submit: Callable[[], Callable[[], None]] | None = None,
    lock_wait: float = 0.0,
    waiting: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build (or update) the index of ``corpus`` at ``index_dir`` as ``options`` say, and commit it atomically.

    Everything that can be checked before embedding is: the options (when they were made), the corpus, the
    index folder, that no other build is writing it, and the free space. The other arguments are things a
    build uses rather than settings: ``progress`` draws a progress bar on stderr; ``commit`` wraps the swap
    (the CLI's refuses it after Ctrl-C); ``encoder`` embeds the texts in place of ``model`` (which still
    counts tokens and names the index's model), such as :class:`jisr.embeddings.ray_encoding.RayEncoder`;
    ``companion_model``: a loaded companion encoder (:mod:`jisr.embeddings.companion`), used in place of the
    one ``options.companion`` names; it runs here, beside the build, whatever ``encoder`` is. ``submit``:
    stores the documents sent over the API once the build is the index's one writer
    (:func:`jisr.corpus.submitted.apply`), and returns what undoes that if the build fails before its commit.
    ``lock_wait``: seconds to wait while another writer (a server committing API writes) holds the index's
    lock, before refusing with :class:`jisr.errors.IndexBusy` (0: at once); ``waiting`` is told when the wait
    begins, with a line to show.

    Documents sent over the API (``INDEX/documents/``, :mod:`jisr.corpus.submitted`) are read beside the
    corpus folder's, so a rebuild keeps them.
    """
    started = time.perf_counter()
    model = wrap(model)  # a user's own SentenceTransformer: wrapped here, once, for everything below
    if model.normalizer is None:  # its index would be refused by every search (the manifest needs the rule)
        raise BuildError(
            f"model {model.name!r} does not read text through jisr's normalizer "
            "(jisr.embeddings.normalizer): pass its name or folder, or load it with "
            "jisr.embeddings.load_model, which adds the rule"
        )
    if companion_model is not None and options.milvus is not None:
        raise companion_refused_on_milvus()
    preflight.corpus_folder(corpus)
    index_dir = preflight.index_folder(index_dir)
    companion = wrap(companion_model) if companion_model is not None else _companion(options.companion_choice)
    settings = options.chunking or ChunkSettings(max_tokens=model.max_seq_length or 512)
    spec = BuildSpec(
        index_dir,
        model_info(model),
        {**settings.to_dict(), "passage_input": "title\\ntext"},
        companions.info(companion) if companion is not None else None,
        options.index_type,
    )
    try:
        with WriterLock(index_dir, lock_wait, waiting):
            undo = submit() if submit is not None else None
            writer = stores.writer(spec, options)
            work = _Build(
                Path(corpus),
                spec,
                writer,
                model,
                settings,
                progress,
                options,
                encoder or (lambda texts: encode_documents(model, texts)),
                companion,
            )
            try:
                return work.run(commit, started)
            except BaseException:
                if undo is not None and not work.committed:  # once committed, the documents are the index's
                    undo()
                raise
            finally:
                writer.close()
    except StoreError as exc:  # Milvus could not be reached or used
        raise BuildError(str(exc)) from None
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        if commits.full(exc):
            raise DiskFull(
                f"cannot write the index at {index_dir}: the disk is full; the previous index is "
                "unchanged: free some space and build again"
            ) from exc
        if isinstance(exc, RuntimeError):
            raise
        raise BuildError(
            f"cannot write the index at {index_dir}: {commits.why(exc)}; the previous index is unchanged"
        ) from exc


def _companion(choice: str) -> Embedder | None:
    """The companion model ``choice`` (``use`` or ``none``, resolved by the options) names, loaded."""
    return companions.load(choice) if choice != "none" else None


class _Build:
    """One build: which documents changed, their passages and vectors, handed to ``writer``; then the commit."""

    def __init__(
        self,
        corpus: Path,
        spec: BuildSpec,
        writer: StoreWriter,
        model,
        settings: ChunkSettings,
        progress: bool,
        options: BuildOptions,
        encoder: Encoder,
        companion: Embedder | None,
    ):
        self.corpus, self.spec, self.writer, self.settings = corpus, spec, writer, settings
        self.progress, self.follow_links, self.fields = progress, options.follow_links, options.fields
        self.encoder, self.batch_passages, self.companion = encoder, options.batch_passages, companion
        self.min_free_disk = options.min_free_disk
        self.count = token_counter(model)
        self.files: dict[str, dict] = {}  # the new commit's files: doc id -> sha256, where, passages
        self.embedded = self.stored_new = 0
        self.old_sources: dict[str, list] = {}  # the previous commit's files by path: [size, mtime_ns, doc ids]
        self.old_skipped: dict[str, list[Skipped]] = {}  # the previous commit's, by corpus file
        self.sources: dict[str, list] = {}  # the new commit's, for files whose stat can be trusted next time
        self.doc_file: dict[str, str] = {}  # the corpus file of each document read in pass 1
        self.committed = False

    def _next_generation(self) -> int:
        return commits.next_generation(self.spec.index_dir)

    def _remember(self, m: dict) -> None:
        """The previous commit's corpus files and skips, so unchanged files are not read again."""
        self.old_sources = _sources(m)
        for s in m.get("skipped") if isinstance(m.get("skipped"), list) else []:
            if isinstance(s, dict) and isinstance(s.get("path"), str) and isinstance(s.get("reason"), str):
                file, _, line = s["path"].rpartition(":")  # a record's skip is "file:line"
                self.old_skipped.setdefault(file if file and line.isdigit() else s["path"], []).append(
                    Skipped(s["path"], s["reason"])
                )

    def run(self, commit, started: float) -> BuildReport:
        previous = self.writer.previous()
        if previous.manifest is not None:
            self._remember(previous.manifest)
        old_files, rewrite_all = previous.files, previous.rewrite_all
        gen = self._next_generation()
        self.writer.start(gen)

        # pass 1: which files need work, and room on the disk for it. A file whose size and modification
        # time are those the previous commit recorded is not read again: reading and hashing every file
        # twice was most of the time of adding one file (benchmarks/results/decisions.md)
        todo, documents, todo_bytes = {}, 0, 0
        files, skipped = corpus_files(self.corpus, self.follow_links)
        files += submitted.files(self.spec.index_dir)
        trusted_before = time.time_ns() - 2_000_000_000  # a file changed since then may change again unseen
        # records are read again when the fields they are read with changed (--text-field, --field ...)
        fields_changed = previous.manifest is not None and previous.manifest.get("record_fields") != json.loads(
            json.dumps(asdict(self.fields))
        )
        for file in files:
            known_file = self.old_sources.get(file.rel)
            if fields_changed and (file.rel.lower().endswith((".jsonl", ".csv", ".tsv")) or submitted.owns(file)):
                known_file = None
            if (
                known_file
                and not rewrite_all
                and known_file[:2] == [file.size, file.mtime_ns]
                and all(doc in old_files for doc in known_file[2])
            ):
                for doc in known_file[2]:
                    self.files[doc] = old_files[doc]
                documents += len(known_file[2])
                skipped += self.old_skipped.get(file.rel, [])
                self.sources[file.rel] = known_file
                continue
            in_file = []
            for item in self._read(file):
                if isinstance(item, Skipped):
                    skipped.append(item)
                    continue
                if item.id in self.doc_file or item.id in self.files:  # sent over the API under a corpus file's id
                    skipped.append(Skipped(item.path, "its id is that of a document of the corpus folder"))
                    continue
                documents += 1
                in_file.append(item.id)
                self.doc_file[item.id] = file.rel
                known = old_files.get(item.id)
                if known and known["sha256"] == item.sha256 and not rewrite_all:
                    self.files[item.id] = known
                    continue
                adopted = self.writer.adopted(item.id, item.sha256)
                if adopted is not None:
                    self.files[item.id] = {**adopted, "encoding": item.encoding}
                    continue
                todo[item.id] = known
                todo_bytes += len(item.text.encode("utf-8"))
            if file.mtime_ns < trusted_before:
                self.sources[file.rel] = [file.size, file.mtime_ns, in_file]
        if not documents:
            raise BuildError(
                f"no readable documents (.txt, .md, .html, .docx, .pdf, or records in .jsonl, .csv, "
                f".tsv) under {self.corpus}"
            )
        for doc in self.writer.settle(self.files):
            del self.files[doc]
            todo[doc] = old_files.get(doc)

        preflight.free_space(
            self.spec.index_dir, preflight.index_size(todo_bytes, self.spec.info["dimension"]), self.min_free_disk
        )

        # pass 2: chunk, embed and write what changed, in batches, reading only the files that hold it
        try:
            needed = {self.doc_file[doc] for doc in todo}
            self._index(todo, [f for f in files if f.rel in needed])
            live, sentences, merged, store_fields = self.writer.finish(self.files, gen)
        except BaseException as exc:
            self.writer.failed(interrupted=isinstance(exc, KeyboardInterrupt))
            raise
        if not live:
            raise BuildError(f"the documents under {self.corpus} hold no passages (only titles or boilerplate)")
        seconds = time.perf_counter() - started
        total = live + sentences
        manifest = {
            "model": self.spec.info,
            "chunking": self.spec.chunking,
            "corpus": str(self.corpus.resolve()),
            "record_fields": asdict(self.fields),
            "index": {"type": self.spec.index_type, "metric": "inner_product"},
            "companion": self.spec.companion_info,
            "files": self.files,
            "sources": self.sources,
            "segments": [],
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
            "counts": {
                "documents": documents,
                "passages": live,
                "sentences": sentences,
                "embedded": self.embedded,
                "reused": total - self.stored_new,
            },
            "build_seconds": round(seconds, 3),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **store_fields,
        }
        commits.write_commit(self.spec.index_dir, gen, manifest, commit=commit)
        self.committed = True
        self.writer.committed(gen)
        return BuildReport(
            self.spec.index_dir,
            documents,
            live,
            sentences,
            self.embedded,
            total - self.stored_new,
            seconds,
            sorted(skipped, key=lambda s: s.path),
            len(manifest["segments"]),
            merged,
        )

    def _read(self, file: CorpusFile):
        """The documents of one file: of the corpus folder, or one sent over the API."""
        log.debug("reading %s", file.rel)
        return submitted.read(file, self.fields) if submitted.owns(file) else read_corpus_file(file, self.fields)

    def _index(self, todo: dict[str, dict | None], files: list[CorpusFile]) -> None:
        from tqdm import tqdm

        batch: list[tuple[Document, list[Passage]]] = []
        with tqdm(
            total=len(todo),
            unit="doc",
            desc="indexing",
            disable=not self.progress or not todo,
            file=sys.stderr,
            dynamic_ncols=True,
        ) as bar:
            passages, begun = 0, time.perf_counter()
            for file, item in ((f, item) for f in files for item in self._read(f)):
                if isinstance(item, Skipped) or item.id not in todo or self.doc_file[item.id] != file.rel:
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

    def _flush(self, batch: list[tuple[Document, list[Passage]]], todo) -> int:
        passages, vectors, sentence_vectors, companion_vectors = self._embed(batch, todo)
        entries = self.writer.write(batch, passages, vectors, sentence_vectors, companion_vectors)
        encodings = {d.id: d.encoding for d, _ in batch}
        self.files.update({doc: {**entry, "encoding": encodings[doc]} for doc, entry in entries.items()})
        return len(passages)

    def _embed(
        self, batch: list[tuple[Document, list[Passage]]], todo
    ) -> tuple[list[Passage], np.ndarray, np.ndarray, np.ndarray | None]:
        """The batch's passages with their vectors, their sentences' vectors and their companion vectors
        (None without a companion), reused where the text is known."""
        passages = [p for _, ps in batch for p in ps]
        inputs = [passage_input(p) for p in passages]
        sentences = [s for p in passages for s in p.sentence_texts()]
        known, known_companion = self.writer.reusable([d.id for d, _ in batch], todo)
        self.stored_new += sum(t not in known for t in inputs) + sum(s not in known for s in sentences)
        missing = sorted((set(inputs) | set(sentences)) - known.keys())  # one call: one trip to a cluster
        self.embedded += len(missing)
        known.update(zip(missing, self.encoder(missing)))
        dim = self.spec.info["dimension"]
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
        return (
            np.stack([known[p.text] for p in passages])
            if passages
            else np.zeros((0, self.spec.companion_info["dimension"]), np.float32)
        )
