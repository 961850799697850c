"""How a segment stores its vectors: codes with one float32 scale per row (passage vectors int8, sentence
and companion vectors int6), or (segments built before) int8 throughout, float32 or float16.

A vector is stored as its difference from a center (one per kind of vector and index: the mean of the
first vectors the index stored), divided by that difference's largest magnitude / 127 (int6: / 31)
and rounded; the scale is kept beside the codes, 4 bytes a row. A 384-d vector then takes 388 bytes
as int8 and 292 as int6, not 1,536. Sentence-embedding vectors share a large common direction (the
default model's mean vector is far from zero): taking it out first leaves a smaller range to divide into
steps, and so a smaller error of a cosine (benchmarks/results/decisions.md). A scale
per row, not one per segment or dimension, fits any model's norms and outlier dimensions. Quantizing
the values read back, with the same center, gives the same codes: a merge, or a rebuild that reuses
stored vectors, loses nothing more.

Every query searches the passage vectors, so they keep 8 bits. Sentence and companion vectors are
read only for a query's few hundred candidates, and the sentence vectors are a large part of an
index on disk: they take 6 bits. On the labeled sets (``benchmarks/experiments/compressed_vectors.py``, held-out
MRR@10 and recall@10 against float32) int6 kept MRR@10 within the target and int4 did not
(benchmarks/results/compressed_vectors.md and decisions.md).

What a build writes each kind of vector as is its :class:`jisr.index.options.VectorPrecision`.

Readers see every kind alike: ``rows[i]`` or ``rows[a:b]`` gives float32 values, as a memory-mapped
numpy array would.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

KINDS = {"float32": np.float32, "float16": np.float16, "int8": np.int8, "int6": np.uint8, "int4": np.uint8}
LEVELS = {"int8": 127, "int6": 31, "int4": 7}  # the codes of a quantized kind: -LEVELS..LEVELS
BITS = {"int6": 6, "int4": 4}  # the kinds whose codes are packed (:func:`pack`)


def scales_file(name: str) -> str:
    """The file beside ``name`` (vectors.bin) that holds its rows' scales."""
    return name.removesuffix(".bin") + ".scales.bin"


def center_file(name: str) -> str:
    """The file beside ``name`` that holds the center its rows were stored from."""
    return name.removesuffix(".bin") + ".center.npy"


def quantized(kind: str) -> bool:
    return kind in LEVELS


