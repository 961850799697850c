"""Chunking time of one huge line, with spaces and without, at growing sizes: is it linear?

A .txt that is one 5 MB line (an export with no line breaks, an OCR dump) used to stop `jisr build`
for more than 10 minutes in chunking alone. This times `chunk()` with the default model's real token
counter on lines of 0.5 to 5 MB and prints seconds, seconds per MB, and the ratio of each size's
seconds per MB to the smallest's (1.0 everywhere means linear). Writes benchmarks/results/long_line.md. Usage:
    python -m benchmarks.long_line [--sizes 0.5 1 2 5] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, parse
from jisr.corpus.files import Document
from jisr.embeddings import load_model
from jisr.index.build import token_counter
from jisr.passages import chunk

LINES = {
    "words": lambda n: " ".join(f"كلمة{i % 997}" for i in range(n // 6))[:n],
    "no spaces": lambda n: ("بوتينيأمربالتنسيق" * (n // 17 + 1))[:n],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes", type=float, nargs="+", default=[0.5, 1, 2, 5], help="line lengths in MB (millions of characters)"
    )
    args = parse(ap, RESULTS / "long_line.md", sizes=[0.02, 0.04])
    count = token_counter(load_model())
    rows = []
    for kind, make in LINES.items():
        first = None
        for mb in args.sizes:
            text = "عنوان\n" + make(int(mb * 1_000_000))
            started = time.perf_counter()
            passages = chunk(Document("x.txt", "x.txt", "عنوان", text, "-"), count)
            seconds = time.perf_counter() - started
            first = first or seconds / mb
            rows.append(
                f"| {kind} | {mb:g} | {len(passages)} | {seconds:.1f} | "
                f"{seconds / mb:.2f} | {seconds / mb / first:.2f} |"
            )
            print(rows[-1], flush=True)
    lines = [
        "# Chunking one huge line",
        "",
        f"CPU: {cpu()}",
        "",
        f"`python -m benchmarks.long_line --sizes "
        f"{' '.join(f'{s:g}' for s in args.sizes)}`, the default model's token counter.",
        "",
        "| line | MB | passages | seconds | s per MB | s per MB / smallest's |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
