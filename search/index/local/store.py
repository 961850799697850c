"""The index folder: immutable segments, and one small commit file that names the live ones.

Lucene is the model. A build writes new segments only for files that are new or changed and
marks the passages of changed or removed files as deleted (a tombstone file per segment and
commit); then it writes ``commits/<generation>.json`` (the manifest) and makes it current by
atomically replacing the small ``CURRENT`` file (both written, and cleaned, by :mod:`jisr.index.commit`).
Readers see one commit or the next, never half of one; whatever a killed build left is either adopted by the
next build (finished or half-filled segments made with the same model) or removed. Only one build writes a
folder at a time (:mod:`jisr.index.lock`).

    INDEX/CURRENT                   "00000007": the live commit's generation
    INDEX/commits/00000007.json     the manifest: model, chunking, files, live segments
    INDEX/segments/<name>/          one segment (:mod:`jisr.index.local.segment`)
    INDEX/deletes/<name>.<gen>.npy  rows of that segment deleted as of commit <gen>
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from jisr import durable
from jisr.errors import IndexUnavailable, damaged
from jisr.index import lexical
from jisr.index.commit import generation, missing, on_milvus, read_manifest
from jisr.index.local import ann, masks, warmup
from jisr.index.local import vectors as stored
from jisr.index.local.segment import META, OPTIONAL, REQUIRED, Segment
from jisr.index.options import CandidatePolicy
from jisr.index.titles import Titles
from jisr.index.vocabulary import Vocabulary
from jisr.passages import Passage


def new_segment_name() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()


@dataclass
class StoredIndex:
    """The live commit's segments, opened. Passages are addressed by one id across segments:
    the segment's base plus the row in it (deleted rows keep their ids and are never returned)."""

    directory: Path
    manifest: dict
    segments: list[Segment]
    deleted: list[np.ndarray]  # per segment, a bool mask of deleted rows
    shared: frozenset[str] = frozenset()  # segments this reader shares with the commit opened before it
    candidates: CandidatePolicy = CandidatePolicy()  # how many proposals a dense search re-scores

    def __post_init__(self) -> None:
        self.bases = np.cumsum([0] + [s.size for s in self.segments]).astype(np.int64)
        self._warmup: warmup.Warmup | None = None  # the warm-up expect_queries started, stopped at close
        self._shards: tuple[tuple, faiss.IndexShards] | None = None  # all segments' vector indexes (_proposals)
        self._all_deleted: tuple[np.ndarray, int] | None = None
        self._vocabulary: Vocabulary | None = None
        self._titles: Titles | None = None

    @property
    def size(self) -> int:
        """Live passages."""
        return int(self.bases[-1] - sum(int(d.sum()) for d in self.deleted))

    def groups(self, ids: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(segment number, rows in it, positions in ``ids``) for the ids of each segment."""
        ids = np.asarray(ids, dtype=np.int64)
        which = np.searchsorted(self.bases, ids, side="right") - 1
        order = np.argsort(which, kind="stable")  # one sort, not a pass over the ids per segment
        segments, starts = np.unique(which[order], return_index=True)
        for s, where in zip(segments.tolist(), np.split(order, starts[1:])):
            yield s, ids[where] - self.bases[s], where

    def ids(self) -> np.ndarray:
        """Every live passage's id, in order."""
        return np.concatenate(
            [np.flatnonzero(~d) + b for d, b in zip(self.deleted, self.bases)] or [np.zeros(0, np.int64)]
        )

    def passages(self, ids: Sequence[int]) -> list[Passage]:
        out: list = [None] * len(ids)
        for s, rows, where in self.groups(np.asarray(ids)):
            for i, p in zip(where, self.segments[s].passages(rows)):
                out[i] = p
        return out

    def passage(self, pid: int) -> Passage:
        return self.passages([pid])[0]

    def document(self, doc_id: str) -> list[Passage]:
        """The live passages of one document in reading order (none for an unknown id)."""
        ids = [
            base + row
            for base, seg, gone in zip(self.bases, self.segments, self.deleted)
            for row in seg.rows_of([doc_id])
            if not gone[row]
        ]
        return sorted(self.passages(ids), key=lambda p: p.ordinal)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self._gathered(ids, lambda seg: seg.vectors, int(self.manifest["model"]["dimension"]))

    def companion_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The companion encoder's vectors of passages ``ids`` (an index built with a companion only)."""
        return self._gathered(ids, lambda seg: seg.companion_vectors, int(self.manifest["companion"]["dimension"]))

    def _gathered(self, ids: np.ndarray, stored_in, dim: int) -> np.ndarray:
        groups = list(self.groups(ids))
        out = np.zeros((len(ids), dim), np.float32)
        if groups:
            out[np.concatenate([where for _, _, where in groups])] = stored.gather(
                [(stored_in(self.segments[s]), rows) for s, rows, _ in groups], dim
            )
        return out

    def sentence_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each passage's sentence count, and their vectors one passage after another, in ``ids``' order."""
        ids = np.asarray(ids, np.int64)
        counts = np.zeros(len(ids), np.int64)
        groups = list(self.groups(ids))
        starts = []
        for s, rows, where in groups:
            offsets = self.segments[s].sentence_offsets
            first = np.asarray(offsets[rows])
            counts[where] = np.asarray(offsets[rows + 1]) - first
            starts.append(first)
        dim = int(self.manifest["model"]["dimension"])
        bounds = np.cumsum(counts) - counts
        parts, positions = [], []
        for (s, _, where), first in zip(groups, starts):
            n = counts[where]
            within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
            parts.append((self.segments[s].sentence_vectors, np.repeat(first, n) + within))
            positions.append(np.repeat(bounds[where], n) + within)
        out = np.zeros((int(counts.sum()), dim), np.float32)
        if parts:
            out[np.concatenate(positions)] = stored.gather(parts, dim)
        return counts, out

    def _hidden(self, where) -> list[np.ndarray]:
        """Per segment, the rows a search must not return: deleted, or (with a filter ``where``) not kept by it."""
        if where is None:
            return self.deleted
        return [gone | ~masks.rows(where, seg.mask) for seg, gone in zip(self.segments, self.deleted)]

    def dense_candidates(self, q: np.ndarray, n: int, where=None) -> np.ndarray:
        """The ``n`` live passages closest to ``q`` (exact cosine) among those the segments' vector
        indexes propose, sorted by id. ``where``: a filter (:class:`jisr.index.filtering.Filter`), applied
        before the ``n`` are taken: where it keeps few rows of a segment they are compared exactly, else
        the vector index is asked for as many more as the filter hides.

        Of all segments' proposals, the ``candidates.rescored`` x ``n`` best by the vector indexes' own (approximate)
        scores are re-scored exactly: re-scoring every segment's ``depth`` grew with the segment count
        (benchmarks/results/decisions.md). Unfiltered, all segments are asked in one call
        (:meth:`_proposals`)."""
        exact, cosines = [], []
        proposed = self._proposals(q, n) if where is None else None
        if proposed is None:
            ids, approx = [], []
            for base, seg, hidden in zip(self.bases, self.segments, self._hidden(where)):
                hide = int(hidden.sum())
                if seg.size - hide <= 0:
                    continue
                if where is not None and seg.size - hide <= ann.EXACT_UP_TO:
                    rows = np.flatnonzero(~hidden)
                    exact.append(rows + base)
                    cosines.append(stored.dot(seg.vectors, rows, q))
                    continue
                depth = ann.depth(seg.meta["vector_index"], n)
                if where is not None:  # as many more as it hides, in proportion
                    depth = int(depth * seg.size / (seg.size - hide)) + 1
                scores, rows = seg.vector_index.search(
                    q[None, :], min(depth + (hide if where is None else 0), seg.size)
                )
                keep = rows[0] >= 0
                keep[keep] = ~hidden[rows[0][keep]]
                ids.append(rows[0][keep] + base)
                approx.append(scores[0][keep])
            proposed = (np.concatenate(ids), np.concatenate(approx)) if ids else None
        if proposed is not None:
            ids, approx = proposed
            rescored = self.candidates.rescored * n
            if len(ids) > rescored:
                ids = ids[np.argpartition(-approx, rescored - 1)[:rescored]]
            ids = np.sort(ids)  # memory-mapped rows read in order
            groups = list(self.groups(ids))  # ids sorted: each segment's rows follow the one before's
            exact.append(ids)
            cosines.append(stored.gathered_dot([(self.segments[s].vectors, rows) for s, rows, _ in groups], q))
        if not exact:
            return np.zeros(0, np.int64)
        return lexical.top(np.concatenate(exact), np.concatenate(cosines), n)[0]

    def _proposals(self, q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(ids, approximate scores) of the live passages every segment's vector index proposes, asked
        of all segments in one FAISS call (an IndexShards over them); None where that does not pay (one
        segment) or would ask too many (more deleted rows than ``candidates.rescored`` x ``n``: each segment is then
        asked for its own). One call lets go of Python's lock for the whole search: with BM25 on a thread
        beside it (answers.searcher), a search of segment after segment waited for the lock between them,
        and took longer than alone or beside BM25 in another process (benchmarks/results/decisions.md)."""
        if len(self.segments) < 2:
            return None
        gone, hidden = self._gone()
        rescored = self.candidates.rescored * n
        if hidden > rescored:
            return None
        k = max([rescored] + [ann.depth(s.meta["vector_index"], n) for s in self.segments]) + hidden
        key = tuple(id(s.vector_index) for s in self.segments)  # a benchmark may swap a segment's index
        if self._shards is None or self._shards[0] != key:
            shards = faiss.IndexShards(self.segments[0].vector_index.d, False, True)  # ids shifted by each base
            for seg in self.segments:
                shards.add_shard(seg.vector_index)
            self._shards = (key, shards)
        scores, ids = self._shards[1].search(q[None, :], min(k, len(gone)))
        keep = ids[0] >= 0
        keep[keep] = ~gone[ids[0][keep]]
        return ids[0][keep], scores[0][keep]

    def _gone(self) -> tuple[np.ndarray, int]:
        """Every segment's deleted rows, by passage id (a byte a passage), and how many: made once."""
        if self._all_deleted is None:
            gone = np.concatenate(self.deleted) if self.deleted else np.zeros(0, bool)
            self._all_deleted = (gone, int(gone.sum()))
        return self._all_deleted

    def lexical_candidates(self, query: str, n: int, where=None) -> tuple[np.ndarray, np.ndarray, float]:
        """The ``n`` best live passages by BM25 (ids, scores, sorted by id), and the query's word coverage;
        ``where``: a filter, applied before the ``n`` are taken (the statistics stay the whole index's)."""
        per_segment, coverage = lexical.best([s.postings for s in self.segments], query, n, self._hidden(where))
        ids = [rows + base for (rows, _), base in zip(per_segment, self.bases)]
        scores = [score for _, score in per_segment]
        ids, scores = (np.concatenate(ids), np.concatenate(scores)) if ids else (np.zeros(0, np.int64), np.zeros(0))
        return lexical.top(ids, scores, n) + (coverage,)

    def vocabulary(self) -> Vocabulary:
        """Every segment's BM25 terms and their passage counts, merged once per opened commit."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.merged((s.postings.terms, s.postings.starts) for s in self.segments)
        return self._vocabulary

    def titles(self) -> Titles:
        """The live documents' titles, gathered once per opened commit."""
        if self._titles is None:
            self._titles = Titles(
                title
                for segment, gone in zip(self.segments, self.deleted)
                for row, title in zip(*segment.titles())
                if not gone[row]
            )
        return self._titles

    def languages(self, ids: np.ndarray) -> np.ndarray:
        from jisr.index.local.segment import LANGS

        out = np.zeros(len(ids), np.uint8)
        for s, rows, where in self.groups(ids):
            out[where] = self.segments[s].lang[rows]
        return np.array(LANGS)[out] if len(ids) else np.zeros(0, "<U2")

    @property
    def location(self) -> str:
        return f"in {len(self.segments)} segments"

    def verify(self) -> list[str]:
        """Every segment's files hashed against the sha256 its build recorded."""
        return [problem for segment in self.segments for problem in segment.verify()]

    def expect_queries(self, warm: bool = False, budget: int | None = None) -> warmup.Warmup | None:
        """Set the segments up for queries; with ``warm``, start reading their files into the page
        cache (:mod:`jisr.index.local.warmup`), within ``budget`` bytes of resident memory if given, kept
        to while the store is open, and return that warm-up. Segments shared with the commit opened
        before were set up (and warmed) for it already; a budget keeps to all of them."""
        files = [seg.expect_queries() for seg in self.segments if seg.name not in self.shared]
        if not warm:
            return None
        self._warmup = warmup.start(
            [f for every, _ in files for f in every],
            [f for _, some in files for f in some],
            budget,
            [m for seg in self.segments for m in seg.droppable()],
        )
        return self._warmup

    def close(self) -> None:
        if self._warmup is not None:
            self._warmup.stop()
        for s in self.segments:
            s.close()


def _deleted_mask(index_dir: Path, entry: dict, size: int) -> np.ndarray:
    mask = np.zeros(size, bool)
    if entry["deletes"]:
        rows = np.load(index_dir / "deletes" / entry["deletes"], allow_pickle=False)
        if rows.ndim != 1 or len(rows) != entry["deleted"] or (len(rows) and (rows.min() < 0 or rows.max() >= size)):
            raise ValueError(f"the deletes of segment {entry['name']} do not fit it")
        mask[rows] = True
    return mask


def _read_commit(
    index_dir: Path, gen: int, where: str, reuse: StoredIndex | None, candidates: CandidatePolicy
) -> StoredIndex:
    manifest = read_manifest(index_dir, gen)
    if on_milvus(manifest):
        raise IndexUnavailable(f"the index at {where} lives on Milvus: open it with jisr.index.stores.open_index")
    segments, deleted = [], []
    open_already = {s.name: s for s in reuse.segments} if reuse is not None else {}
    try:
        for entry in manifest["segments"]:
            folder = index_dir / "segments" / entry["name"]
            kept = open_already.get(entry["name"])  # a segment is immutable: the same name, the same files
            meta = kept.meta if kept is not None else json.loads((folder / META).read_text(encoding="utf-8"))
            if (
                meta.get("fingerprint") != manifest["model"]["fingerprint"]
                or meta.get("passages") != entry["passages"]
                or meta.get("companion") != manifest.get("companion")
            ):
                raise ValueError(f"segment {entry['name']} is not the one its commit names")
            segment = kept.share() if kept is not None else _opened(folder, meta)
            segments.append(segment)
            deleted.append(_deleted_mask(index_dir, entry, segment.size))
    except BaseException:
        for s in segments:
            s.close()
        raise
    index = StoredIndex(
        index_dir, manifest, segments, deleted, frozenset(open_already) & {s.name for s in segments}, candidates
    )
    if index.size != manifest["counts"]["passages"]:
        index.close()
        raise damaged(where, "its segments do not hold the passages its commit counts")
    return index


_UNREADABLE = (OSError, ValueError, KeyError, TypeError, RuntimeError, IndexError, sqlite3.Error)  # a damaged file


def _opened(folder: Path, meta: dict) -> Segment:
    """The segment at ``folder``; what cannot be read in it is raised as a ValueError that names the segment's
    folder where it does not name the file (numpy's and FAISS's own messages name neither)."""
    try:
        return Segment(folder, meta)
    except _UNREADABLE as exc:
        if isinstance(exc, ValueError) and str(folder) in str(exc):
            raise
        raise ValueError(f"a file in {folder} cannot be read ({_why(exc)})") from exc


def _why(exc: BaseException) -> str:
    """What is wrong, in a few words: a missing file as such, our own ValueErrors as they are."""
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename} is missing"
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return text if isinstance(exc, ValueError) and text else f"{type(exc).__name__}: {text}"


