"""Encode many documents in batches sized by tokens, not by count.

A batch costs its longest text times its size (padding is computed too), and the
encoder is fastest while a batch's activations stay in the CPU cache. Texts sorted by
token count and grouped under a budget of about 2,048 padded tokens encoded XQuAD
paragraphs faster than batches of 32 texts (``benchmarks/encode_speed.py`` measures both;
benchmarks/results/encode_speed.md and decisions.md).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from sentence_transformers import SentenceTransformer

from jisr.embeddings import devices, reading

TOKEN_BUDGET, MAX_BATCH = devices.CPU_TOKENS, devices.CPU_BATCH


def token_batches(lengths: Sequence[int], budget: int = TOKEN_BUDGET, max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Indices of ``lengths`` grouped shortest first so that size x longest <= budget (a longer text goes alone)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if current and ((len(current) + 1) * lengths[i] > budget or len(current) == max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def document_lengths(model: SentenceTransformer, texts: Sequence[str]) -> list[int]:
    """Tokens the model sees for each text as a document: prompt and special tokens included, nothing cut.
    Counted without offsets (a build counts every paragraph it chunks) and without changing the tokenizer,
    which a search may be encoding with (:mod:`jisr.embeddings.reading`)."""
    prompt = model.prompts.get("document", "")
    return reading.token_counts(model.tokenizer, [prompt + t for t in texts])


def encode_documents(
    model: SentenceTransformer,
    texts: Sequence[str],
    progress: bool = False,
    label: str = "text",
    budget: int | None = None,
) -> np.ndarray:
    """``model.encode_document(texts)`` in token-budget batches (``budget``: padded tokens; by default what the
    model's device holds, :func:`jisr.embeddings.devices.batch_budget`); rows are in the order of ``texts``."""
    vectors = np.zeros((len(texts), model.get_embedding_dimension()), dtype=np.float32)
    if not texts:
        return vectors
    from tqdm import tqdm

    with tqdm(
        total=len(texts),
        unit=label,
        desc=f"embedding {label}s",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        tokens, most = devices.batch_budget(model.device.type)
        for batch in token_batches(document_lengths(model, texts), budget or tokens, most):
            vectors[batch] = model.encode_document([texts[i] for i in batch], batch_size=len(batch))
            bar.update(len(batch))
    return vectors
