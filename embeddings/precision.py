"""The precision of the encoder's matrix products, and weights laid out ahead of time for them.

On a CPU with bfloat16 dot products in hardware (AVX512-BF16 or AMX), bfloat16 autocast
about doubles the matmul rate. Elsewhere bfloat16 would be emulated and slower.

Either way, a plain ``nn.Linear`` hands oneDNN float32 weights in their stored layout, so
every call first converts them (to bfloat16 under autocast) and reorders them into
oneDNN's blocked layout. For a short query that preparation costs more than the product
itself. So each Linear keeps a copy of its weights in the compute dtype, prepacked once
(``mkldnn._reorder_linear_weight``, what PyTorch's own compiler uses when it freezes a
model for CPU inference), and made again whenever the float32 master changes. The saved
weights, and so the model's fingerprint, stay float32. Training (gradients on) uses the
plain path.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator

import torch
from torch import nn


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (so autocast to it is a speed-up, not an emulation)."""
    cpu = torch.cpu
    return any(
        getattr(cpu, probe, lambda: False)() for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )


@functools.cache
def prepacking_works(dtype: torch.dtype) -> bool:
    """Whether this PyTorch build and CPU run Linear layers on oneDNN-prepacked ``dtype`` weights.

    x86 and most Arm builds do in float32; bfloat16 also needs the CPU's support, which
    oneDNN checks only when it runs, so a tiny product is tried once.
    """
    try:
        with torch.no_grad():
            packed = torch.ops.mkldnn._reorder_linear_weight(torch.eye(2, dtype=dtype))
            out = torch.ops.mkldnn._linear_pointwise(torch.ones(1, 2, dtype=dtype), packed, None, "none", [], "")
        return torch.equal(out.float(), torch.ones(1, 2))
    except (AttributeError, NotImplementedError, RuntimeError):
        return False


@contextlib.contextmanager
def matmul_precision(device_type: str, dtype: torch.dtype | None) -> Iterator[None]:
    """Run the block's matrix products in ``dtype`` (autocast: bfloat16 on a CPU, float16 on a GPU) or, with
    None, leave them in float32."""
    with torch.autocast(device_type, dtype=dtype) if dtype is not None else contextlib.nullcontext():
        yield


class PrepackedLinear(nn.Linear):
    """A Linear that, without gradients on a CPU, multiplies by its weights prepacked in the compute dtype."""

    _packed: tuple[tuple, torch.Tensor, torch.Tensor | None] | None = None
    # whether prepacked products run in a dtype here: the probe, or what prepack_linears was told
    prepacking_works: Callable[[torch.dtype], bool] = staticmethod(prepacking_works)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = self._compute_dtype(x)
        if dtype is None:
            return super().forward(x)
        weight, bias = self._prepacked(dtype)
        return torch.ops.mkldnn._linear_pointwise(x.to(dtype), weight, bias, "none", [], "")

    def _compute_dtype(self, x: torch.Tensor) -> torch.dtype | None:
        """The dtype of the product when the prepacked path applies, else None."""
        if torch.is_grad_enabled() or x.device.type != "cpu" or self.weight.device.type != "cpu":
            return None
        if torch.is_autocast_enabled("cpu"):
            dtype = torch.get_autocast_dtype("cpu")
        else:
            dtype = x.dtype
        if dtype not in (torch.float32, torch.bfloat16) or not self.prepacking_works(dtype):
            return None
        return dtype

    def _prepacked(self, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
        # A tensor's version counts in-place writes (load_state_dict, an optimizer step); its
        # data pointer changes when it is replaced or moved.
        key = (dtype, *((p._version, p.data_ptr()) for p in (self.weight, self.bias) if p is not None))
        packed = self._packed
        if packed is None or packed[0] != key:
            with torch.inference_mode(False), torch.no_grad():  # usable outside inference mode too
                weight = torch.ops.mkldnn._reorder_linear_weight(self.weight.to(dtype))
                bias = None if self.bias is None else self.bias.to(dtype)
            packed = self._packed = (key, weight, bias)  # one assignment: a concurrent caller sees all or none
        return packed[1], packed[2]

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_packed", None)  # an opaque oneDNN tensor: not copyable, and cheap to make again
        return state


def prepack_linears(model: nn.Module, works: Callable[[torch.dtype], bool] = prepacking_works) -> None:
    """Make every plain Linear in ``model`` a :class:`PrepackedLinear` (same parameters, same state dict).

    ``works`` says whether this machine runs prepacked products in a dtype: the probe by default; a caller that
    knows better (a test of the fallback on a CPU where oneDNN does run them) passes its own answer."""
    for module in model.modules():
        if type(module) is nn.Linear:
            module.__class__ = PrepackedLinear  # adds behaviour only, no state that needs initializing
            if works is not prepacking_works:
                module.prepacking_works = works