def load(
    index_dir: str | Path, reuse: StoredIndex | None = None, candidates: CandidatePolicy | None = None
) -> StoredIndex:
    """Open the live commit: its manifest checked, its segments' file sizes checked, nothing hashed
    (``jisr check`` does that). A build that commits meanwhile may remove what this was reading;
    then the new commit is read instead. ``reuse``: a commit of this folder open already, whose
    segments the live one keeps are shared rather than opened again (Lucene's openIfChanged), and whose
    ``candidates`` are kept. ``candidates``: how many proposals a dense search re-scores (default: as
    ``reuse`` does, else :class:`jisr.index.options.CandidatePolicy`'s)."""
    index_dir, where = Path(index_dir), str(index_dir)
    candidates = candidates or (reuse.candidates if reuse is not None else CandidatePolicy())
    for _ in range(3):
        gen = generation(index_dir)
        if gen is None:
            raise missing(index_dir)
        try:
            return _read_commit(index_dir, gen, where, reuse, candidates)
        except IndexUnavailable:
            raise
        except _UNREADABLE as exc:
            if generation(index_dir) != gen:
                continue  # replaced while we read it: read the new one
            raise damaged(index_dir, _why(exc)) from exc
    raise IndexUnavailable(f"index at {index_dir} kept changing while it was read: try again")


