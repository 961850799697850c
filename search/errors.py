"""What can go wrong, in one place: each error's message is meant for the person who ran jisr.

The CLI prints any of these as one line and exits 1; the web app answers them as JSON with
a status. Light on purpose (nothing beyond the standard library): every stage raises them, and
the CLI catches them before it has imported anything heavy.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

DEFAULT_CORPUS = "seeds"  # `jisr build`'s corpus when --corpus is not given


class Error(Exception):
    """Anything jisr tells the person who ran it: the message says what went wrong and what to do."""


class IndexUnavailable(Error, RuntimeError):
    """The index is missing, damaged, or does not fit the model; the message says what to do."""


class ModelMismatch(IndexUnavailable):
    """The index was built with another model than the one given."""


class CompanionUnavailable(IndexUnavailable):
    """The index's companion encoder is not installed, or is not the one the index was built with."""


class StoreError(Error, RuntimeError):
    """A store (Milvus) cannot be reached or used; the message says what to do."""


class BuildError(Error, RuntimeError):
    """The build cannot go ahead; the message says why. The existing index is untouched."""


class IndexBusy(BuildError):
    """Another process is writing this index."""


class DiskFull(BuildError):
    """The disk holding the index has no room for a write (no byte, inode or quota left): nothing was
    committed and the last commit is still the one searched, so freeing space and trying again is the way
    out. The server answers it 507 Insufficient Storage, apart from the other failed builds (500)."""


class ModelError(Error, RuntimeError):
    """A model could not be found, built or loaded; the message says what to do."""


class ClusterError(Error, RuntimeError):
    """Ray is not installed, the cluster cannot be reached or started, or its workers failed."""


class QueryError(Error, ValueError):
    """The request is malformed; the message is meant for the person who sent it."""


class EvalError(Error, ValueError):
    """The labeled set cannot be read; the message says what is wrong."""


class ConfigError(Error, ValueError):
    """A JISR_* setting cannot be used; the message names it."""


class ServeError(Error, RuntimeError):
    """The server cannot start; the message says why."""


def build_command(index_dir: str | os.PathLike) -> str:
    """The `jisr build` that writes an index at ``index_dir`` from the current folder: with the default
    corpus when there is one here, else with the user's folder to fill in."""
    corpus = "" if Path(DEFAULT_CORPUS).is_dir() else "--corpus FOLDER "
    return f"`jisr build {corpus}--index {shlex.quote(str(index_dir))}`" + (
        " (FOLDER: the folder of your documents)" if corpus else ""
    )


def repair(where: str | os.PathLike) -> str:
    """What repairs a damaged index at ``where``: a build (which writes again what it cannot read), or a
    snapshot taken before the damage (``jisr snapshot``) put back."""
    return (
        f"rebuild it with {build_command(where)}, or restore a snapshot of it with "
        f"`jisr restore SNAPSHOT --index {shlex.quote(str(where))}`"
    )


def damaged(where: str | os.PathLike, why: str) -> IndexUnavailable:
    """The index at ``where`` cannot be read as this version writes indexes: :func:`repair` says the way out."""
    return IndexUnavailable(f"index at {where} is damaged or from another version of jisr ({why}): {repair(where)}")
