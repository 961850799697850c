"""The encoder's layers on ONNX Runtime: the fast float32 path for short inputs on CPUs without bfloat16.

On a CPU without bfloat16, a short input runs faster through ONNX Runtime (MIT, maintained by
Microsoft) than through PyTorch with the same float32 weights: PyTorch spends most of a short
input's time in per-operator dispatch, which ONNX Runtime's fused graph does not pay, and the two
give the same vectors but for float rounding (tests/test_onnx_encoder.py). ONNX Runtime stays ahead
up to windows of 128 tokens and falls behind on longer ones, where PyTorch's fused attention and
prepacked weights win; so it runs inputs of at most SHORT tokens: queries and most sentences
(benchmarks/results/decisions.md). On CPUs with bfloat16 in hardware, PyTorch's bfloat16 path stays
(it was not measured against this one).

The graph holds the encoder from its input embeddings on: the word-embedding lookup (250k x 384)
stays in PyTorch, a gather that costs nothing, so the file holds only the layers.
The window, pooling and normalization stay sentence-transformers modules: this replaces only
what runs inside the Transformer module. A session is made per intra-op thread count, so the
searcher's one-thread query encoder and a build's batches each get the count they ask torch for.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np
import torch

FILE = "encoder.onnx"
SHORT = 128  # tokens per text (padded), at most, for ONNX Runtime to run a batch


def available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


class _Layers(torch.nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, inputs_embeds, attention_mask):
        return self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state


def export(bert, folder: str | Path) -> Path | None:
    """Write ``bert``'s layers (input embeddings -> last hidden state) as ``folder/encoder.onnx``; None when
    this PyTorch cannot (its TorchScript exporter is deprecated): the model then runs on PyTorch alone."""
    import warnings

    from torch import nn

    from jisr.embeddings.precision import PrepackedLinear

    path = Path(folder) / FILE
    layers = _Layers(bert).eval()
    packed = [m for m in layers.modules() if type(m) is PrepackedLinear]
    for m in packed:  # the exporter knows nn.Linear, not oneDNN's prepacked op
        m.__class__ = nn.Linear
    try:
        embeds = torch.zeros(1, 8, bert.config.hidden_size)
        mask = torch.ones(1, 8, dtype=torch.int64)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on BERT's mask code, which a test checks instead
            torch.onnx.export(
                layers,
                (embeds, mask),
                str(path),
                input_names=["inputs_embeds", "attention_mask"],
                output_names=["last_hidden_state"],
                opset_version=17,
                dynamo=False,
                dynamic_axes={
                    "inputs_embeds": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "last_hidden_state": {0: "batch", 1: "tokens"},
                },
            )
    except Exception as exc:  # noqa: BLE001 - an exporter that is gone or fails: PyTorch alone, said once
        path.unlink(missing_ok=True)
        warnings.warn(
            f"the encoder could not be exported for ONNX Runtime ({type(exc).__name__}: {exc}); it runs on PyTorch",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    finally:
        for m in packed:
            m.__class__ = PrepackedLinear
    return path


class OnnxEncoder:
    """``encoder.onnx`` run with as many intra-op threads as torch is set to use where it is called."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()

    def _session(self, threads: int):
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                # idle threads sleep instead of spinning on cores another process may need
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._sessions[threads] = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
            return self._sessions[threads]

    def __call__(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        session = self._session(torch.get_num_threads())
        (hidden,) = session.run(
            None,
            {
                "inputs_embeds": inputs_embeds.detach().float().numpy(),
                "attention_mask": attention_mask.to(torch.int64).numpy(),
            },
        )
        return torch.from_numpy(np.asarray(hidden))
