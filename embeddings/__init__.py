"""Text -> vectors. One entry point, :func:`load_model`, for the default model and any other.

Every model is a sentence-transformers ``SentenceTransformer``; callers embed with
``model.encode_query(texts)`` and ``model.encode_document(texts)``, which apply the
model's own prompts (a model without prompts works too) and return L2-normalized
float32 arrays. On a CPU, every model's Linear layers multiply by weights prepacked for
oneDNN (see :mod:`embeddings.precision`).
"""
from __future__ import annotations

import contextlib
import json
import os

from sentence_transformers import SentenceTransformer

from embeddings.default_model import NAME as DEFAULT_MODEL, ModelError, ensure
from embeddings.fingerprint import model_fingerprint
from embeddings.precision import prepack_linears

__all__ = ["DEFAULT_MODEL", "ModelError", "load_model", "model_fingerprint", "model_name"]


@contextlib.contextmanager
def _quiet_transformers():
    """Hide transformers' load reports and progress bars, which are noise in a CLI or server log."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def _ensure_normalized(model: SentenceTransformer) -> SentenceTransformer:
    from sentence_transformers.base.modules.normalize import Normalize

    if not any(isinstance(m, Normalize) for m in model):
        model.append(Normalize())
    return model


_OWN_MODULES = ("sentence_transformers.", "embeddings.windowed.")


def _trusted(path: str) -> bool:
    """Whether a local model's modules are all sentence-transformers' or ours (so no third-party code runs)."""
    try:
        with open(os.path.join(path, "modules.json"), encoding="utf-8") as f:
            return all(m["type"].startswith(_OWN_MODULES) for m in json.load(f))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _load(path_or_id: str) -> SentenceTransformer:
    model = SentenceTransformer(path_or_id, device="cpu", trust_remote_code=_trusted(path_or_id))
    prepack_linears(model)
    return model


def load_model(name: str | None = None, cache_dir: str | os.PathLike | None = None) -> SentenceTransformer:
    """Load the default model (``name`` None or ``DEFAULT_MODEL``), or any sentence-transformers id or path.

    Raises :class:`ModelError` with an actionable message when the model cannot be had.
    """
    if name in (None, DEFAULT_MODEL):
        with _quiet_transformers():
            path = ensure(cache_dir)
            try:
                model = _load(str(path))
            except Exception:  # a damaged cache entry: convert again, once
                model = _load(str(ensure(cache_dir, rebuild=True)))
        model.jisr_name = DEFAULT_MODEL
        return model
    try:
        with _quiet_transformers():
            model = _load(name)
    except Exception as exc:
        where = "the local directory" if os.path.isdir(name) else "a local directory or a model hub id"
        raise ModelError(f"cannot load model {name!r} as {where}: {type(exc).__name__}: {exc}".strip()) from exc
    model.jisr_name = name
    return _ensure_normalized(model)


def model_name(model: SentenceTransformer) -> str:
    """The name the model was loaded under (what to pass to load_model to get it back)."""
    return getattr(model, "jisr_name", None) or str(model.model_card_data.base_model or "unknown")
