"""Query -> ranked passages. The one object the CLI, the web app and eval all ask.

The Searcher finds each query's candidates (the closest passages by the dense index, the best by
BM25), gathers what the ranking reads about them, and ranks them in the chosen mode
(:mod:`jisr.answers.ranking`: one function per signal, a table of modes) with the weights the fits chose
(:mod:`jisr.weights`). Queries are read by the index's model, cut at a token budget and, when not
in Arabic, centered (:mod:`jisr.answers.centering`): :meth:`Searcher.encode_queries` is the one way
to encode many at once.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from jisr.answers import match, merging, names, ranking, spelling, typing
from jisr.answers.answer import Answer, FacetValue, Highlight, Hit, Total, Truncated
from jisr.answers.centering import encode_queries
from jisr.answers.filters import Filter, bind
from jisr.answers.query import FACETS, MAX_DEPTH, MAX_FACET_VALUES
from jisr.answers.query_encoder import QueryEncoder
from jisr.answers.request import SearchRequest
from jisr.arabic import language, matching_words
from jisr.corpus.fields import shown
from jisr.corpus.readers import RecordFields
from jisr.embeddings import companion as companions
from jisr.embeddings import load_model, model_fingerprint, wrap
from jisr.errors import ModelMismatch, QueryError
from jisr.index.contract import CANDIDATES
from jisr.index.options import CandidatePolicy
from jisr.index.stores import open_index
from jisr.passages import collection
from jisr.settings import current
from jisr.weights import Weights, shipped

GROUPED = 2 * CANDIDATES  # ranked passages read to group by document: every candidate a query ranks
# BM25 candidates are found on a thread of their own while the dense index is searched: both spend
# their time in FAISS and numpy, outside the GIL, so a query takes the longer of the two rather than
# their sum (benchmarks/results/decisions.md, "BM25 beside the dense search").
# Threads start when queries wait for one, up to this many at once; past it a query's BM25 waits its turn.
LEXICAL_THREADS = 32
_beside: dict[int, ThreadPoolExecutor] = {}  # by process: the threads BM25 runs on (see beside())


def beside() -> ThreadPoolExecutor:
    """The process's threads for BM25 beside the dense search, shared by every searcher: a live server's
    searchers come and go with its commits, its threads need not. A forked child gets its own, as the
    parent's threads are not copied into it."""
    pool = _beside.get(os.getpid())
    return (
        pool
        if pool is not None
        else _beside.setdefault(os.getpid(), ThreadPoolExecutor(LEXICAL_THREADS, thread_name_prefix="jisr-bm25"))
    )


def one_blas_thread() -> None:
    """Give numpy's (and scipy's) OpenBLAS one thread in a process that answers queries; FAISS's own
    OpenBLAS and torch's threads are left as they are (a build's k-means and the encoder use them).

    A query's matrix products are small (a few thousand rows times one vector), and after each one
    OpenBLAS's second thread spins, waiting for more work, on the core that BM25 or the dense search
    needed (benchmarks/results/decisions.md, "numpy's OpenBLAS on one thread")."""
    if _blas_quieted.get(os.getpid()):
        return
    import threadpoolctl

    # by file name alone: select() keeps a library that matches any one of its arguments, and FAISS's
    # OpenBLAS (an OpenMP build: its thread count is its OpenMP's) would be limited with it
    threadpoolctl.ThreadpoolController().select(prefix="libscipy_openblas").limit(limits=1)
    _blas_quieted[os.getpid()] = True


_blas_quieted: dict[int, bool] = {}


