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


class IndexUnavailable(RuntimeError):
    """The index is missing, damaged, or does not fit the model; the message says what to do."""


def build_command(index_dir: str | os.PathLike) -> str:
    """The `jisr build` that writes an index at ``index_dir`` from the current folder: with the default
    corpus when there is one here, else with the user's folder to fill in."""
    corpus = "" if Path(DEFAULT_CORPUS).is_dir() else "--corpus FOLDER "
    return f"`jisr build {corpus}--index {shlex.quote(str(index_dir))}`" + \
        (" (FOLDER: the folder of your documents)" if corpus else "")


def damaged(where: str | os.PathLike, why: str) -> IndexUnavailable:
    """The index at ``where`` cannot be read as this version writes indexes; rebuilding it is the way out."""
    return IndexUnavailable(f"index at {where} is damaged or from another version of jisr ({why}): "
                            f"rebuild it with {build_command(where)}")
