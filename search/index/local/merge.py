"""Folding segments together: fewer, larger segments keep queries fast and drop deleted rows.

A merge copies the live rows of its segments into one new segment, vectors included (a companion's
too): nothing is embedded again. Like every segment, the new one becomes visible only when a commit
names it in place of the ones it replaces; a merge that is killed leaves an unfinished folder that
the next build removes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jisr.index.contract import CANDIDATES
from jisr.index.local import store
from jisr.index.local.segment import Segment, SegmentWriter, index_centers
from jisr.index.options import VectorIndexPolicy

BATCH_ROWS = 8192


def merge(
    index_dir: Path,
    segments: Sequence[Segment],
    deleted: Sequence[np.ndarray],
    live_docs: set[str],
    header: dict,
    index_type: str,
    vector_index: VectorIndexPolicy,
) -> Segment:
    """One new segment holding the live rows of ``segments`` (``deleted``: a bool mask per segment) and
    the documents of ``live_docs`` they hold, sealed and opened."""
    writer = SegmentWriter(index_dir / "segments" / store.new_segment_name(), header, index_centers(segments))
    for seg, gone in zip(segments, deleted):
        shas = seg.documents()
        with_rows = seg.document_rows()
        empty = [d for d, (_, n) in shas.items() if n == 0 and d in live_docs]
        if empty:
            writer.add(
                [(d, shas[d][0]) for d in empty],
                [],
                np.zeros((0, seg.vectors.shape[1])),
                np.zeros((0, seg.vectors.shape[1])),
                np.zeros((0, writer.companion_dim)),
            )
        batch: list[tuple[str, int, int]] = []
        for doc, first, n in with_rows + [("", 0, 0)]:  # a sentinel flushes the last batch
            if doc and (gone[first] or doc not in live_docs):
                continue
            if batch and (not doc or sum(c for _, _, c in batch) + n > BATCH_ROWS):
                _copy(writer, seg, batch, shas)
                batch = []
            if doc:
                batch.append((doc, first, n))
    writer.finish(index_type, CANDIDATES, vector_index)
    return Segment.open(writer.folder)


def _copy(writer: SegmentWriter, seg: Segment, batch: list[tuple[str, int, int]], shas: dict) -> None:
    rows = np.concatenate([np.arange(first, first + n) for _, first, n in batch])
    sentence_rows = np.concatenate([np.arange(seg.sentence_offsets[r], seg.sentence_offsets[r + 1]) for r in rows])
    writer.add(
        [(d, shas[d][0]) for d, _, _ in batch],
        seg.passages(rows),
        np.asarray(seg.vectors[rows]),
        np.asarray(seg.sentence_vectors[sentence_rows.astype(np.int64)]),
        None if seg.companion_vectors is None else np.asarray(seg.companion_vectors[rows]),
    )