def quantize(
    vectors: np.ndarray, center: np.ndarray | None = None, levels: int = LEVELS["int8"]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes in -levels..levels (int8) and the float32 scale of each row of ``vectors`` less ``center``
    (a row equal to it: scale 1)."""
    vectors = np.asarray(vectors, np.float32).reshape(len(vectors), -1)
    if center is not None:
        vectors = vectors - center
    scales = np.abs(vectors).max(axis=1, initial=0.0) / levels
    scales[scales == 0] = 1.0
    codes = np.rint(vectors / scales[:, None]).clip(-levels, levels).astype(np.int8)
    return codes, scales.astype(np.float32)


def pack(codes: np.ndarray, bits: int) -> np.ndarray:
    """Codes of ``bits`` (4 or 6: -7..7 or -31..31), offset to be positive, packed in planes: each byte of
    the first holds the low 4 bits of a value of a row's first half and of its second half; for 6 bits,
    each byte of the second holds the high 2 bits of a value of each quarter. A row is padded to a multiple
    of 4 values. Halves and quarters, not neighbours, so that reading rows back (:func:`unpack`) writes
    whole blocks, faster than interleaved nibbles or a table look-up a byte (benchmarks/results/decisions.md)."""
    codes = np.asarray(codes, np.int16) + (1 << (bits - 1))
    codes = np.pad(codes, ((0, 0), (0, -codes.shape[1] % 4)), constant_values=1 << (bits - 1))
    half, quarter = codes.shape[1] // 2, codes.shape[1] // 4
    planes = [codes[:, :half] & 15 | (codes[:, half:] & 15) << 4]
    if bits == 6:
        high = codes >> 4
        planes.append(sum(high[:, k * quarter : (k + 1) * quarter] << 2 * k for k in range(4)))
    return np.concatenate(planes, axis=1).astype(np.uint8)


def unpack(packed: np.ndarray, dim: int, bits: int) -> np.ndarray:
    """The codes of ``packed`` rows (as :func:`pack` wrote them), float32."""
    packed = np.asarray(packed)
    padded = -(-dim // 4) * 4
    half, quarter = padded // 2, padded // 4
    values = np.empty((*packed.shape[:-1], padded), np.uint8)
    low = packed[..., :half]
    np.bitwise_and(low, 15, out=values[..., :half])
    np.right_shift(low, 4, out=values[..., half:])
    if bits == 6:
        high = packed[..., half:]
        for k in range(4):
            values[..., k * quarter : (k + 1) * quarter] |= (high >> 2 * k & 3) << 4
    out = values[..., :dim].astype(np.float32)
    out -= 1 << (bits - 1)
    return out


def width(kind: str, dim: int) -> int:
    """Values (packed kinds: bytes) a row takes in the vector file."""
    return -(-dim // 4) * BITS[kind] // 2 if kind in BITS else dim


def encoded(vectors: np.ndarray, kind: str, center: np.ndarray | None = None) -> list[bytes]:
    """The bytes a batch of ``vectors`` appends to its file, and (quantized, from ``center``) to its scales file."""
    if quantized(kind):
        codes, scales = quantize(vectors, center, LEVELS[kind])
        return [(pack(codes, BITS[kind]) if kind in BITS else codes).tobytes(), scales.tobytes()]
    return [np.ascontiguousarray(vectors, dtype=KINDS[kind]).tobytes()]


def row_bytes(kind: str, dim: int) -> list[int]:
    """Bytes a row takes in the vector file, and (quantized) in its scales file."""
    return [width(kind, dim) * np.dtype(KINDS[kind]).itemsize] + ([4] if quantized(kind) else [])


def files(name: str, kind: str) -> list[str]:
    return [name, scales_file(name)] if quantized(kind) else [name]


class Quantized:
    """Quantized rows read back as float32: the codes times their row's scale, plus the center. ``bits``:
    the codes' when they are packed (:func:`pack`; ``dim`` then says how many values a row holds)."""

    dtype = np.dtype(np.float32)

    def __init__(
        self,
        codes: np.ndarray,
        scales: np.ndarray,
        center: np.ndarray | None = None,
        dim: int | None = None,
        bits: int | None = None,
    ):
        self.codes, self.scales, self.bits = codes, scales, bits
        dim = codes.shape[1] if dim is None else dim
        self.center = np.zeros(dim, np.float32) if center is None else np.asarray(center, np.float32)
        self.shape = (len(codes), dim)

    def __len__(self) -> int:
        return len(self.codes)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)

    def _codes(self, rows) -> np.ndarray:
        """Rows ``rows``' codes as a new float32 array (the caller's to change: every pass over it writes in
        place, as a temporary of a few MB costs its page faults)."""
        codes = self.codes[rows]
        return unpack(codes, self.shape[1], self.bits) if self.bits else np.array(codes, np.float32)

    def __getitem__(self, rows) -> np.ndarray:
        values = self._codes(rows)
        values *= np.asarray(self.scales[rows], np.float32)[..., None]
        values += self.center
        return values

    def dot(self, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The inner products of rows ``rows`` with ``q``, without the float32 rows: half the passes."""
        return (self._codes(rows) @ q) * np.asarray(self.scales[rows], np.float32) + np.float32(self.center @ q)


def dot(values: np.ndarray | Quantized, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of stored vectors (as :func:`open_rows` gives them) times ``q``, float32."""
    if isinstance(values, Quantized):
        return values.dot(rows, q)
    return np.asarray(values[rows], np.float32) @ q


def gather(parts: Sequence[tuple[np.ndarray | Quantized, np.ndarray]], dim: int) -> np.ndarray:
    """Rows ``rows`` of each stored vector set of ``parts`` (as :func:`open_rows` gives them), one set after
    another, float32. Quantized sets with codes of one kind are read back in one pass: a query reads a few
    thousand sentence rows spread over every segment, and at 3M passages (31 segments) reading them segment
    by segment spent more on each call's fixed work than on the rows."""
    counts = [len(rows) for _, rows in parts]
    if not parts or sum(counts) == 0:
        return np.zeros((0, dim), np.float32)
    if not _alike(parts) or parts[0][0].shape[1] != dim:
        return np.concatenate([np.asarray(v[rows], np.float32).reshape(-1, dim) for v, rows in parts])
    values, scales = _codes(parts)
    values *= scales[:, None]
    first = parts[0][0]
    if all(v.center is first.center or np.array_equal(v.center, first.center) for v, _ in parts):
        values += first.center  # an index's segments share their centers (segment.index_centers)
    else:
        values += np.repeat(np.stack([v.center for v, _ in parts]), counts, axis=0)
    return values


def gathered_dot(parts: Sequence[tuple[np.ndarray | Quantized, np.ndarray]], q: np.ndarray) -> np.ndarray:
    """:func:`dot` of the rows of several stored vector sets, one set after another: quantized sets of one
    kind in one pass (:func:`gather` says why), without their float32 rows."""
    if not parts or not _alike(parts):
        return np.concatenate([dot(v, rows, q) for v, rows in parts] or [np.zeros(0, np.float32)])
    values, scales = _codes(parts)
    out = (values @ q) * scales
    out += np.repeat(np.array([v.center @ q for v, _ in parts], np.float32), [len(rows) for _, rows in parts])
    return out


def _alike(parts: Sequence[tuple[np.ndarray | Quantized, np.ndarray]]) -> bool:
    """Whether every set of ``parts`` is quantized, with codes of one kind and width: one pass reads them all."""
    first = parts[0][0]
    return all(
        isinstance(v, Quantized)
        and v.bits == first.bits
        and v.codes.dtype == first.codes.dtype
        and v.shape[1] == first.shape[1]
        for v, _ in parts
    )


def _codes(parts: Sequence[tuple[Quantized, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The codes of every part's rows as one new float32 array (the caller's to change), and their scales."""
    first = parts[0][0]
    codes = np.concatenate([v.codes[rows] for v, rows in parts])
    values = unpack(codes, first.shape[1], first.bits) if first.bits else codes.astype(np.float32)
    return values, np.concatenate([np.asarray(v.scales[rows], np.float32) for v, rows in parts])


def _map(path: Path, rows: int, width: int, dtype) -> tuple[np.ndarray, mmap.mmap | None]:
    """``rows`` x ``width`` values of ``path``, memory-mapped read-only, and the map (None when empty)."""
    if rows == 0:
        return np.zeros((0, width), dtype), None
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), rows * width * np.dtype(dtype).itemsize, access=mmap.ACCESS_READ)
    return np.frombuffer(mapped, dtype).reshape(rows, width), mapped


def open_rows(
    folder: Path, name: str, rows: int, dim: int, kind: str
) -> tuple[np.ndarray | Quantized, list[tuple[Path, np.ndarray, mmap.mmap | None]]]:
    """The ``rows`` x ``dim`` vectors stored in ``folder / name`` as ``kind``, and each file's path, array
    and map (for a warm-up, and to tell the kernel how it is read)."""
    if kind not in KINDS:
        raise ValueError(f"unknown vector storage {kind!r}")
    values, mapped = _map(folder / name, rows, width(kind, dim), KINDS[kind])
    parts = [(folder / name, values, mapped)]
    if not quantized(kind):
        return values, parts
    scales, scale_map = _map(folder / scales_file(name), rows, 1, np.float32)
    parts.append((folder / scales_file(name), scales, scale_map))
    return Quantized(values, scales[:, 0], load_center(folder, name, dim), dim, BITS.get(kind)), parts


def load_center(folder: Path, name: str, dim: int) -> np.ndarray | None:
    """The center ``folder / name``'s rows were stored from (None: none was written, the rows are empty)."""
    path = folder / center_file(name)
    if not path.exists():
        return None
    center = np.load(path, allow_pickle=False)
    if center.shape != (dim,) or center.dtype != np.float32 or not np.isfinite(center).all():
        raise ValueError(f"{path} is not the center of {dim}-d vectors")
    return center
