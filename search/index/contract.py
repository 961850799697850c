"""What crosses the boundary between a store and the rest of jisr: the protocols both stores implement,
and the plain types handed to them.

jisr's own store (segments in the index folder) and the Milvus store each implement :class:`IndexReader`
and :class:`StoreWriter`; nothing outside a store knows which one it has. This module names no store:
the stores import it, and only the factory, :mod:`jisr.index.stores`, imports the stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from jisr.errors import IndexUnavailable
from jisr.index import commit

if TYPE_CHECKING:
    import numpy as np

    from jisr.index.filtering import Filter
    from jisr.index.titles import Titles
    from jisr.index.vocabulary import Vocabulary
    from jisr.passages import Passage

CANDIDATES = 200  # passages a search asks a store for, by vector and by BM25; a writer tunes its vector index
# so that the best of this many are found (the ranking reads them all: jisr.answers.searcher)
DEFAULT_COLLECTION = "jisr"  # the Milvus collection a build writes when none is named


@dataclass(frozen=True)
class MilvusTarget:
    """Where a build on Milvus writes: ``uri`` None is Milvus Lite inside the index folder. Made with its
    collection's name checked by :func:`jisr.index.stores.milvus_target`."""

    uri: str | None = None
    token: str | None = None
    collection: str = DEFAULT_COLLECTION


@dataclass(frozen=True)
class BuildSpec:
    """What a build makes, which its writer needs to know: where, with which model, chunking and companion."""

    index_dir: Path
    info: dict  # the model's manifest entry (jisr.index.build.model_info)
    chunking: dict
    companion_info: dict | None
    index_type: str

    def made_alike(self, m: dict) -> bool:
        """Whether commit ``m`` was made with this build's model and chunking (so its vectors can stay)."""
        return (
            m["model"]["fingerprint"] == self.info["fingerprint"]
            and m["chunking"] == self.chunking
            and m["model"]["normalizer"] == self.info["normalizer"]
        )

    def live_manifest(self) -> dict | None:
        """The live commit's manifest, checked, its data not opened; None if there is none or it is damaged."""
        try:
            path = commit.current_commit(self.index_dir)
            return commit.read_manifest(self.index_dir, commit.generation(self.index_dir)) if path else None
        except (IndexUnavailable, OSError, ValueError):
            return None


@dataclass
class Previous:
    """What a writer keeps of the previous commit: its manifest (None: nothing), its documents whose rows
    can stay, and whether every document must be written again all the same (its vectors reused)."""

    manifest: dict | None = None
    files: dict[str, dict] = field(default_factory=dict)
    rewrite_all: bool = False


class Warming(Protocol):
    """A warm-up a reader started (:meth:`IndexReader.expect_queries`): reading what queries touch into memory."""

    bytes_read: int
    seconds: float

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the warm-up has ended (within ``timeout`` seconds)."""

    def stop(self) -> None: ...


class IndexReader(Protocol):
    """One commit, opened: passages addressed by integer ids, their vectors, and candidate search."""

    directory: Path
    manifest: dict

    @property
    def size(self) -> int:
        """Live passages."""

    @property
    def location(self) -> str:
        """Where the data lives, in words (`jisr check`): "in 3 segments", "on Milvus (collection news)"."""

    def dense_candidates(self, q: np.ndarray, n: int, where: Filter | None = None) -> np.ndarray:
        """The ``n`` live passages closest to ``q`` by exact cosine among those the vector index proposes;
        with ``where``, among those it keeps (applied before the ``n`` are taken)."""

    def lexical_candidates(
        self, query: str, n: int, where: Filter | None = None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """The ``n`` best live passages by BM25 (ids, scores, sorted by id), and the query's word coverage;
        ``where`` as for dense_candidates."""

    def vocabulary(self) -> Vocabulary:
        """The terms BM25 indexes and their passage counts (:mod:`jisr.index.vocabulary`); empty where the store
        cannot list them, and then no query is read as typed on another keyboard."""

    def titles(self) -> Titles:
        """The live documents' titles by their folded form (:mod:`jisr.index.titles`); empty where the store
        cannot list them."""

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def sentence_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's sentence count, and their vectors one passage after another."""

    def companion_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The companion encoder's vectors (an index built with a companion only)."""

    def languages(self, ids: np.ndarray) -> np.ndarray: ...

    def passages(self, ids: Sequence[int]) -> list[Passage]: ...

    def ids(self) -> np.ndarray:
        """Every live passage's id."""

    def document(self, doc_id: str) -> list[Passage]:
        """The live passages of one document in reading order (none for an unknown id)."""

    def verify(self) -> list[str]:
        """Everything the commit names, checked in full (`jisr check`): the problems found."""

    def expect_queries(self, warm: bool = False, budget: int | None = None) -> Warming | None:
        """Set up for queries; with ``warm``, start reading what queries touch into memory (within ``budget``
        bytes of resident memory, kept to, if given)."""

    def close(self) -> None: ...


class StoreWriter(Protocol):
    """Where a build puts what it embedded (:func:`jisr.index.build.build` drives it).

    The build reads the corpus, decides what changed, chunks and embeds it; the writer keeps what the
    previous commit and killed builds left that can stay, stores each batch, and says what the new
    commit names. Its ``files`` entries are the manifest's record of each document."""

    def previous(self) -> Previous:
        """The previous commit, as far as this writer can build on it."""

    def start(self, gen: int) -> None:
        """Take over or clean what killed builds left, before anything is written for commit ``gen``."""

    def adopted(self, doc_id: str, sha256: str) -> dict | None:
        """A ``files`` entry for this version of a document if a killed build stored it already, else None."""

    def settle(self, files: dict[str, dict]) -> list[str]:
        """Once the corpus is read: the documents in ``files`` whose stored rows cannot stay after all."""

    def reusable(self, docs: list[str], todo: dict[str, dict | None]) -> tuple[dict, dict]:
        """Vectors of the previous versions of ``docs`` by the text the model read, and companion vectors
        by passage text."""

    def write(
        self,
        batch,
        passages: list[Passage],
        vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        companion_vectors: np.ndarray | None,
    ) -> dict[str, dict]:
        """Store one batch of (document, its passages); return the documents' ``files`` entries."""

    def finish(self, files: dict[str, dict], gen: int) -> tuple[int, int, int, dict]:
        """The last batch is in: (live passages, live sentences, segments merged, what the manifest records
        of this store). May update ``files`` entries (a merge moves documents)."""

    def failed(self, interrupted: bool) -> None:
        """The build stops before its commit (``interrupted``: by a stop request, and may resume)."""

    def committed(self, gen: int) -> None:
        """Commit ``gen`` is current: remove what it no longer names."""

    def close(self) -> None: ...
