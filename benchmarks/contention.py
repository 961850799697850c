"""What the benchmarks share about the machine: its CPU flags, and a CPU-bound neighbour to measure beside.

A search server often shares its cores (a rebuild of the index, another service, a CI job), so the
speed benchmarks measure each figure twice, quiet and beside ``busy()``: a process that encodes XQuAD
paragraphs in a loop with torch's default threads, which is what `jisr build` does.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTENDER = """
import json, sys
from jisr.embeddings import load_model
from jisr.embeddings.batching import encode_documents
ar = json.load(open(sys.argv[1], encoding="utf-8"))
texts = [p["context"] for a in ar["data"] for p in a["paragraphs"]][:60]
model = load_model()
print("ready", flush=True)
while True:
    encode_documents(model, texts)
"""
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni", "avx_vnni")
STATES = ("quiet", "contended")


def cpu() -> str:
    """The CPU's model name and the flags that decide the encoder's path."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    return f"{name}; flags: " + ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in FLAGS)


def latencies_ms(call: Callable[[str], object], queries: list[str], warm: int = 5) -> list[float]:
    """Milliseconds of ``call(q)`` for each of ``queries``, sorted, after ``warm`` untimed calls (caches, threads)."""
    for q in queries[:warm]:
        call(q)
    times = []
    for q in queries:
        started = time.perf_counter()
        call(q)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def p50_ms(call: Callable[[str], object], queries: list[str]) -> float:
    return statistics.median(latencies_ms(call, queries))


@contextmanager
def busy(xquad: str | Path, settle: float = 3.0) -> Iterator[None]:
    """A CPU-bound encoder loop running beside the block; stopped after it."""
    contender = subprocess.Popen(
        [sys.executable, "-c", CONTENDER, str(Path(xquad) / "xquad.ar.json")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        contender.stdout.readline()  # "ready": its model is loaded and it is encoding now
        time.sleep(settle)
        yield
    finally:
        contender.kill()
        contender.wait()
        time.sleep(2)


@contextmanager
def state(name: str, xquad: str | Path) -> Iterator[None]:
    """``busy`` for "contended", nothing for "quiet"."""
    if name == "contended":
        with busy(xquad):
            yield
    else:
        yield
