"""Text -> vectors. One entry point, :func:`load_model`, for the default model and any other.

Every model is a sentence-transformers ``SentenceTransformer``, handed out inside an
:class:`~jisr.embeddings.embedder.Embedder` of ours that holds what jisr knows about it (its name, the
rule it reads text through); callers embed with ``model.encode_query(texts)`` and
``model.encode_document(texts)``, which apply the model's own prompts (a model without prompts works
too) and return L2-normalized float32 arrays. A model of the user's own enters through :func:`wrap`.
On a CPU, every model's Linear layers multiply by weights prepacked for oneDNN (see
:mod:`jisr.embeddings.precision`).
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from jisr.embeddings import devices, normalizer
from jisr.embeddings.default_model import NAME as DEFAULT_MODEL
from jisr.embeddings.default_model import ensure
from jisr.embeddings.embedder import Embedder, wrap
from jisr.embeddings.fingerprint import model_fingerprint
from jisr.errors import ModelError

if TYPE_CHECKING:  # torch and sentence-transformers load in seconds: only when a model is loaded
    from sentence_transformers import SentenceTransformer

__all__ = ["DEFAULT_MODEL", "Embedder", "load_model", "model_fingerprint", "model_name", "wrap"]


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


def _own_modules() -> dict:
    """Module types of ours that a model folder may name; they load without trusting the folder's code. A
    folder converted before the one import package names it as embeddings.windowed: that name is ours too,
    and is never imported (another package may be called ``embeddings``)."""
    from jisr.embeddings.windowed import WindowedTransformer

    return {
        "jisr.embeddings.windowed.WindowedTransformer": WindowedTransformer,
        "embeddings.windowed.WindowedTransformer": WindowedTransformer,
    }


def _load(path: str, trust_remote_code: bool, device: str = "cpu") -> SentenceTransformer:
    """Load a local model folder onto ``device`` (a torch device). Without ``trust_remote_code`` no Python
    file it names is imported: sentence-transformers refuses module types outside its own (ours are handed
    over as classes, not imported by name), and transformers ignores a config's ``auto_map``."""
    from sentence_transformers import SentenceTransformer

    from jisr.embeddings.cpus import cap_torch_threads
    from jisr.embeddings.precision import prepack_linears

    cap_torch_threads()  # batch work (build, eval) uses the CPUs a container's quota allows, not the host's
    model = SentenceTransformer._load_with_module_classes(
        path, _own_modules(), device=device, trust_remote_code=trust_remote_code
    )
    if device == "cpu":
        prepack_linears(model)
    normalizer.apply(model)
    return model


def _local_copy(name: str) -> str:
    """The folder to load ``name`` from: itself when it is one, else the hub cache's copy of that id.

    A hub id that is not cached is checked against the hub once, with a short timeout, so an
    unreachable hub is one clear error in seconds rather than minutes of retries.
    """
    if os.path.isdir(name):
        return name
    if os.path.isabs(name) or name.startswith((".", "~")) or os.sep + os.sep in name:
        raise ModelError(f"cannot load model {name!r}: there is no model folder at that path")
    from huggingface_hub import HfApi, constants, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        return snapshot_download(name, local_files_only=True)
    except LocalEntryNotFoundError:
        pass
    except (ValueError, HfHubHTTPError) as exc:  # not a valid hub id
        raise ModelError(f"{name!r} is neither a model folder nor a model hub id ({exc})") from exc
    if constants.HF_HUB_OFFLINE:
        raise ModelError(
            f"model {name!r} is not a local folder nor in the hub cache, and the hub is off "
            "(HF_HUB_OFFLINE): copy the model folder to this machine and pass its path"
        )
    try:
        HfApi().model_info(name, timeout=10)
    except RepositoryNotFoundError as exc:
        raise ModelError(f"no model {name!r} on the model hub (and no local folder of that name)") from exc
    except Exception as exc:  # connection refused, DNS, timeout, proxy: all mean "no hub from here"
        raise ModelError(
            f"cannot reach the model hub to fetch {name!r} ({type(exc).__name__}), and it is not "
            "in the local hub cache: pass a local model folder, or set HF_HUB_OFFLINE=1"
        ) from exc
    return snapshot_download(name)


def load_model(
    name: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    trusted_model: str | None = None,
    device: str | None = None,
) -> Embedder:
    """Load the default model (``name`` None or ``DEFAULT_MODEL``), or any sentence-transformers id or path,
    onto ``device`` (auto, cpu, cuda: :func:`jisr.embeddings.devices.resolve`).

    Python code that a model folder names (custom modules, a config's ``auto_map``) runs only when
    ``trusted_model`` (the CLI's ``--trust-remote-code``) is this very ``name``, so trusting one model
    never trusts another, such as one an index names. The model comes inside an :class:`Embedder` named
    ``name`` (what an index records, to load it again). Raises :class:`ModelError` with an actionable
    message when the model cannot be had.
    """
    device = devices.resolve(device)
    if name in (None, DEFAULT_MODEL):
        with _quiet_transformers():
            path = ensure(cache_dir)
            try:
                model = _load(str(path), trust_remote_code=False, device=device)
            except Exception:  # noqa: BLE001 - a damaged cache entry: convert again, once
                model = _load(str(ensure(cache_dir, rebuild=True)), trust_remote_code=False, device=device)
        return Embedder(model, DEFAULT_MODEL)
    path = _local_copy(name)  # before torch is imported: a missing model fails in a second
    try:
        with _quiet_transformers():
            model = _load(path, trust_remote_code=trusted_model is not None and trusted_model == name, device=device)
    except ModelError:
        raise
    except Exception as exc:
        hint = (
            "; if you trust this model's code, pass --trust-remote-code " + name
            if "trust_remote_code" in str(exc)
            else ""
        )
        first_line = (str(exc).strip().splitlines() or [""])[0]
        where = "the local directory" if os.path.isdir(name) else "the model hub's copy"
        raise ModelError(f"cannot load model {name!r} from {where}: {type(exc).__name__}: {first_line}{hint}") from exc
    return Embedder(_ensure_normalized(model), name)


def model_name(model: Embedder | SentenceTransformer) -> str:
    """The name the model was loaded under (what to pass to load_model to get it back)."""
    return wrap(model).name
