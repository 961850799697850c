"""Where a batch's encoder time goes, and what that allows the batch target of issue 10.

The target compares paragraph tokens/s with the "fp32 matmul limit": the machine's best GEMM rate
divided by the FLOPs of the model's weight matrices per token. That limit leaves out attention
(its score and value products grow with the sequence), GELU, LayerNorm and the residual adds.
This profiles the default model on token-budget batches of XQuAD Arabic paragraphs, as `jisr build`
forms them, with torch.profiler, and prints per kind of operator its share of the time and, for the
Linear layers, their GFLOP/s against the GEMM rate measured in the same run. If the Linear layers
already run at that rate, the share of time the rest takes bounds the ratio any Linear-side work
can reach. Writes benchmarks/results/encoder_profile.md. Usage:
    python -m benchmarks.experiments.encoder_profile [--xquad ../shared/data/xquad] [--texts 96] [--gemm-seconds 3]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from benchmarks.contention import ROOT, cpu
from benchmarks.encode_speed import QUICK, flops_per_token, gemm_argument, matmul_gflops
from benchmarks.quick import RESULTS, parse
from jisr.embeddings import load_model
from jisr.embeddings.batching import document_lengths, encode_documents

KINDS = {
    "linear": ("linear", "addmm", "mm"),
    "attention": ("scaled_dot_product", "bmm", "softmax"),
    "gelu": ("gelu",),
    "layer norm": ("layer_norm",),
}


def kind(op: str) -> str:
    return next((k for k, names in KINDS.items() if any(n in op for n in names)), "other")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--texts", type=int, default=96)
    gemm_argument(parser)
    args = parse(parser, RESULTS / "encoder_profile.md", texts=QUICK["texts"], gemm_seconds=QUICK["gemm_seconds"])
    model = load_model()
    model[0].runtime = "torch"  # ONNX Runtime (batches of at most 128 tokens) is invisible to torch's profiler
    ar = json.loads((Path(args.xquad) / "xquad.ar.json").read_text(encoding="utf-8"))
    texts = [p["context"] for a in ar["data"] for p in a["paragraphs"]][: args.texts]
    tokens = sum(document_lengths(model, texts))
    encode_documents(model, texts[:8])
    gflops = matmul_gflops(args.gemm_seconds)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        encode_documents(model, texts)
    by_kind: dict[str, float] = {}
    for event in prof.key_averages():
        by_kind[kind(event.key)] = by_kind.get(kind(event.key), 0.0) + event.self_cpu_time_total / 1e6
    total = sum(by_kind.values())
    linear_flops = flops_per_token(model) * tokens
    at_limit = linear_flops / (gflops * 1e9)
    lines = [
        "# Where the encoder's batch time goes",
        "",
        "Written by `python -m benchmarks.experiments.encoder_profile`; do not edit by hand.",
        "",
        f"CPU: {cpu()}; torch {torch.__version__}, {torch.get_num_threads()} threads.",
        f"{len(texts)} XQuAD Arabic paragraphs, {tokens:,} tokens, token-budget batches as `jisr build` makes "
        f"them, all on PyTorch (the profiler cannot see ONNX Runtime); profiler self time.",
        "",
        "| operators | seconds | share |",
        "|---|---|---|",
    ]
    for name, seconds in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {seconds:.2f} | {seconds / total:.1%} |")
    lines += [
        "",
        f"- GEMM rate measured in this run: {gflops:.1f} GFLOP/s; the Linear layers ran at "
        f"{linear_flops / by_kind.get('linear', float('nan')) / 1e9:.1f} GFLOP/s.",
        f"- Tokens/s against the fp32 matmul limit, in this profile: {at_limit / total:.2f} "
        f"(profiling adds a little time).",
        f"- Even with the Linear layers at the GEMM rate and nothing else changed, the ratio would be "
        f"{at_limit / (at_limit + total - by_kind.get('linear', 0.0)):.2f}.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
