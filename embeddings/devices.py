"""Where a model runs: the CPU, or a CUDA GPU when torch sees one (``--device auto|cpu|cuda``).

On a GPU the encoder's matrix products run in float16 (autocast; the weights stay float32, a few hundred
MB), and a build's batches hold as many tokens as a fraction of the GPU's free memory allows rather than
the CPU's cache-sized 2,048. Vectors leave the model as float32 whichever device made them, so an index
built on one device is searched on the other. The companion encoder (USE) has no GPU path and stays on
the CPU beside it.
"""

from __future__ import annotations

from jisr.errors import ModelError
from jisr.settings import DEVICES, current

CPU_TOKENS, CPU_BATCH = 2048, 64  # the CPU's budget (jisr.embeddings.batching)
GPU_BYTES_PER_TOKEN = 256 << 10  # activation memory a token may take in a BERT-base batch, generously
GPU_SHARE = 0.5  # of the GPU's free memory, for one batch's activations
GPU_TOKENS = (8_192, 262_144)  # a GPU batch's token budget is kept between these
GPU_BATCH = 1024


def resolve(device: str | None = None) -> str:
    """The torch device to load a model on: ``device`` (None: the device setting, "auto" by default); "auto" is
    CUDA when torch sees a GPU, else the CPU. "cuda" (or "cuda:N") without one is a :class:`ModelError`."""
    device = device or current().runtime.device
    if device != "cpu" and device.split(":")[0] not in DEVICES:
        raise ModelError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)} (or cuda:N)")
    if device == "cpu":
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        if device == "auto":
            return "cpu"
        raise ModelError(
            f"--device {device}: torch {torch.__version__} sees no CUDA GPU on this machine "
            "(a CPU build of torch, or no driver); use --device cpu or auto"
        )
    if device == "auto":
        return "cuda"
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise ModelError(f"--device {device}: torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    return device


def batch_budget(device_type: str, free_bytes: int | None = None) -> tuple[int, int]:
    """(padded tokens, texts) a build's batch may hold on ``device_type``: the CPU's cache-sized batches, or on
    a GPU a share of its free memory (``free_bytes``: asked of torch when not given)."""
    if device_type != "cuda":
        return CPU_TOKENS, CPU_BATCH
    if free_bytes is None:
        import torch

        free_bytes = torch.cuda.mem_get_info()[0]
    tokens = int(free_bytes * GPU_SHARE) // GPU_BYTES_PER_TOKEN
    return max(GPU_TOKENS[0], min(GPU_TOKENS[1], tokens)), GPU_BATCH
