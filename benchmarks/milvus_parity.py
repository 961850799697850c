"""The Milvus store against the local store on XQuAD, with the default model, in one run.

Both stores index the XQuAD corpus (the Arabic paragraphs, one document each): the local one in
segments, the other in Milvus Lite (embedded, in the index folder). Every question of the chosen
half is asked of both in the chosen modes with the same query vector. Printed and written to
benchmarks/results/milvus_parity.md: MRR@10 per store, mode and query language, the share of
queries whose top 10 is the same (order and passages), the largest score difference, build
times, and each store's time per query (the encoder excluded: it is the same for both). Usage:
    python -m benchmarks.milvus_parity [--xquad ../shared/data/xquad] [--split test] [--modes hybrid ...] [--every N]
        [--copies N] [--model PATH] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import labeled
from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, model_argument, parse
from jisr import BuildOptions, Index, build
from jisr.embeddings import load_model
from jisr.evaluate import K, first_hit
from jisr.index.contract import MilvusTarget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    labeled.set_arguments(parser, hadith=False)
    parser.add_argument("--split", default="test", choices=["tune", "test", "all"])
    parser.add_argument("--modes", nargs="+", default=["hybrid"])
    parser.add_argument("--every", type=int, default=1, help="ask every Nth question only")
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="index the corpus this many times (other file names): how cost grows with size",
    )
    model_argument(parser)
    args = parse(parser, RESULTS / "milvus_parity.md", **labeled.QUICK)
    model = load_model(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        queries = labeled.write_set("xquad", corpus, args)
        queries = [q for q in queries if args.split == "all" or q.split == args.split][:: args.every]
        for copy in range(1, args.copies):
            for f in sorted(corpus.glob("a*.txt")):
                (corpus / f"copy{copy}-{f.name}").write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
        built = {}
        for name, target in (("local", None), ("milvus", MilvusTarget())):
            started = time.perf_counter()
            # Milvus holds no companion
            build(corpus, work / name, model, BuildOptions(milvus=target, companion="none"))
            built[name] = time.perf_counter() - started
        searchers = {name: Index.open(work / name, model).searcher for name in built}
        vectors = searchers["local"].encode_queries([q.text for q in queries])
        rows = []
        for mode in args.modes:
            ranks = {name: {"ar": [], "en": []} for name in searchers}
            seconds = dict.fromkeys(searchers, 0.0)
            same, worst = 0, 0.0
            for q, v in zip(queries, vectors):
                answers = {}
                for name, s in searchers.items():
                    started = time.perf_counter()
                    ids, scores, _ = s.rank(q.text, mode, lang="any", vector=v)
                    passages = s.index.passages(ids[: K * 4])
                    seconds[name] += time.perf_counter() - started
                    answers[name] = ([(p.doc_id, p.ordinal) for p in passages[:K]], scores[:K])
                    ranks[name][q.lang].append(first_hit([p.doc_id for p in passages], q.relevant, False))
                (a, sa), (b, sb) = answers["local"], answers["milvus"]
                same += a == b
                if a == b and len(sa):
                    worst = max(worst, float(np.abs(sa - sb).max()))
            for lang in ("en", "ar"):
                mrr = {n: sum(1 / r for r in ranks[n][lang] if r) / max(len(ranks[n][lang]), 1) for n in searchers}
                rows.append((mode, lang, len(ranks["local"][lang]), mrr["local"], mrr["milvus"]))
            rows.append((mode, "same top 10", same, len(queries), worst))
            rows.append((mode, "ms per query", *(1000 * seconds[n] / len(queries) for n in ("local", "milvus"))))
    lines = [
        f"# Milvus store vs local store: XQuAD {args.split} half"
        f"{f', every {args.every}th question' if args.every > 1 else ''}"
        f"{f', corpus x{args.copies}' if args.copies > 1 else ''}, {args.model or 'default model'}",
        "",
        f"CPU: {cpu()}",
        f"Passages: {searchers['local'].size} in each store. "
        f"Build: local {built['local']:.1f} s, Milvus Lite {built['milvus']:.1f} s.",
        "",
        "| mode | query language | queries | MRR@10 local | MRR@10 Milvus |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        if row[1] in ("en", "ar"):
            lines.append(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]:.4f} | {row[4]:.4f} |")
    lines.append("")
    for row in rows:
        if row[1] == "same top 10":
            lines.append(
                f"- {row[0]}: same top 10 for {row[2]} of {row[3]} queries; largest score difference "
                f"among them {row[4]:.1e}"
            )
        elif row[1] == "ms per query":
            lines.append(
                f"- {row[0]}: ranking and reading the passages, encoder excluded: local {row[2]:.1f} ms, "
                f"Milvus Lite {row[3]:.1f} ms per query"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
