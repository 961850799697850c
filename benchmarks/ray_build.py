"""`jisr build --ray` with local workers against the single-process build, in one run.

Both build the same corpus (XQuAD's Arabic paragraphs, one document each) with the default
model, as the CLI runs them, one after the other on a quiet machine. Printed and written to
benchmarks/results/ray_build.md: wall time, texts and tokens embedded per second (the tokens the
model reads: prompt and special tokens included), the ratio of each Ray run to the single
process, each run's fixed cost (a one-document build's time: the model load, and for Ray the
cluster's start and each worker's model load), the rate once that is paid, and how far the Ray build's vectors are from the local build's. Usage:
    python benchmarks/ray_build.py [--xquad ../shared/data/xquad] [--paragraphs 240] [--workers 2]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from contention import ROOT, cpu
from embeddings import load_model
from embeddings.batching import document_lengths
from search import store
from search.build import passage_input
from search.evaluate import xquad_corpus


def jisr_build(corpus: Path, index: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "search.cli", "build", "--corpus", str(corpus), "--index", str(index),
                    *extra], cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def texts_of(index: Path) -> dict[tuple[str, str], tuple[list[str], np.ndarray]]:
    """What the model read for each passage (the passage, then its sentences) and the stored vectors."""
    found = {}
    for seg in store.load(index).segments:
        for row, p in enumerate(seg.passages(np.arange(seg.size))):
            a, b = seg.sentence_offsets[row], seg.sentence_offsets[row + 1]
            vectors = np.vstack([seg.vectors[row:row + 1], seg.sentence_vectors[a:b]]).astype(np.float32)
            found[(p.doc_id, p.text)] = ([passage_input(p), *p.sentence_texts()], vectors)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--paragraphs", type=int, default=240)
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    print(f"CPU: {cpu()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full, one = work / "corpus", work / "one"
        full.mkdir()
        one.mkdir()
        xquad_corpus([str(Path(args.xquad) / "xquad.ar.json")], full)
        for path in sorted(full.iterdir())[args.paragraphs:]:
            path.unlink()
        first = sorted(full.iterdir())[0]
        (one / first.name).write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
        jisr_build(one, work / "warm")  # the default model is converted once, before anything is timed

        local_fixed = jisr_build(one, work / "local-one")
        local = jisr_build(full, work / "local")
        rows = texts_of(work / "local")
        texts = sorted({t for inputs, _ in rows.values() for t in inputs})
        tokens = sum(document_lengths(load_model(), texts))
        runs = [("single process (torch threads: all usable CPUs)", local, local_fixed, None)]
        for n in args.workers:
            ray = ["--ray", "--ray-workers", str(n)]
            fixed = jisr_build(one, work / f"ray-one-{n}", *ray)
            seconds = jisr_build(full, work / f"ray-{n}", *ray)
            other = texts_of(work / f"ray-{n}")
            gap = max(float(np.abs(other[key][1] - vectors).max()) for key, (_, vectors) in rows.items())
            runs.append((f"--ray, {n} local workers (1 thread each)", seconds, fixed, gap))

    lines = [f"# `jisr build --ray` against one process ({args.paragraphs} XQuAD Arabic paragraphs)", "",
             f"CPU: {cpu()}", "",
             f"{len(rows)} passages; {len(texts)} distinct texts embedded (passages and sentences), "
             f"{tokens:,} tokens. Quiet machine, one build after the other, the default model.", "",
             "| build | wall s | texts/s | tokens/s | vs one process | fixed cost s (1-document build) "
             "| tokens/s after the fixed cost | vs one process | max abs vector difference |",
             "|---|---|---|---|---|---|---|---|---|"]
    steady = tokens / (local - local_fixed)
    for name, seconds, fixed, gap in runs:
        rate = tokens / (seconds - fixed)
        lines.append(f"| {name} | {seconds:.1f} | {len(texts) / seconds:.1f} | {tokens / seconds:,.0f} | "
                     f"{local / seconds:.2f}x | {fixed:.1f} | {rate:,.0f} | {rate / steady:.2f}x | "
                     f"{'-' if gap is None else f'{gap:.1e}'} |")
    lines += ["", "Command: `python benchmarks/ray_build.py " + " ".join(sys.argv[1:]) + "`", ""]
    text = "\n".join(lines)
    print(text)
    (ROOT / "benchmarks" / "results" / "ray_build.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
