"""What storing vectors quantized (a scale per row) costs in ranking, against float32, on both labeled sets.

The two labeled indexes (XQuAD, hadith; the default model with its companion, as `jisr build` builds
them) are built, or brought up to date, under --work with float32 vectors, as builds stored them before
quantization. Each is copied, and the copy's passage, sentence and companion vectors are quantized exactly
as a build writes them (``jisr.index.local.vectors.encoded`` of the float32 the model gave, from the
center of a build's first batch: passage, sentence and companion vectors as a build's default
``jisr.index.options.VectorPrecision`` says, or as --passages, --sentences, --companion say). Both are
then asked every question with the same query vectors: held-out and tune MRR@10 per mode, and how many
of the float32 index's top 10 the int8 index also returns (recall@10 against exact float32 search), and
the disk of each. Usage:
    python -m benchmarks.experiments.compressed_vectors [--work /tmp/calib]
        [--passages|--sentences|--companion int4|int6|int8]
        [--out benchmarks/results/compressed_vectors.md]
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from benchmarks import labeled
from benchmarks.contention import cpu
from benchmarks.quick import RESULTS
from jisr.answers.searcher import Searcher
from jisr.embeddings import load_model
from jisr.evaluate import K
from jisr.index.local import segment as segments
from jisr.index.local import store
from jisr.index.local import vectors as stored
from jisr.index.options import BATCH_PASSAGES, FLOAT32, VectorPrecision

MODES = ("dense", "sentence", "hybrid")
NAMES = ("vectors.bin", "sentences.bin", segments.COMPANION)


def float32_index(folder: Path) -> None:
    """Refuse an index whose segments are not float32: the comparison needs the model's own vectors."""
    for seg in store.load(folder).segments:
        if seg.meta["vector_dtype"] != "float32":
            raise SystemExit(
                f"{folder} holds {seg.meta['vector_dtype']} segments; give a --work where the "
                "labeled indexes were built with float32 vectors, or an empty one"
            )


def quantized_copy(source: Path, target: Path, kinds: dict[str, str]) -> None:
    """``source`` copied to ``target`` with every segment's vectors stored as ``kinds`` (by file) say."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    for meta_file in (target / "segments").glob(f"*/{segments.META}"):
        folder, meta = meta_file.parent, json.loads(meta_file.read_text(encoding="utf-8"))
        first = np.load(folder / "sentence_offsets.npy")[: BATCH_PASSAGES + 1]  # a build's first batch
        for name in NAMES:
            if name not in meta["files"]:
                continue
            dim = meta["companion"]["dimension"] if name == segments.COMPANION else meta["dimension"]
            values = np.fromfile(folder / name, np.float32).reshape(-1, dim)
            center = values[: first[-1] if name == "sentences.bin" else BATCH_PASSAGES].mean(axis=0).astype(np.float32)
            np.save(folder / stored.center_file(name), center)
            written = {stored.center_file(name): (folder / stored.center_file(name)).read_bytes()}
            written.update(zip(stored.files(name, kinds[name]), stored.encoded(values, kinds[name], center)))
            for file, data in written.items():
                (folder / file).write_bytes(data)
                meta["files"][file] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        meta.update(
            vector_dtype=kinds["vectors.bin"],
            sentence_dtype=kinds["sentences.bin"],
            companion_dtype=kinds[segments.COMPANION],
        )
        meta_file.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def kind_arguments(parser) -> None:
    built = VectorPrecision()
    for name, default in (("passages", built.passages), ("sentences", built.sentences), ("companion", built.companion)):
        parser.add_argument(
            f"--{name}",
            choices=sorted(stored.LEVELS),
            default=default,
            help=f"how {name} vectors are stored (default: as a build stores them, {default})",
        )


def disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def ranked(searcher: Searcher, queries, vectors: np.ndarray, companion: list, mode: str) -> list[np.ndarray]:
    return [
        searcher.rank(q.text, mode, lang="any", vector=v, companion=c)[0][:K]
        for q, v, c in zip(queries, vectors, companion)
    ]


def main() -> None:
    args = labeled.arguments(__doc__, RESULTS / "compressed_vectors.md", kind_arguments)
    kinds = {"vectors.bin": args.passages, "sentences.bin": args.sentences, segments.COMPANION: args.companion}
    print(f"CPU: {cpu()}", flush=True)
    model = load_model(args.model)
    # the reference: as builds stored vectors before quantizing
    with labeled.encoded_sets(args, model, precision=FLOAT32) as sets:
        rows, sizes = [], []
        for name, (searcher, queries, vectors) in sets.items():
            folder = Path(searcher.index.directory)
            float32_index(folder)
            copy = folder.with_name(folder.name + "-quantized")
            quantized_copy(folder, copy, kinds)
            compressed = Searcher.open(copy, model)
            sizes.append((name, disk(folder), disk(copy)))
            companion = searcher.companion_queries([q.text for q in queries])
            for mode in MODES:
                exact, approx = (ranked(s, queries, vectors, companion, mode) for s in (searcher, compressed))
                for q, e, a in zip(queries, exact, approx):
                    rows.append(
                        (
                            name,
                            mode,
                            q.lang,
                            q.split,
                            labeled.reciprocal_rank(searcher, q, e),
                            labeled.reciprocal_rank(compressed, q, a),
                            len(set(e.tolist()) & set(a.tolist())) / max(len(e), 1),
                        )
                    )
                    print(f"{name} {mode}: {len(queries)} questions", flush=True)
    named = f"{args.passages} passage, {args.sentences} sentence and {args.companion} companion vectors"
    report = [
        f"# {named} against float32, on the labeled sets",
        "",
        f"Written by `python -m benchmarks.experiments.compressed_vectors --passages {args.passages} --sentences "
        f"{args.sentences} --companion {args.companion}`; do not edit by "
        f"hand. The same index stored with float32 vectors and with {named} (a scale per row), asked the same "
        "questions with the same query vectors. recall@10: the share of the float32 index's top 10 that the "
        "quantized index also returns.",
        "",
        f"CPU: {cpu()}",
        "",
        "| set | mode | query | half | questions | MRR@10 float32 | MRR@10 quantized | difference | recall@10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    groups = sorted({r[:4] for r in rows}, key=lambda g: (g[0], MODES.index(g[1]), g[2], g[3] != "tune"))
    for group in groups:
        picked = np.array([r[4:] for r in rows if r[:4] == group])
        a, b, recall = picked.mean(axis=0)
        if group[3] == "test":
            worst = max(worst, abs(b - a))
        report.append(
            f"| {group[0]} | {group[1]} | {group[2]} | {'tune' if group[3] == 'tune' else 'held-out'} | "
            f"{len(picked)} | {a:.4f} | {b:.4f} | {b - a:+.4f} | {recall:.4f} |"
        )
    report += [
        "",
        f"Largest held-out MRR@10 difference: {worst:.4f} (target <= 0.003); lowest recall@10: "
        f"{min(np.mean([r[6] for r in rows if r[:4] == g]) for g in groups):.4f} (target >= 0.95).",
        "",
        "| set | index on disk, float32 (MB) | quantized (MB) | ratio |",
        "|---|---|---|---|",
        *(f"| {n} | {a / 1e6:.1f} | {b / 1e6:.1f} | {b / a:.2f} |" for n, a, b in sizes),
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))


if __name__ == "__main__":
    main()
