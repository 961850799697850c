"""The encoder's layers on ONNX Runtime: the same vectors as PyTorch, for the inputs it is chosen for."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from jisr.embeddings import load_model, onnx_encoder
from jisr.embeddings.windowed import WindowedTransformer
from tests.conftest import build_tiny_model

TEXTS = ["وجه الرئيس الروسي فلاديمير بوتين أمرا للبحرية", "Putin", "٢٠١٥ سوريا"]


@pytest.fixture()
def exported(tmp_path):
    path = build_tiny_model(tmp_path, max_seq_length=512, windowed=True)
    onnx_encoder.export(load_model(str(path))[0].auto_model, path)
    return path


def _runs(model, monkeypatch) -> list[tuple[int, int]]:
    """Every input shape that went through ONNX Runtime from here on."""
    shapes = []
    call = onnx_encoder.OnnxEncoder.__call__

    def spy(self, embeds, mask):
        shapes.append(tuple(mask.shape))
        return call(self, embeds, mask)

    monkeypatch.setattr(onnx_encoder.OnnxEncoder, "__call__", spy)
    return shapes


def test_short_inputs_run_on_onnx_runtime_with_the_vectors_of_pytorch(exported, monkeypatch):
    model = load_model(str(exported))
    model[0].runtime = "onnxruntime"  # "auto" would keep PyTorch's bfloat16 on a CPU that has it
    runs = _runs(model, monkeypatch)
    long = " ".join(TEXTS * 40)  # over SHORT tokens: PyTorch
    assert len(model.tokenizer(long)["input_ids"]) > onnx_encoder.SHORT
    fast = model.encode_document(TEXTS)
    assert runs == [(len(TEXTS), max(len(ids) for ids in model.tokenizer(TEXTS)["input_ids"]))]
    fast_long = model.encode_document([long])
    assert len(runs) == 1  # the long text (a batch padded past SHORT) stayed on PyTorch
    model[0].runtime = "torch"
    plain = model.encode_document(TEXTS)
    assert len(runs) == 1  # "torch" never reaches ONNX Runtime
    # float32 both, but not the same kernels: on an AVX-512 Xeon they differed by up to 2.7e-5 (1e-6 on AVX2)
    np.testing.assert_allclose(fast, plain, atol=1e-4)
    np.testing.assert_allclose(fast_long, model.encode_document([long]), atol=1e-6)


def test_each_thread_count_gets_its_own_session(exported):
    model = load_model(str(exported))
    model[0].runtime = "onnxruntime"
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = model.encode_query(TEXTS)
        torch.set_num_threads(2)
        two = model.encode_query(TEXTS)
    finally:
        torch.set_num_threads(threads)
    assert set(model[0].onnx._sessions) == {1, 2}
    np.testing.assert_allclose(one, two, atol=1e-5)


def test_the_runtime_is_saved_and_a_wrong_one_is_refused(exported, tmp_path):
    config = json.loads((exported / "sentence_bert_config.json").read_text())
    assert config["runtime"] == "auto"
    with pytest.raises(ValueError, match="runtime must be one of"):
        WindowedTransformer(str(exported), runtime="tensorrt")
    bare = build_tiny_model(tmp_path / "bare", windowed=True)  # no encoder.onnx in its folder
    with pytest.raises(ValueError, match="needs .*encoder.onnx"):
        WindowedTransformer(str(bare), runtime="onnxruntime")
    assert load_model(str(bare))[0].onnx is None  # "auto" without the file: PyTorch


def test_the_default_model_ships_its_encoder_for_onnx_runtime_with_the_same_vectors(default_model):
    from tests.test_default_model import fidelity_texts

    assert default_model[0].exported.is_file()
    queries, passages = fidelity_texts()
    runtime = default_model[0].runtime
    try:
        default_model[0].runtime = "onnxruntime"
        fast = default_model.encode_query(queries), default_model.encode_document(passages)
        default_model[0].runtime = "torch"
        plain = default_model.encode_query(queries), default_model.encode_document(passages)
    finally:
        default_model[0].runtime = runtime
    for a, b in zip(fast, plain):
        cos = (a * b).sum(1)
        assert cos.min() > 0.9999, cos.min()


def test_a_pytorch_that_cannot_export_leaves_the_model_on_pytorch(tmp_path, monkeypatch):
    path = build_tiny_model(tmp_path, windowed=True)

    def gone(*args, **kwargs):
        raise RuntimeError("the TorchScript exporter was removed")

    monkeypatch.setattr(torch.onnx, "export", gone)
    with pytest.warns(RuntimeWarning, match="runs on PyTorch"):
        assert onnx_encoder.export(load_model(str(path))[0].auto_model, path) is None
    assert not (path / onnx_encoder.FILE).exists()
    model = load_model(str(path))
    assert model[0].onnx is None and model.encode_query(TEXTS).shape == (3, 32)
