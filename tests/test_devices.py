"""--device: where the model runs. This machine has no GPU, so the CUDA path is tested as far as the CPU
reaches it: the choice, its errors, the batch budget, and a model loaded and used through the same calls."""

import numpy as np
import pytest
import torch

from jisr.embeddings import devices, load_model
from jisr.embeddings.batching import encode_documents
from jisr.errors import ModelError
from tests.conftest import SEEDS
from tests.test_cli import jisr


def test_auto_is_the_gpu_when_torch_sees_one_and_the_cpu_otherwise(monkeypatch):
    assert devices.resolve("cpu") == "cpu"
    assert devices.resolve("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("JISR_DEVICE", "cpu")
    assert devices.resolve(None) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert devices.resolve("auto") == "cuda" and devices.resolve("cuda:1") == "cuda:1"
    with pytest.raises(ModelError, match="sees 2 CUDA GPU"):
        devices.resolve("cuda:2")
    with pytest.raises(ModelError, match="unknown device 'tpu'"):
        devices.resolve("tpu")


@pytest.mark.slow  # jisr build in a child process
@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine with a GPU has CUDA: nothing to refuse")
def test_cuda_without_a_gpu_is_a_clear_error_and_builds_nothing(tmp_path, tiny_model_path):
    with pytest.raises(ModelError, match="sees no CUDA GPU"):
        devices.resolve("cuda")
    run = jisr(
        "build",
        "--corpus",
        str(SEEDS),
        "--index",
        str(tmp_path / "index"),
        "--model",
        str(tiny_model_path),
        "--device",
        "cuda",
    )
    assert run.returncode != 0 and "sees no CUDA GPU" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "index").exists()


def test_a_gpu_batch_holds_tokens_by_its_free_memory_within_bounds():
    assert devices.batch_budget("cpu") == (devices.CPU_TOKENS, devices.CPU_BATCH)
    small, large, huge = (devices.batch_budget("cuda", free_bytes=g << 30)[0] for g in (1, 16, 140))
    assert small == devices.GPU_TOKENS[0] < large < huge == devices.GPU_TOKENS[1]
    assert large == int((16 << 30) * devices.GPU_SHARE) // devices.GPU_BYTES_PER_TOKEN


def test_a_model_loaded_for_the_cpu_by_name_gives_the_vectors_of_the_default_load(tiny_model_path, tiny_model):
    model = load_model(str(tiny_model_path), device="cpu")
    assert model.device.type == "cpu" == tiny_model.device.type
    texts = [p.read_text(encoding="utf-8")[:400] for p in SEEDS.glob("*.txt")] + ["نص قصير", "a short text"]
    a, b = encode_documents(model, texts), encode_documents(tiny_model, texts)
    assert a.dtype == np.float32 and np.allclose(a, b, atol=1e-5)