def _check_model(index, model: SentenceTransformer) -> None:
    """Refuse a model other than the one the index was built with: its vectors would not compare."""
    built_with = index.manifest["model"]
    reads = wrap(model).normalizer
    if built_with["normalizer"] != reads:
        raise ModelMismatch(
            f"the index at {index.directory} was built with the model reading text through "
            f"{built_with['normalizer']!r}, and this model reads it through {reads!r}: rebuild the index "
            "with `jisr build`"
        )
    if model_fingerprint(model) != built_with["fingerprint"]:
        raise ModelMismatch(
            f"the index at {index.directory} was built with model {built_with['name']!r} "
            f"(fingerprint {built_with['fingerprint']}), not with the model given; search it with that "
            f"model, or rebuild it with `jisr build --model ...`"
        )


class Searcher:
    """A loaded index and the model that reads queries for it; safe to share between threads.

    ``weights``: the ranking's (:func:`jisr.weights.shipped`, the companion's as the index records it);
    a fit tries others by setting them on its searcher (``searcher.weights = searcher.weights.but(...)``)."""

    def __init__(
        self,
        index,
        model: SentenceTransformer | None,
        query_threads: int | None = None,
        query_tokens: int | None = None,
        warm: bool = False,
        companion: SentenceTransformer | None = None,
        memory_budget: int | None = None,
    ):
        """``model``: the index's model, which reads queries; None for a searcher that ranks query vectors
        it is given (``rank(vector=...)``) and encodes none, such as a benchmark's with a stand-in encoder.
        ``memory_budget``: with ``warm``, the bytes of resident memory the index may hold (warmed within
        and kept to: :mod:`jisr.index.local.warmup`)."""
        one_blas_thread()
        self.model = wrap(model) if model is not None else None  # a user's own SentenceTransformer is wrapped once
        limits = current().search  # a query's encoder cost grows with its tokens: past the budget it is cut
        self.query_threads = query_threads or limits.query_threads
        self.query_tokens = query_tokens or limits.max_query_tokens
        self._encoder = None if self.model is None else QueryEncoder(self.model, self.query_threads, self.query_tokens)
        self.companion = self._companion_encoder = None
        self.warm = (
            warm  # with ``warm``, the index's files are read into the page cache meanwhile (a server wants that)
        )
        self.memory_budget = memory_budget
        self._attach(index, companion)

    def _attach(self, index, companion: SentenceTransformer | None) -> None:
        """Search ``index`` with this searcher's models; its companion (``companion``: one loaded already;
        the one this searcher has, when it is the same) read on its own encoder thread."""
        if self.model is not None:
            _check_model(index, self.model)
        self.index, self.model_name = index, index.manifest["model"]["name"]
        recorded = index.manifest.get("companion")
        self.weights: Weights = shipped().but(companion=float(recorded["weight"]) if recorded else 0.0)
        if not recorded:
            self.companion = self._companion_encoder = None
        elif self.companion is None or model_fingerprint(self.companion) != recorded["fingerprint"]:
            where = str(index.directory)
            self.companion = (
                companions.check(wrap(companion), recorded, where)
                if companion is not None
                else companions.for_index(recorded, where)
            )
            self._companion_encoder = QueryEncoder(self.companion, None, self.query_tokens)
        self.lines = match.for_index(index.manifest)  # {mode: {query group: Lines}}; {} when never calibrated
        self.declared = RecordFields.recorded(index.manifest).declared  # {field: kind} a filter may name
        self.warmup = index.expect_queries(self.warm, self.memory_budget)

    def on(self, index) -> Searcher:
        """A searcher of ``index`` (another commit of this one's folder) sharing this one's models and
        their encoder threads: a live server's next commit, searched without loading anything again."""
        other = copy.copy(self)
        other._attach(index, None)
        return other

    def close(self) -> None:
        self.index.close()

    @classmethod
    def open(
        cls,
        index_dir: str | Path,
        model: SentenceTransformer | str | None = None,
        model_cache: str | None = None,
        trusted_model: str | None = None,
        milvus_uri: str | None = None,
        milvus_token: str | None = None,
        warm: bool = False,
        companion: SentenceTransformer | None = None,
        memory_budget: int | None = None,
        candidates: CandidatePolicy | None = None,
    ) -> Searcher:
        """Open an index; with no model given, load the one it was built with, by the same rules as any
        model (``trusted_model``: see :func:`jisr.embeddings.load_model`). ``milvus_uri``/``milvus_token``: the
        Milvus an index on Milvus is read from (see :mod:`jisr.index.milvus.store`). ``warm``: start reading
        the index into the page cache (:mod:`jisr.index.local.warmup`), as a server should. ``companion``: the
        index's companion encoder, loaded already (else it is loaded as the manifest names it). ``candidates``:
        how many proposals a dense search re-scores (:class:`jisr.index.options.CandidatePolicy`; default: the
        ``rescored`` setting)."""
        if candidates is None:
            candidates = CandidatePolicy(current().search.rescored)
        index = open_index(index_dir, milvus_uri, milvus_token, candidates)
        if model is None or isinstance(model, str):
            model = load_model(
                model or index.manifest["model"]["name"], cache_dir=model_cache, trusted_model=trusted_model
            )
        return cls(index, model, warm=warm, companion=companion, memory_budget=memory_budget)

    @property
    def size(self) -> int:
        return self.index.size

    def encode_query(self, query: str) -> np.ndarray:
        return self._encoder.read(query)[0]

    def read_query(self, query: str) -> tuple[np.ndarray, str, int]:
        """(embedding, the text read, the query's token count); see :class:`QueryEncoder`."""
        return self._encoder.read(query)

    def encode_queries(self, queries: list[str], batch_size: int = 64) -> np.ndarray:
        """Many queries' vectors at once, as search ranks with them (centered): for eval and the fits,
        which rank many queries (``rank(vector=...)``). Each query is read as given: see
        :func:`jisr.evaluate.as_searched` for the cut search makes."""
        return encode_queries(self.model, queries, batch_size=batch_size)

    def companion_queries(self, queries: list[str]) -> list[np.ndarray | None]:
        """The companion's vector of each query hybrid reads it for (not in Arabic), else None: for
        callers that rank many queries and encode them together (``rank(companion=...)``)."""
        if self.companion is None:
            return [None] * len(queries)
        cross = [q for q in queries if language(q) != "ar"]
        found = iter(self.companion.encode_query(cross, batch_size=64) if cross else [])
        return [next(found) if language(q) != "ar" else None for q in queries]

    def scores(
        self,
        query: str,
        mode: str,
        q: np.ndarray | None = None,
        companion: np.ndarray | None = None,
        where: Filter | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(candidate passage ids, their scores, their best sentence's row) for one query; ``q`` and
        ``companion``: its vectors, when they are ready (see :meth:`companion_queries`); ``where``: the
        passages it may find (:mod:`jisr.answers.filters`)."""
        lexical = (
            beside().submit(self.index.lexical_candidates, query, CANDIDATES, where)
            if mode in ("lexical", "hybrid")
            else None
        )
        # a Latin query's names as the index spells them in Arabic, searched by BM25 beside it (hybrid only)
        spelled = names.arabic_names(query, self.index.vocabulary) if mode == "hybrid" and self.weights.names else []
        named = (
            beside().submit(self.index.lexical_candidates, " ".join(spelled), CANDIDATES, where) if spelled else None
        )
        try:
            q = self.encode_query(query) if q is None else np.asarray(q, np.float32)  # lexical mode still highlights
            candidates = self.index.dense_candidates(q, CANDIDATES, where)
        finally:  # BM25's own error, if it has one, is raised here; else the dense part's, once BM25 is done
            lexical_ids, lexical_scores, coverage = lexical.result() if lexical else (None, None, 0.0)
            named_ids, named_scores, _ = named.result() if named else (None, None, 0.0)
        for ids, found in ((lexical_ids, lexical_scores), (named_ids, named_scores)):
            if ids is not None:
                candidates = np.union1d(candidates, ids[found > 0])
        candidates = np.unique(np.asarray(candidates, dtype=np.int64))
        lexical_of = _scores_of(candidates, lexical_ids, lexical_scores)
        named_of = _scores_of(candidates, named_ids, named_scores) if named_ids is not None else None

        best_sentence = np.full(len(candidates), -1, dtype=np.int64)

        def sentence_cos() -> np.ndarray:
            rows, cos = self._best_sentences(candidates, q)
            best_sentence[:] = rows
            return cos

        def companion_cos() -> np.ndarray | None:
            if self.companion is None:
                return None
            c = self._companion_encoder.read(query)[0] if companion is None else np.asarray(companion, np.float32)
            return self.index.companion_vectors(candidates) @ c

        evidence = ranking.Evidence(
            query=query,
            arabic=language(query) == "ar",
            candidates=candidates,
            passage_cos=lambda: self.index.vectors(candidates) @ q,
            sentence_cos=sentence_cos,
            bm25=lexical_of,
            coverage=coverage,
            companion_cos=companion_cos,
            texts=lambda at: [p.text for p in self.index.passages(candidates[at])],
            weights=self.weights,
            names=named_of,
        )
        score = ranking.score(mode, evidence)
        evidence.once("sentence", sentence_cos)  # every mode highlights a passage's best sentence
        return candidates, score, best_sentence

    def _best_sentences(self, candidates: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate: the index (within the passage) of its sentence closest to ``q``, and that cosine."""
        best_row = np.full(len(candidates), -1, dtype=np.int64)
        best_cos = np.full(len(candidates), -1.0, dtype=np.float32)
        counts, vectors = self.index.sentence_vectors(candidates)
        has = counts > 0
        if not has.any():
            return best_row, best_cos
        counts = counts[has]
        bounds = np.cumsum(counts) - counts  # where each candidate's sentences begin in `cos`
        within = np.arange(counts.sum()) - np.repeat(bounds, counts)  # sentence index inside its passage
        cos = vectors @ q
        best = np.maximum.reduceat(cos, bounds)
        first_best = np.where(cos == np.repeat(best, counts), within, np.iinfo(np.int64).max)
        best_row[has], best_cos[has] = np.minimum.reduceat(first_best, bounds), best
        return best_row, best_cos

    def rank(
        self,
        query: str,
        mode: str,
        lang: str = "ar",
        vector: np.ndarray | None = None,
        companion: np.ndarray | None = None,
        where: Filter | None = None,
    ):
        """Candidates in ranked order: (passage ids, scores, best sentence rows). ``vector``, ``companion``,
        ``where``: see :meth:`scores`."""
        candidates, score, best_row = self.scores(query, mode, vector, companion, where)
        if lang != "any":
            keep = self.index.languages(candidates) == lang
            candidates, score, best_row = candidates[keep], score[keep], best_row[keep]
        order = np.argsort(-score, kind="stable")
        return candidates[order], score[order], best_row[order]

    def as_read(
        self, query: str, mode: str, lang: str = "ar", as_typed: bool = False, where: Filter | None = None
    ) -> tuple[typing.Reading | None, str, int, tuple[np.ndarray, np.ndarray, np.ndarray, list[str] | None]]:
        """How search ranks ``query``: (its reading, None when searched as typed; the text read; its token
        count; the ranked ids, scores, best rows and match levels, None without lines).

        A query meant as something else (:func:`jisr.answers.typing.reading`: Arabic on the wrong keyboard
        layout, English on the Arabic one) is searched as what was meant; one read as Arabizi is searched as
        its reading and as typed, merged (:mod:`jisr.answers.merging`), since Latin text that reads as
        Arabizi may be meant as it is. ``as_typed``: never read; a query with no reading is ranked once."""
        meant = None if as_typed else typing.reading(query, self.index.vocabulary)
        vector, read, tokens = self.read_query(query if meant is None else meant.searched_as)
        ids, scores, rows = self.rank(read, mode, lang, vector, where=where)
        found = merging.Ranking(ids, scores, rows, self.lines.get(mode, {}).get(match.group(read)))
        if meant is None or meant.how != "arabizi":
            return meant, read, tokens, (ids, scores, rows, found.levels())
        vector, typed, _ = self.read_query(query)
        as_typed_lines = self.lines.get(mode, {}).get(match.group(typed))
        beside = merging.Ranking(*self.rank(typed, mode, lang, vector, where=where), as_typed_lines)
        return meant, read, tokens, merging.merged(found, beside, CANDIDATES)

    def search(self, query: SearchRequest | str, **options) -> Answer:
        """The answer to a request (:class:`jisr.answers.request.SearchRequest`, or a query and the keyword
        arguments of :meth:`SearchRequest.of <jisr.answers.request.SearchRequest.of>`): the top k passages,
        from the request's page (:class:`jisr.answers.query.Paging`), only those its filter keeps, with its
        facets counted over the matches (:data:`jisr.answers.query.FACETS` and the index's declared fields).

        The answer and each hit say how well they match ("strong", "weak", "none": :mod:`jisr.answers.match`),
        and ``total`` counts the matches (results above the weak line: passages, or documents when grouped),
        None for both when the index's models were never calibrated. An Arabic word the index does not know,
        a slip from a term it holds often, puts the query with that term in ``suggest``
        (:mod:`jisr.answers.spelling`); when the query as typed matches nothing, that is searched instead."""
        started = time.perf_counter()
        request = SearchRequest.given(query, options)
        query, k, lang, mode, paging, facets = (
            request.query,
            request.k,
            request.lang,
            request.mode,
            request.paging,
            request.facets,
        )
        where = bind(request.filter, self.declared)
        unknown = [f for f in facets if f not in FACETS and f not in self.declared]
        if unknown:
            raise QueryError(
                f"facets: this index has no field {unknown[0]!r} to count by (fields: "
                f"{', '.join([*FACETS, *self.declared])})"
            )
        meant, read, tokens, (ids, scores, rows, levels) = self.as_read(query, mode, lang, request.as_typed, where)
        searched = query if meant is None else meant.searched_as
        # an Arabic word the index does not know, a slip away from one it holds often: "did you mean"
        hint = None if request.as_typed or meant is not None else spelling.suggestion(query, self.index.vocabulary)
        lines = self.lines.get(mode, {}).get(match.group(read))
        matched = len(ids) if levels is None else sum(level != "none" for level in levels)
        grouped = paging.group == "document"
        passages: dict[int, object] = {}

        def read_passages(positions) -> None:
            wanted = [i for i in positions if i not in passages]
            passages.update(zip(wanted, self.index.passages(ids[wanted])) if wanted else ())

        if grouped:  # the documents of the ranking, each with its best passages in order
            read_passages(range(min(len(ids), GROUPED)))
            page = _by_document([passages[i].doc_id for i in range(len(passages))], paging.per_document)
        else:
            page = [[i] for i in range(len(ids))]
        chosen = page[paging.offset : min(paging.offset + k, MAX_DEPTH)]
        read_passages([i for group in chosen for i in group])
        if facets:
            read_passages(range(matched))

        def level(i: int) -> str | None:
            return levels[i] if levels is not None else None

        def hit(i: int, rank: int | None = None, more: tuple[Hit, ...] | None = None) -> Hit:
            p, row = passages[i], rows[i]
            a, b = p.sentences[row] if row >= 0 else (0, len(p.text))
            return Hit(
                score=round(float(scores[i]), 6),
                match=level(i),
                title=p.title,
                source=p.source,
                doc_id=p.doc_id,
                ordinal=p.ordinal,
                start=p.start,
                end=p.end,
                lang=p.lang,
                locator=p.locator,
                fields={n: shown(self.declared.get(n, "keyword"), v) for n, v in p.fields.items()},
                text=p.text,
                highlight=Highlight(a, b, p.text[a:b]),
                marks=tuple(tuple(span) for span in matching_words(p.text, read)),
                rank=rank,
                more=more,
            )

        hits = tuple(
            hit(group[0], rank, tuple(hit(i) for i in group[1:]) if grouped else None)
            for rank, group in enumerate(chosen, start=paging.offset + 1)
        )
        end = paging.offset + len(chosen)
        # every ranked candidate above the line: passages past the candidates may be too, so "at least"
        exact = matched < len(ids) or len(ids) < CANDIDATES
        total = (
            None
            if lines is None
            else Total(sum(1 for group in page if group[0] < matched) if grouped else matched, "eq" if exact else "gte")
        )
        counted = _facets([passages[i] for i in range(matched)], facets, grouped, self.declared) if facets else None
        truncated = (
            None
            if read == searched
            else Truncated(read, f"the query has {tokens} tokens; only its first {self.query_tokens} were searched")
        )
        answer = Answer(
            query=query,
            model=self.model_name,
            mode=mode,
            lang=lang,
            k=k,
            query_tokens=tokens,
            match=level(0) if len(ids) else ("none" if lines else None),
            total=total,
            offset=paging.offset,
            next_offset=end if end < min(len(page), MAX_DEPTH) else None,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
            group=paging.group,
            per_document=paging.per_document,
            filter=json.loads(where.text) if where is not None else None,
            facets=counted,
            truncated=truncated,
            searched_as=None if meant is None else searched,
            typed=None if meant is None else query,
            suggest=hint,
        )
        if hint is not None and (not len(ids) or answer.match == "none"):
            # nothing matched the query as typed: its suggestion is searched, and the answer says so
            found = self.search(dataclasses.replace(request, query=hint, as_typed=True))
            answer = dataclasses.replace(
                found,
                query=query,
                searched_as=hint,
                typed=query,
                took_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        return answer


def _scores_of(candidates: np.ndarray, ids: np.ndarray | None, scores: np.ndarray | None) -> np.ndarray:
    """Each candidate's score among ``ids`` (sorted) and their ``scores``, 0 where it is not among them."""
    out = np.zeros(len(candidates), np.float32)
    if ids is not None and len(ids):
        at = np.searchsorted(ids, candidates)
        hit = (at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == candidates)
        out[hit] = scores[at[hit]]
    return out


def _facets(
    matches: list, fields: tuple[str, ...], by_document: bool, declared: dict[str, str]
) -> dict[str, tuple[FacetValue, ...]]:
    """{field: (value and count, ...)}: how many matches (documents, ``by_document``) have each value,
    the most first (ties by value), at most :data:`MAX_FACET_VALUES` per field."""
    out = {}
    for name in fields:
        counted: dict[str, set | int] = {}
        for p in matches:
            if name in declared:
                if name not in p.fields:
                    continue
                value = shown(declared[name], p.fields[name])
            else:
                value = collection(p.source) if name == "collection" else getattr(p, name)
            if by_document:
                counted.setdefault(value, set()).add(p.doc_id)
            else:
                counted[value] = counted.get(value, 0) + 1
        counts = {v: len(c) if by_document else c for v, c in counted.items()}
        top = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:MAX_FACET_VALUES]
        out[name] = tuple(FacetValue(v, c) for v, c in top)
    return out


def _by_document(doc_ids: list[str], per_document: int) -> list[list[int]]:
    """Positions in the ranking grouped by document, in the order of each document's best passage: that
    passage's and those of up to ``per_document`` more of its passages, in rank order."""
    groups: dict[str, list[int]] = {}
    for i, doc in enumerate(doc_ids):
        group = groups.setdefault(doc, [])
        if len(group) <= per_document:
            group.append(i)
    return list(groups.values())
