"""Corpus folder -> index directory, re-embedding only what changed since the last build."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from embeddings import model_fingerprint, model_name
from embeddings.batching import document_lengths, encode_documents
from search import preflight, store
from search.chunking import ChunkSettings, Passage, chunk
from search.documents import Skipped, read_corpus
from search.lock import IndexBusy, WriterLock
from search.manifest import INDEX_TYPES
from search.preflight import BuildError  # noqa: F401  (raised by build; re-exported for callers)


@dataclass
class BuildReport:
    index_dir: Path
    documents: int
    passages: int
    sentences: int
    embedded: int  # texts (passages and sentences) sent to the model
    reused: int  # texts whose vectors came from the previous build
    seconds: float
    skipped: list[Skipped] = field(default_factory=list)


def model_info(model: SentenceTransformer) -> dict:
    return {"name": model_name(model), "fingerprint": model_fingerprint(model),
            "normalizer": getattr(model, "jisr_normalizer", None),
            "dimension": model.get_embedding_dimension(), "prompts": dict(model.prompts),
            "max_seq_length": model.max_seq_length}


def token_counter(model: SentenceTransformer):
    """Tokens the model sees for a passage: its document prompt and special tokens included."""
    return lambda text: document_lengths(model, [text])[0]


def passage_input(p: Passage) -> str:
    """What the model reads for a passage: its document's title, then its text.

    The title tells the model what a paragraph is about when the paragraph itself does not say
    (a hadith's chapter, an article's headline). Tune halves, MRR@10 en->ar / ar->ar hybrid: the
    hadith set 0.443 -> 0.469 / 0.944 -> 0.958, XQuAD 0.872 -> 0.884 / 0.958 -> 0.956. Sentences are
    read alone: they are evidence of their own words.
    """
    return f"{p.title}\n{p.text}" if p.title else p.text


def _previous_vectors(index_dir: Path, fingerprint: str) -> dict[str, np.ndarray]:
    """Vectors of the current build by what the model read, if it was made with the same model."""
    if not store.exists(index_dir):
        return {}
    try:
        old = store.load(index_dir)
    except store.IndexUnavailable:
        return {}  # a damaged index is rebuilt from scratch
    if old.manifest["model"]["fingerprint"] != fingerprint:
        return {}
    known = dict(zip((passage_input(p) for p in old.passages), old.passage_vectors()))
    sentences = (s for p in old.passages for s in p.sentence_texts())
    known.update(zip(sentences, old.sentence_vectors))
    return known


def _embed(model: SentenceTransformer, texts: list[str], label: str, progress: bool) -> dict[str, np.ndarray]:
    return dict(zip(texts, encode_documents(model, texts, progress=progress, label=label)))


def build(corpus: str | Path, index_dir: str | Path, model: SentenceTransformer, index_type: str = "flat",
          settings: ChunkSettings | None = None, progress: bool = False, follow_links: bool = False,
          commit: Callable[[], AbstractContextManager] = contextlib.nullcontext) -> BuildReport:
    """Build (or rebuild) the index of ``corpus`` at ``index_dir`` and swap it in atomically.

    Everything that can be checked before embedding is: the corpus, the index folder, that no
    other build is writing it, and the free space. ``commit`` wraps the swap (the CLI's refuses
    it after Ctrl-C); ``follow_links`` lets symlinks lead out of the corpus folder.
    """
    started = time.perf_counter()
    if index_type not in INDEX_TYPES:
        raise BuildError(f"unknown index type {index_type!r}; choose one of {', '.join(INDEX_TYPES)}")
    preflight.corpus_folder(corpus)
    index_dir = preflight.index_folder(index_dir)
    try:
        with WriterLock(index_dir):
            store.clean(index_dir)  # what killed builds left behind
            return _build_locked(corpus, index_dir, model, index_type, settings, progress, follow_links,
                                 commit, started)
    except IndexBusy as exc:
        raise BuildError(str(exc)) from None
    except store.WriteFailed as exc:
        raise BuildError(str(exc)) from exc


def _build_locked(corpus, index_dir: Path, model, index_type, settings, progress, follow_links, commit,
                  started) -> BuildReport:
    documents, skipped = read_corpus(corpus, follow_links=follow_links)
    if not documents:
        raise BuildError(f"no readable .txt or .md files under {corpus}")

    info = model_info(model)
    settings = settings or ChunkSettings(max_tokens=info["max_seq_length"] or 512)
    count = token_counter(model)
    passages: list[Passage] = [p for d in documents for p in chunk(d, count, settings)]
    if not passages:
        raise BuildError(f"the documents under {corpus} hold no passages (only titles or boilerplate)")
    sentence_list = [s for p in passages for s in p.sentence_texts()]
    text_bytes = sum(len(p.text.encode("utf-8")) for p in passages)
    preflight.free_space(index_dir, preflight.index_size(text_bytes, len(passages) + len(sentence_list),
                                                         info["dimension"]))

    known = _previous_vectors(index_dir, info["fingerprint"])
    inputs = [passage_input(p) for p in passages]
    reused = {t for t in set(inputs) | set(sentence_list) if t in known}
    missing_passages = sorted(set(inputs) - known.keys())
    known.update(_embed(model, missing_passages, "passage", progress))
    missing_sentences = sorted(set(sentence_list) - known.keys())
    known.update(_embed(model, missing_sentences, "sentence", progress))

    dim = info["dimension"]
    passage_vectors = np.stack([known[t] for t in inputs]).astype(np.float32)
    sentence_vectors = (np.stack([known[s] for s in sentence_list]).astype(np.float32)
                        if sentence_list else np.zeros((0, dim), np.float32))
    faiss_index = store.make_faiss(dim, index_type)
    faiss_index.add(passage_vectors)

    seconds = time.perf_counter() - started
    manifest = {
        "model": info,
        "chunking": {**settings.to_dict(), "passage_input": "title\\ntext"},
        "index": {"type": index_type, "params": INDEX_TYPES[index_type], "metric": "inner_product"},
        "corpus": str(Path(corpus).resolve()),
        "files": {d.id: {"sha256": d.sha256, "passages": 0} for d in documents},
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        "counts": {"documents": len(documents), "passages": len(passages), "sentences": len(sentence_list),
                   "embedded": len(missing_passages) + len(missing_sentences), "reused": len(reused)},
        "build_seconds": round(seconds, 3),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    for p in passages:
        manifest["files"][p.doc_id]["passages"] += 1
    store.save(index_dir, manifest, faiss_index, passages, sentence_vectors, commit=commit)
    return BuildReport(index_dir, len(documents), len(passages), len(sentence_list),
                       manifest["counts"]["embedded"], len(reused), seconds, skipped)
