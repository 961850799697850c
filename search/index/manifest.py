"""The index manifest: what a build records, and the check that an index folder's manifest is whole.

Like a sentence-transformers model's config files, the manifest lies next to the data it
describes. It is read from disk, so it is data, not trusted: every field the code relies on is
checked here, and any gap or wrong type means "damaged or from another version: rebuild",
never a traceback. The integrity check cannot be switched off by editing it: the artifacts it
must list are fixed here, not read from it.
"""

from __future__ import annotations

import re

from jisr import settings
from jisr.errors import IndexUnavailable
from jisr.errors import damaged as _damaged

FORMAT = 3  # 2: the model reads text through jisr.embeddings.normalizer; 3: segments (jisr.index.local.store)
KINDS = settings.INDEX_TYPES  # vector index types (jisr.index.local.ann); auto: exact for small segments, else PQ

_SEGMENT = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")
_DELETES = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}\.[0-9]{8}\.npy")
_FIELDS = (  # dotted path, type
    ("format", int),
    ("generation", int),
    ("built_at", str),
    ("corpus", str),
    ("chunking", dict),
    ("model", dict),
    ("model.name", str),
    ("model.fingerprint", str),
    ("model.dimension", int),
    ("model.prompts", dict),
    ("model.normalizer", str),
    ("index", dict),
    ("index.type", str),
    ("counts", dict),
    ("counts.documents", int),
    ("counts.passages", int),
    ("counts.sentences", int),
    ("files", dict),
    ("segments", list),
)


def _get(manifest: dict, dotted: str):
    value = manifest
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(dotted)
        value = value[key]
    return value


def check(manifest, where: str) -> dict:
    """Return ``manifest`` if it has every field a reader relies on, else raise IndexUnavailable."""

    def damaged(why: str) -> IndexUnavailable:
        return _damaged(where, why)

    if not isinstance(manifest, dict):
        raise damaged(f"the manifest is a JSON {type(manifest).__name__}, not an object")
    if manifest.get("format") != FORMAT:
        raise damaged(f"format {manifest.get('format')!r}, this version reads {FORMAT}")
    for dotted, kind in _FIELDS:
        try:
            value = _get(manifest, dotted)
        except KeyError:
            raise damaged(f"no {dotted!r} in the manifest") from None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise damaged(f"{dotted!r} is {type(value).__name__}, not {kind.__name__}")
    companion = manifest.get("companion")  # absent in indexes built before companions: none
    if companion is not None and not (
        isinstance(companion, dict)
        and isinstance(companion.get("name"), str)
        and isinstance(companion.get("fingerprint"), str)
        and isinstance(companion.get("dimension"), int)
        and not isinstance(companion["dimension"], bool)
        and companion["dimension"] > 0
        and isinstance(companion.get("weight"), (int, float))
        and not isinstance(companion["weight"], bool)
        and 0 <= companion["weight"] <= 10
    ):
        raise damaged("'companion' is not one a build writes")
    if companion is not None and manifest.get("store") is not None:  # Milvus holds no companion vectors
        raise damaged("a companion is named for an index whose data is on Milvus")
    if manifest["index"]["type"] not in KINDS:
        raise damaged(f"unknown index type {manifest['index']['type']!r}")
    if (
        any(manifest["counts"][k] < 0 for k in ("documents", "passages", "sentences"))
        or manifest["model"]["dimension"] <= 0
    ):
        raise damaged("negative counts or dimension")
    for entry in manifest["segments"]:  # names become paths: only the shapes a build writes are followed
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not _SEGMENT.fullmatch(entry["name"])
            or not isinstance(entry.get("passages"), int)
            or not isinstance(entry.get("deleted"), int)
            or not (
                entry.get("deletes") is None
                or isinstance(entry["deletes"], str)
                and _DELETES.fullmatch(entry["deletes"])
                and entry["deletes"].startswith(entry["name"])
            )
        ):
            raise damaged("a segment entry is not one a build writes")
    return manifest
