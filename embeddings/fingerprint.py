"""A short identity for a loaded model, so an index can refuse vectors from another one.

Names are not enough (a local path can hold other weights tomorrow), and hashing
every weight costs a second per start. This hashes what changes whenever the
model's output can change: module layout, prompts, how the tokenizer splits a fixed
probe, and the exact bytes at both ends of every parameter tensor.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from jisr.embeddings import reading

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from jisr.embeddings.embedder import Embedder

_PROBE = "passage: Jisr جسر 2015 — «شارل ديغول» café وَالْعَمَلُ\u200f"  # marks: see jisr.embeddings.normalizer


def model_fingerprint(model: SentenceTransformer | Embedder) -> str:
    """The fingerprint of the SentenceTransformer's own weights and layout (an Embedder's model): wrapping a
    model changes nothing of it, so an index built before the wrapper opens with the same model."""
    from jisr.embeddings.embedder import wrap

    model = wrap(model).model
    digest = hashlib.sha256()
    layout = {
        # our own modules by the names they had before the one import package (jisr.embeddings.windowed was
        # embeddings.windowed), so that indexes and the centering table keep their models' fingerprints
        "modules": [(type(m).__module__ + "." + type(m).__name__).removeprefix("jisr.") for m in model],
        "prompts": model.prompts,
        "max_seq_length": model.max_seq_length,
        "probe": reading.tokens(model.tokenizer, _PROBE, special=True)[0] if model.tokenizer is not None else None,
    }
    digest.update(json.dumps(layout, sort_keys=True, default=str).encode())
    for name, tensor in model.state_dict().items():
        if ".pooler." in name:  # BERT's pooler head: never read by sentence-transformers, and randomly
            continue  # initialized on each load when a checkpoint was saved without it
        flat = tensor.detach().reshape(-1).cpu()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(flat[:256].numpy().tobytes())
        digest.update(flat[-256:].numpy().tobytes())
    return digest.hexdigest()[:16]
