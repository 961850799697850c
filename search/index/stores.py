"""The store factory: the one module that imports the stores, and picks one.

jisr's own store (segments in the index folder, :mod:`jisr.index.local.store`) and the Milvus store
(:mod:`jisr.index.milvus.store`, :mod:`jisr.index.milvus.writer`) each implement the protocols of
:mod:`jisr.index.contract`. Which store a commit lives on is in its manifest, so :func:`open_index` picks
the reader; a build's writer is picked by its ``milvus`` target (:func:`writer`). Nothing else imports a
store (tests/test_layout.py checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jisr.index import commit
from jisr.index.contract import DEFAULT_COLLECTION, BuildSpec, IndexReader, MilvusTarget, StoreWriter

if TYPE_CHECKING:
    from jisr.index.options import BuildOptions, CandidatePolicy


def milvus_target(uri: str | None, token: str | None, collection: str | None) -> MilvusTarget:
    """Where a build on Milvus writes, its collection's name checked before anything loads (StoreError if
    Milvus would not take it); ``collection`` None: the default one."""
    from jisr.index.milvus.store import check_collection

    return MilvusTarget(uri, token, check_collection(collection or DEFAULT_COLLECTION))


def writer(spec: BuildSpec, options: BuildOptions) -> StoreWriter:
    """The store's writer a build hands its batches to: Milvus's for a ``options.milvus`` target, else jisr's own."""
    if options.milvus is None:
        from jisr.index.local.writer import LocalStoreWriter

        return LocalStoreWriter(spec, options)
    from jisr.index.milvus.writer import MilvusStoreWriter

    return MilvusStoreWriter(spec, options.milvus)


def open_index(
    index_dir: str | Path,
    milvus_uri: str | None = None,
    milvus_token: str | None = None,
    candidates: CandidatePolicy | None = None,
) -> IndexReader:
    """Open the live commit of ``index_dir`` with the reader of the store its manifest names.
    ``milvus_uri``/``milvus_token``: the Milvus the user names for an index on Milvus (an address read
    from an index is not followed: :func:`jisr.index.milvus.store.resolve_uri`). ``candidates``: how many
    proposals jisr's own store re-scores (Milvus ranks its own)."""
    manifest = commit.readable(index_dir)
    if commit.on_milvus(manifest):
        from jisr.index.milvus import store as milvus_store

        return milvus_store.load(Path(index_dir), manifest, milvus_uri, milvus_token)
    from jisr.index.local import store

    return store.load(index_dir, candidates=candidates)


def open_next(reader: IndexReader, milvus_uri: str | None = None, milvus_token: str | None = None) -> IndexReader:
    """The live commit of ``reader``'s folder, opened beside ``reader`` (which stays open for the searches
    still reading it). A local commit shares the segments it keeps with ``reader``, so a commit that
    added one document opens one segment, not all of them again."""
    manifest = commit.readable(reader.directory)
    if not commit.on_milvus(manifest) and not commit.on_milvus(reader.manifest):
        from jisr.index.local import store

        return store.load(reader.directory, reuse=reader)
    return open_index(reader.directory, milvus_uri, milvus_token)


def commit_files(index_dir: str | Path, manifest: dict) -> list[str]:
    """The files of ``index_dir`` that commit ``manifest`` names beside its commit file, relative to the folder
    (:func:`jisr.index.local.store.commit_files`); none for an index on Milvus, whose data Milvus holds."""
    if commit.on_milvus(manifest):
        return []
    from jisr.index.local import store

    return store.commit_files(Path(index_dir), manifest)
