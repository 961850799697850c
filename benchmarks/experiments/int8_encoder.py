"""Would int8 weights make the encoder faster on a CPU without bfloat16, at what cost to its vectors?

ONNX Runtime's dynamic quantization (int8 weights, per channel; activations quantized on the fly)
of the exported encoder (embeddings/onnx_encoder.py), in two variants: every MatMul, and every
MatMul but the attention scores and the feed-forward down-projection (the layers whose inputs
have the widest range). Each is run on every input length, against the float32 path jisr ships
(PyTorch for long inputs, ONNX Runtime float32 for short ones), on XQuAD Arabic paragraphs:
tokens/s in alternating rounds, and the cosine of its paragraph and English question vectors to
float32's. The issue's bar for keeping a path: mean cosine >= 0.995. Each int8 variant is the default
model loaded from a folder that links to its files but for encoder.onnx, the quantized graph. Writes
benchmarks/results/int8_encoder.md. Usage:
    python -m benchmarks.experiments.int8_encoder [--xquad ../shared/data/xquad] [--paragraphs 96] [--questions 200]
        [--rounds 3] [--threads 2] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from benchmarks.contention import ROOT, cpu
from benchmarks.quick import RESULTS, parse
from jisr.embeddings import load_model, onnx_encoder
from jisr.embeddings.batching import document_lengths, encode_documents


def with_graph(model_folder: Path, graph: Path, folder: Path) -> SentenceTransformer:
    """The model of ``model_folder`` loaded from ``folder``, made of links to its files but for its encoder.onnx,
    which is ``graph``; run on ONNX Runtime."""
    folder.mkdir()
    for f in model_folder.iterdir():
        (folder / f.name).symlink_to(graph if f.name == onnx_encoder.FILE else f)
    model = load_model(str(folder))
    model[0].runtime = "onnxruntime"
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", default=str(ROOT.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--paragraphs", type=int, default=96)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the paths")
    parser.add_argument("--threads", type=int, default=2)
    args = parse(parser, RESULTS / "int8_encoder.md", paragraphs=4, questions=8, rounds=1)
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    torch.set_num_threads(args.threads)
    model = load_model()
    model[0].compute_dtype = "float32"  # the path of a CPU without bfloat16, whatever this one has
    exported = model[0].exported
    data = json.loads((Path(args.xquad) / "xquad.ar.json").read_text(encoding="utf-8"))
    paragraphs = [f"{a['title']}\n{p['context']}" for a in data["data"] for p in a["paragraphs"]][: args.paragraphs]
    english = json.loads((Path(args.xquad) / "xquad.en.json").read_text(encoding="utf-8"))
    questions = [qa["question"] for a in english["data"] for p in a["paragraphs"] for qa in p["qas"]][: args.questions]
    tokens = sum(document_lengths(model, paragraphs))
    names = [n.name for n in onnx.load(str(exported)).graph.node if n.op_type == "MatMul"]
    keep_float = [
        n
        for n in names
        if n.endswith(("self/MatMul", "self/MatMul_1")) or (n.endswith("/output/dense/MatMul") and "attention" not in n)
    ]
    shipped_short = onnx_encoder.SHORT

    with tempfile.TemporaryDirectory() as tmp:
        variants = {"float32 (shipped)": model}
        for label, exclude in (
            ("int8, every MatMul", []),
            ("int8, attention scores and FFN down-projection in float32", keep_float),
        ):
            graph = Path(tmp) / f"{len(variants)}.onnx"
            quantize_dynamic(exported, graph, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=exclude)
            variants[label] = with_graph(exported.parent, graph, Path(tmp) / f"model-{len(variants)}")
        vectors, rates = {}, {label: [] for label in variants}
        for _ in range(args.rounds):
            for label, encoder in variants.items():
                # the int8 graph for every input length: a module constant, no model takes it as a parameter
                onnx_encoder.SHORT = shipped_short if encoder is model else 10**6
                started = time.perf_counter()
                documents = encode_documents(encoder, paragraphs)
                rates[label].append(tokens / (time.perf_counter() - started))
                vectors[label] = (documents, encoder.encode_query(questions, batch_size=32))
        onnx_encoder.SHORT = shipped_short
    base = vectors["float32 (shipped)"]
    lines = [
        "# int8 encoder weights (ONNX Runtime dynamic quantization) against float32",
        "",
        f"CPU: {cpu()}; {args.threads} threads",
        "",
        f"{len(paragraphs)} XQuAD Arabic paragraphs ({tokens:,} tokens), {args.rounds} alternating rounds; cosine "
        f"to float32 over those paragraphs and {len(questions)} English questions.",
        "",
        "| path | tokens/s (median) | vs float32 | paragraph cosine mean / min | question cosine mean / min |",
        "|---|---|---|---|---|",
    ]
    for label in variants:
        rate = float(np.median(rates[label]))
        cos = [(a * b).sum(1) for a, b in zip(vectors[label], base)]
        lines.append(
            f"| {label} | {rate:,.0f} | {rate / np.median(rates['float32 (shipped)']):.2f}x | "
            f"{cos[0].mean():.4f} / {cos[0].min():.4f} | {cos[1].mean():.4f} / {cos[1].min():.4f} |"
        )
    lines += ["", "Command: `python -m benchmarks.experiments.int8_encoder`", ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
