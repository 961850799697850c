"""`jisr build --ray` with local workers against the single-process build, in one run.

Both build the same corpus (XQuAD's Arabic paragraphs, one document each) with the default
model (or --model), as the CLI runs them, one after the other on a quiet machine. Printed and written to
benchmarks/results/ray_build.md: wall time, texts and tokens embedded per second (the tokens the
model reads: prompt and special tokens included), the ratio of each Ray run to the single
process, each run's fixed cost (a one-document build's time: the model load, and for Ray the
cluster's start and each worker's model load), the rate once that is paid, and how far the Ray
build's vectors are from the local build's. Usage:
    python -m benchmarks.ray_build [--xquad ../shared/data/xquad] [--paragraphs 240] [--workers 2] [--model PATH]
        [--no-fixed-cost] [--out FILE [--quick]]   # --quick: 4 paragraphs, 1 worker, no fixed-cost builds
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.contention import ROOT, cpu
from benchmarks.quick import RESULTS, model_argument, parse
from jisr.embeddings import load_model
from jisr.embeddings.batching import document_lengths
from jisr.evaluate import xquad_corpus
from jisr.index.local import store
from jisr.passages import passage_input


def jisr_build(corpus: Path, index: Path, model: str | None, *extra: str) -> float:
    """Seconds of `jisr build` of ``corpus`` into ``index`` with ``model`` (None: the default model)."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(index),
            *(["--model", model] if model else []),
            *extra,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started


def fixed_cost(args: argparse.Namespace, one: Path, index: Path, *extra: str) -> float | None:
    """Seconds of a one-document build (what a build costs before its first text), unless --no-fixed-cost."""
    return jisr_build(one, index, args.model, *extra) if args.fixed_cost else None


def texts_of(index: Path) -> dict[tuple[str, str], tuple[list[str], np.ndarray]]:
    """What the model read for each passage (the passage, then its sentences) and the stored vectors."""
    found = {}
    for seg in store.load(index).segments:
        for row, p in enumerate(seg.passages(np.arange(seg.size))):
            a, b = seg.sentence_offsets[row], seg.sentence_offsets[row + 1]
            vectors = np.vstack([seg.vectors[row : row + 1], seg.sentence_vectors[a:b]]).astype(np.float32)
            found[(p.doc_id, p.text)] = ([passage_input(p), *p.sentence_texts()], vectors)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--paragraphs", type=int, default=240)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument(
        "--fixed-cost",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time one-document builds too: each way's fixed cost (Ray's: a cluster start)",
    )
    model_argument(parser)
    args = parse(parser, RESULTS / "ray_build.md", paragraphs=4, workers=[1], fixed_cost=False)
    print(f"CPU: {cpu()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full, one = work / "corpus", work / "one"
        full.mkdir()
        one.mkdir()
        xquad_corpus([str(Path(args.xquad) / "xquad.ar.json")], full)
        for path in sorted(full.iterdir())[args.paragraphs :]:
            path.unlink()
        first = sorted(full.iterdir())[0]
        (one / first.name).write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
        if args.model is None:
            jisr_build(one, work / "warm", None)  # the default model is converted once, before anything is timed

        local_fixed = fixed_cost(args, one, work / "local-one")
        local = jisr_build(full, work / "local", args.model)
        rows = texts_of(work / "local")
        texts = sorted({t for inputs, _ in rows.values() for t in inputs})
        tokens = sum(document_lengths(load_model(args.model), texts))
        runs = [("single process (torch threads: all usable CPUs)", local, local_fixed, None)]
        for n in args.workers:
            ray = ["--ray", "--ray-workers", str(n)]
            fixed = fixed_cost(args, one, work / f"ray-one-{n}", *ray)
            seconds = jisr_build(full, work / f"ray-{n}", args.model, *ray)
            other = texts_of(work / f"ray-{n}")
            gap = max(float(np.abs(other[key][1] - vectors).max()) for key, (_, vectors) in rows.items())
            runs.append((f"--ray, {n} local workers (1 thread each)", seconds, fixed, gap))

    lines = [
        f"# `jisr build --ray` against one process ({args.paragraphs} XQuAD Arabic paragraphs)",
        "",
        f"CPU: {cpu()}",
        "",
        f"{len(rows)} passages; {len(texts)} distinct texts embedded (passages and sentences), "
        f"{tokens:,} tokens. Quiet machine, one build after the other, {args.model or 'the default model'}.",
        "",
        "| build | wall s | texts/s | tokens/s | vs one process | fixed cost s (1-document build) "
        "| tokens/s after the fixed cost | vs one process | max abs vector difference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, seconds, fixed, gap in runs:
        after = (
            "- | - | -"
            if fixed is None
            else (f"{fixed:.1f} | {tokens / (seconds - fixed):,.0f} | {(local - local_fixed) / (seconds - fixed):.2f}x")
        )
        lines.append(
            f"| {name} | {seconds:.1f} | {len(texts) / seconds:.1f} | {tokens / seconds:,.0f} | "
            f"{local / seconds:.2f}x | {after} | {'-' if gap is None else f'{gap:.1e}'} |"
        )
    lines += ["", "Command: `python -m benchmarks.ray_build " + " ".join(sys.argv[1:]) + "`", ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
