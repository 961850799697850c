"""A build's writer for jisr's own store: new segments for what changed, tombstones for the rest.

A build hands this writer each embedded batch; it appends them to the segment being filled
(sealed at ``SegmentPolicy.passages``, so a build's memory stays flat), marks the rows of changed and
removed documents as deleted as of the new commit, and folds small segments together when too
many pile up. A killed build loses at most one batch: this writer adopts the segments it finished
and resumes the one it was filling, when they were made with the same model and chunking.
"""

from __future__ import annotations

import shutil

import numpy as np

from jisr.errors import IndexUnavailable
from jisr.index import commit
from jisr.index.contract import CANDIDATES, BuildSpec, Previous
from jisr.index.local import store
from jisr.index.local.segment import META, Segment, SegmentWriter, index_centers
from jisr.index.options import BuildOptions
from jisr.passages import Passage, passage_input


class LocalStoreWriter:
    """One build's segments: where each document's passages live, what is deleted, the segment being filled."""

    def __init__(self, spec: BuildSpec, options: BuildOptions = BuildOptions()):
        self.spec, self.index_dir = spec, spec.index_dir
        self.policy, self.vector_index = options.segments, options.vector_index
        precision = options.precision
        self.header = {
            "fingerprint": spec.info["fingerprint"],
            "normalizer": spec.info["normalizer"],
            "dimension": spec.info["dimension"],
            "chunking": spec.chunking,
            "vector_dtype": precision.passages,
            "sentence_dtype": precision.sentences,
            "companion_dtype": precision.companion,
            "companion": spec.companion_info,
        }
        self.segments: dict[str, Segment] = {}  # every segment the new commit may name, by name
        self.before: dict[str, set[str]] = {}  # documents live in each segment before this build
        self.old_deletes: dict[str, dict] = {}  # the previous commit's entry of each of its segments
        self.found: dict[str, dict[str, str]] = {}  # documents (by id: sha256) in segments a killed build left
        self.writer: SegmentWriter | None = None
        self.filling = None  # the folder of the segment being filled
        self.entries: list[dict] = []

    # -- what the previous commit and killed builds left ---------------------------------------------

    def previous(self) -> Previous:
        """The previous commit's documents (none when it was made with another model or chunking, is
        damaged, or lives on Milvus: then everything is written again)."""
        current = self.spec.live_manifest()
        try:
            old = store.load(self.index_dir) if current is not None and not commit.on_milvus(current) else None
        except IndexUnavailable:
            return Previous()
        if old is None:
            return Previous()
        m = old.manifest
        if not self.spec.made_alike(m):
            old.close()
            return Previous()
        for seg, entry in zip(old.segments, m["segments"]):
            self.segments[seg.name] = seg
            self.before[seg.name] = set()
            self.old_deletes[seg.name] = entry
        for doc, f in m["files"].items():
            self.before[f["segment"]].add(doc)
        # another companion (or none): every document is written again, its model's vectors reused
        return Previous(m, m["files"], rewrite_all=m.get("companion") != self.spec.companion_info)

    def start(self, gen: int) -> None:
        """Adopt the segments a killed build finished and the one it was filling, if made alike; clean the rest."""
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
                    self.found[seg.name] = {d: sha for d, (sha, _) in seg.documents().items()}
                    self.before[seg.name] = set(self.found[seg.name])
                else:
                    seg.close()
            elif SegmentWriter.resumable(path, self.header):
                self.writer = SegmentWriter(path, self.header, index_centers(self.segments.values()))
                self.filling = path  # the newest wins; older ones are cleaned away
        if self.writer is not None:
            self.found[self.writer.folder.name] = self.writer.documents()
        commit.clean(self.index_dir, keep=set(self.segments) | ({self.writer.folder.name} if self.writer else set()))

    def adopted(self, doc_id: str, sha256: str) -> dict | None:
        home = next((name for name, docs in self.found.items() if docs.get(doc_id) == sha256), None)
        return None if home is None else {"sha256": sha256, "segment": home, "passages": None}

    def settle(self, files: dict[str, dict]) -> list[str]:
        """A file in the half-filled segment that changed or went since: its rows cannot be told apart from
        the new version's, so that segment is dropped and its documents are written again."""
        if self.writer is None:
            return []
        name = self.writer.folder.name
        if all(files.get(d, {}).get("segment") == name for d in self.found[name]):
            return []
        self.writer.db.close()
        shutil.rmtree(self.writer.folder, ignore_errors=True)
        self.writer = self.filling = None
        return [doc for doc, f in files.items() if f["segment"] == name]

    def reusable(
        self, docs: list[str], todo: dict[str, dict | None]
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
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
                if seg.companion_vectors is not None and seg.meta.get("companion") == self.spec.companion_info:
                    known_companion[p.text] = np.asarray(seg.companion_vectors[row], np.float32)
                a = seg.sentence_offsets[row]
                for i, s in enumerate(p.sentence_texts()):
                    known[s] = np.asarray(seg.sentence_vectors[a + i], np.float32)
        return known, known_companion

    # -- writing -------------------------------------------------------------------------------------

    def write(
        self,
        batch,
        passages: list[Passage],
        vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        companion_vectors: np.ndarray | None,
    ) -> dict[str, dict]:
        if self.writer is None:
            self.filling = self.index_dir / "segments" / store.new_segment_name()
            self.writer = SegmentWriter(self.filling, self.header, index_centers(self.segments.values()))
        self.writer.add([(d.id, d.sha256) for d, _ in batch], passages, vectors, sentence_vectors, companion_vectors)
        entries = {
            d.id: {"sha256": d.sha256, "segment": self.writer.folder.name, "passages": len(ps)} for d, ps in batch
        }
        if self.writer.rows >= self.policy.passages:
            self._seal()
        return entries

    def _seal(self) -> None:
        self.writer.finish(self.spec.index_type, CANDIDATES, self.vector_index)
        seg = Segment.open(self.writer.folder)
        self.writer = self.filling = None
        self.segments[seg.name] = seg
        self.before.setdefault(seg.name, set())

    def failed(self, interrupted: bool) -> None:
        if self.filling is not None and not interrupted:
            shutil.rmtree(self.filling, ignore_errors=True)  # a failed write is not resumed

    # -- the commit ------------------------------------------------------------------------------------

    def finish(self, files: dict[str, dict], gen: int) -> tuple[int, int, int, dict]:
        """(live passages, live sentences, segments merged, the manifest's "segments")."""
        if self.writer is not None:
            self._seal()
        entries = self._entries(files, gen)
        live = sum(e["passages"] - e["deleted"] for e in entries)
        merged = self._merge(files, entries) if live else 0
        if merged:
            entries = self._entries(files, gen)
        self.entries = entries
        return live, sum(self._live_sentences(e) for e in entries), merged, {"segments": entries}

    def committed(self, gen: int) -> None:
        self.close()
        commit.clean(self.index_dir)

    def close(self) -> None:
        for seg in self.segments.values():
            seg.close()

    def _entries(self, files: dict[str, dict], gen: int) -> list[dict]:
        """The new commit's segments with their deletes: every row of a document no longer assigned to
        the segment is deleted. Segments left with no live rows are dropped."""
        assigned: dict[str, set[str]] = {name: set() for name in self.segments}
        for doc, f in files.items():
            assigned[f["segment"]].add(doc)
        entries = []
        for name, seg in self.segments.items():
            gone = (
                (self.before.get(name, set()) | set(seg.documents())) - assigned[name]
                if name not in self.old_deletes
                else self.before[name] - assigned[name]
            )
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
        for doc, f in files.items():  # documents found in adopted segments: count their passages
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

    def _merge(self, files: dict[str, dict], entries: list[dict]) -> int:
        """Fold the smallest segments into one when there are too many small ones; return how many."""
        small = sorted(
            (e for e in entries if e["passages"] - e["deleted"] < self.policy.passages // 2),
            key=lambda e: e["passages"] - e["deleted"],
        )
        if len(small) <= self.policy.max_small:
            return 0
        chosen, total = [], 0
        for e in small:
            if total + e["passages"] - e["deleted"] > self.policy.passages and len(chosen) >= 2:
                break
            chosen.append(e)
            total += e["passages"] - e["deleted"]
        from jisr.index.local.merge import merge

        names = {e["name"] for e in chosen}
        masks = [self._deleted(e) for e in chosen]
        live_docs = {doc for doc, f in files.items() if f["segment"] in names}
        merged = merge(
            self.index_dir,
            [self.segments[e["name"]] for e in chosen],
            masks,
            live_docs,
            self.header,
            self.spec.index_type,
            self.vector_index,
        )
        for e in chosen:
            self.segments.pop(e["name"])
            self.old_deletes.pop(e["name"], None)
        self.segments[merged.name] = merged
        self.before[merged.name] = set(merged.documents())
        for f in files.values():
            if f["segment"] in names:
                f["segment"] = merged.name
        return len(chosen)