def write_deletes(index_dir: Path, name: str, gen: int, rows: np.ndarray) -> str:
    """Save the deleted rows of segment ``name`` as of commit ``gen``; return the file's name."""
    durable.make_dirs(index_dir / "deletes")
    file = f"{name}.{gen:08d}.npy"
    with open(index_dir / "deletes" / file, "wb") as f:
        np.save(f, np.unique(rows).astype(np.int64), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    durable.fsync_dir(index_dir / "deletes")  # its name too, before a commit names it
    return file


def commit_files(index_dir: Path, manifest: dict) -> list[str]:
    """The files of ``index_dir`` that commit ``manifest`` names beside its commit file, relative to the folder,
    each segment's ``segment.json`` after the files it lists (a segment folder without it reads as unfinished).
    None of them changes once written (a segment is sealed; a deletes file is named by its commit), which is
    why a snapshot may hard-link them. A name a segment.json lists that no segment has is refused: it is data."""
    found = []
    for entry in manifest["segments"]:
        folder = Path("segments") / entry["name"]
        try:
            names = json.loads((index_dir / folder / META).read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise damaged(index_dir, f"segment {entry['name']} cannot be read: {type(exc).__name__}") from None
        if not isinstance(names, dict) or not set(names) <= REQUIRED | OPTIONAL:
            raise damaged(index_dir, f"segment {entry['name']} does not list the files a segment has")
        found += [str(folder / name) for name in sorted(names)] + [str(folder / META)]
        if entry["deletes"]:
            found.append(str(Path("deletes") / entry["deletes"]))
    return found
