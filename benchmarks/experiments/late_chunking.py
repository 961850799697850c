"""Measure one lever of issue 9: sentence vectors pooled from the passage's own token embeddings.

jisr embeds every sentence again on its own, about doubling a build's encoder work. "Late chunking"
instead mean-pools, for each sentence, the passage's token embeddings over that sentence's tokens,
so one encoder pass gives the passage and all its sentences. This measures whether the rankings
that use sentence vectors (sentence, hybrid) hold when the index's sentence vectors are replaced
by late-chunked ones, on both labeled sets' halves (a passage longer than one window keeps its
stored sentence vectors; their number is printed). The late-chunked index is built by `build` itself,
given those vectors through its ``encoder``. Usage:
    pip install 'jisr[eval]'
    python -m benchmarks.experiments.late_chunking [--xquad ../shared/data/xquad] [--work DIR] [--model PATH]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from benchmarks import labeled
from benchmarks.contention import cpu
from benchmarks.quick import RESULTS
from jisr import build
from jisr.answers.searcher import Searcher
from jisr.embeddings import load_model
from jisr.passages import passage_input


def late_chunked(model, index) -> tuple[list[np.ndarray], int]:
    """Per passage, its sentences' vectors pooled from its token embeddings; and how many passages kept
    their stored vectors (longer than one window)."""
    prompt = model.prompts.get("document", "")
    passages = index.passages(np.arange(index.size))
    counts, stored = index.sentence_vectors(np.arange(index.size))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    out, kept = [], 0
    for i, p in enumerate(passages):
        tokens = model.encode_document([p.text], output_value="token_embeddings")[0].float().numpy()
        offsets = model.tokenizer(prompt + p.text, return_offsets_mapping=True)["offset_mapping"]
        own = stored[bounds[i] : bounds[i + 1]]
        if len(offsets) != len(tokens) or len(p.sentences) != len(own):
            out.append(own)
            kept += 1
            continue
        starts, ends = (np.array([o[j] for o in offsets]) - len(prompt) for j in (0, 1))
        vectors = []
        for (a, b), fallback in zip(p.sentences, own):
            inside = (starts >= a) & (ends <= b) & (ends > starts)
            v = tokens[inside].mean(0) if inside.any() else fallback
            vectors.append(v / np.linalg.norm(v))
        out.append(np.asarray(vectors, np.float32).reshape(len(own), -1))
    return out, kept


def late_searcher(model, searcher: Searcher, late: list[np.ndarray]) -> Searcher:
    """The set's corpus built again beside its index by `build` as shipped, with a stand-in encoder that gives
    each sentence its late-chunked vector and each passage its stored one; that index searched."""
    ids = np.arange(searcher.index.size)
    passages = searcher.index.passages(ids)
    known = dict(zip((passage_input(p) for p in passages), searcher.index.vectors(ids)))
    for p, vectors in zip(passages, late):  # a sentence text that recurs keeps one vector, as in any build
        known.update(zip(p.sentence_texts(), vectors))
    corpus = labeled.corpus_of(searcher)
    index = corpus.with_name("index-late")
    shutil.rmtree(index, ignore_errors=True)  # built afresh: an index --work kept would reuse its vectors
    build(corpus, index, model, encoder=lambda texts: np.stack([known[t] for t in texts]))
    return Searcher.open(index, model)


def main() -> None:
    args = labeled.arguments(__doc__, RESULTS / "late_chunking.md")
    print(f"CPU: {cpu()}", flush=True)
    model = load_model(args.model)
    rows: dict[str, dict] = {}
    with labeled.encoded_sets(args, model) as sets:
        for name, (searcher, queries, vectors) in sets.items():
            late, kept = late_chunked(model, searcher.index)
            print(f"{name}: {len(late)} passages, {kept} kept their stored sentence vectors", flush=True)
            for label, ranker in (
                ("sentences embedded alone (shipped)", searcher),
                ("late-chunked sentences", late_searcher(model, searcher, late)),
            ):
                for mode in ("sentence", "hybrid"):
                    rows.setdefault(f"{mode}, {label}", {}).update(
                        {(name, *k): v for k, v in labeled.mrr(ranker, queries, vectors, mode).items()}
                    )
    lines = [
        "# Late-chunked sentence vectors against sentences embedded alone",
        "",
        "Written by `python -m benchmarks.experiments.late_chunking`; do not edit by hand. MRR@10.",
        "",
        f"CPU: {cpu()}",
        "",
        *labeled.header("ranking"),
    ]
    for label in sorted(rows):
        lines.append(f"| {label} | {labeled.cells(rows[label])} |")
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
