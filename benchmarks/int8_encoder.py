"""Would int8 weights make the encoder faster on a CPU without bfloat16, at what cost to its vectors?

ONNX Runtime's dynamic quantization (int8 weights, per channel; activations quantized on the fly)
of the exported encoder (embeddings/onnx_encoder.py), in two variants: every MatMul, and every
MatMul but the attention scores and the feed-forward down-projection (the layers whose inputs
have the widest range). Each is run on every input length, against the float32 path jisr ships
(PyTorch for long inputs, ONNX Runtime float32 for short ones), on XQuAD Arabic paragraphs:
tokens/s in alternating rounds, and the cosine of its paragraph and English question vectors to
float32's. The issue's bar for keeping a path: mean cosine >= 0.995. Writes
benchmarks/results/int8_encoder.md. Usage:
    python benchmarks/int8_encoder.py [--xquad ../shared/data/xquad] [--paragraphs 96] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from contention import ROOT, cpu
from embeddings import load_model, onnx_encoder
from embeddings.batching import document_lengths, encode_documents

ROUNDS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--paragraphs", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    torch.set_num_threads(args.threads)
    model = load_model()
    module = model[0]
    exported = str(module.exported)
    data = json.loads((Path(args.xquad) / "xquad.ar.json").read_text(encoding="utf-8"))
    paragraphs = [f"{a['title']}\n{p['context']}" for a in data["data"] for p in a["paragraphs"]][:args.paragraphs]
    english = json.loads((Path(args.xquad) / "xquad.en.json").read_text(encoding="utf-8"))
    questions = [qa["question"] for a in english["data"] for p in a["paragraphs"] for qa in p["qas"]][:200]
    tokens = sum(document_lengths(model, paragraphs))
    names = [n.name for n in onnx.load(exported).graph.node if n.op_type == "MatMul"]
    keep_float = [n for n in names if n.endswith(("self/MatMul", "self/MatMul_1"))
                  or (n.endswith("/output/dense/MatMul") and "attention" not in n)]
    shipped_short = onnx_encoder.SHORT

    def use(path: str | None) -> None:
        """None: the shipped float32 path; else this graph for every input length."""
        module.__dict__.pop("_onnx", None)
        module.runtime, onnx_encoder.SHORT = ("auto", shipped_short) if path is None else ("onnxruntime", 10**6)
        if path is not None:
            module.__dict__["_onnx"] = onnx_encoder.OnnxEncoder(path)

    with tempfile.TemporaryDirectory() as tmp:
        variants = {"float32 (shipped)": None}
        for label, exclude in (("int8, every MatMul", []),
                               ("int8, attention scores and FFN down-projection in float32", keep_float)):
            path = str(Path(tmp) / f"{len(variants)}.onnx")
            quantize_dynamic(exported, path, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=exclude)
            variants[label] = path
        vectors, rates = {}, {label: [] for label in variants}
        for _ in range(ROUNDS):
            for label, path in variants.items():
                use(path)
                started = time.perf_counter()
                documents = encode_documents(model, paragraphs)
                rates[label].append(tokens / (time.perf_counter() - started))
                vectors[label] = (documents, model.encode_query(questions, batch_size=32))
        use(None)
    base = vectors["float32 (shipped)"]
    lines = ["# int8 encoder weights (ONNX Runtime dynamic quantization) against float32", "",
             f"CPU: {cpu()}; {args.threads} threads", "",
             f"{len(paragraphs)} XQuAD Arabic paragraphs ({tokens:,} tokens), {ROUNDS} alternating rounds; cosine "
             f"to float32 over those paragraphs and {len(questions)} English questions.", "",
             "| path | tokens/s (median) | vs float32 | paragraph cosine mean / min | question cosine mean / min |",
             "|---|---|---|---|---|"]
    for label in variants:
        rate = float(np.median(rates[label]))
        cos = [(a * b).sum(1) for a, b in zip(vectors[label], base)]
        lines.append(f"| {label} | {rate:,.0f} | {rate / np.median(rates['float32 (shipped)']):.2f}x | "
                     f"{cos[0].mean():.4f} / {cos[0].min():.4f} | {cos[1].mean():.4f} / {cos[1].min():.4f} |")
    lines += ["", "Command: `python benchmarks/int8_encoder.py`", ""]
    text = "\n".join(lines)
    print(text)
    (ROOT / "benchmarks" / "results" / "int8_encoder.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
