"""Cross-lingual queries moved away from what every question has in common.

An English question's vector holds two things: what it asks, and that it is an English question.
The second part points the same way for every query, so it favours passages that happen to lie
along it, whatever the query asks. Subtracting a share ``alpha`` of the mean vector of many English
questions (then normalizing again) takes most of it out. Only queries that are not in Arabic are
moved: the Arabic queries of our two labeled sets are phrases as well as questions, and lost
quality when moved by the mean of Arabic questions.

The mean is a property of one model's weights, so it is kept per model fingerprint in
``centering.json`` beside this file; a model without an entry is left as it is. Only queries
move: the index is the same with or without it. The entry for the default model is fitted by
``benchmarks/fit_query_centering.py`` on the English questions of XQuAD's tune half (CC BY-SA 4.0,
so the file is under CC BY-SA 4.0 too), with ``alpha`` chosen on the tune halves of both labeled
sets; the held-out halves are only reported.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from jisr.arabic import language

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from jisr.embeddings import Embedder

TABLE = Path(__file__).with_name("centering.json")


@functools.cache
def _table() -> dict:
    try:
        return json.loads(TABLE.read_text(encoding="utf-8"))["models"]
    except (OSError, ValueError, KeyError):
        return {}


def _lookup(model: Embedder) -> np.ndarray | None:
    from jisr.embeddings import model_fingerprint

    entry = _table().get(model_fingerprint(model))
    return None if entry is None else np.float32(entry["alpha"]) * np.asarray(entry["mean"], np.float32)


def shift(model: Embedder | SentenceTransformer) -> np.ndarray | None:
    """``alpha`` x the mean English question vector for this model, or None when it has no entry; looked
    up once per model and kept on its :class:`~jisr.embeddings.Embedder`."""
    from jisr.embeddings import wrap

    return wrap(model).centering(_lookup)


def center(queries: list[str], vectors: np.ndarray, moved: np.ndarray | None) -> np.ndarray:
    """``vectors`` (of ``model.encode_query(queries)``) with those of queries not in Arabic moved by
    ``-moved`` (:func:`shift`) and normalized again."""
    if moved is None or not len(vectors):
        return vectors
    out = np.array(vectors, dtype=np.float32, copy=True)
    cross = np.array([language(q) != "ar" for q in queries])
    if cross.any():
        out[cross] -= moved
        out[cross] /= np.linalg.norm(out[cross], axis=1, keepdims=True)
    return out


def encode_queries(model: Embedder, queries: list[str], **kwargs) -> np.ndarray:
    """``model.encode_query(queries, **kwargs)``, centered: the vectors search ranks with."""
    return center(queries, model.encode_query(queries, **kwargs), shift(model))
