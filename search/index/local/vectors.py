"""How a segment stores its vectors: int8 codes with one float32 scale per row, or (segments built before
int8) float32 or float16.

A vector is stored as its difference from a center (one per kind of vector and index: the mean of the
first vectors the index stored), divided by that difference's largest magnitude / 127 and rounded; the
scale is kept beside the codes, 4 bytes a row. A 384-d vector then takes 388 bytes, not 1,536: at 1M
passages the sentence vectors shrink from 7.0 to 1.8 GB, and what a query reads of them (a few
thousand scattered rows) by as much. Sentence-embedding vectors share a large common direction (the
default model's mean vector has norm ~0.9): taking it out first leaves a smaller range to divide into
steps, and halved the error of a cosine (std 0.0003 -> 0.00012-0.00017 on the labeled sets). A scale
per row, not one per segment or dimension, fits any model's norms and outlier dimensions. Quantizing
the values read back, with the same center, gives the same codes: a merge, or a rebuild that reuses
stored vectors, loses nothing more. What it costs in ranking is measured by
``benchmarks/compressed_vectors.py`` (held-out MRR@10 and recall@10 against float32).

Readers see every kind alike: ``rows[i]`` or ``rows[a:b]`` gives float32 values, as a memory-mapped
numpy array would.
"""
from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np

DEFAULT = "int8"  # what a build writes
KINDS = {"float32": np.float32, "float16": np.float16, "int8": np.int8}
LEVELS = 127


def scales_file(name: str) -> str:
    """The file beside ``name`` (vectors.bin) that holds its rows' scales."""
    return name.removesuffix(".bin") + ".scales.bin"


def center_file(name: str) -> str:
    """The file beside ``name`` that holds the center its rows were stored from."""
    return name.removesuffix(".bin") + ".center.npy"


def quantize(vectors: np.ndarray, center: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and the float32 scale of each row of ``vectors`` less ``center`` (a row equal to it: scale 1)."""
    vectors = np.asarray(vectors, np.float32).reshape(len(vectors), -1)
    if center is not None:
        vectors = vectors - center
    scales = np.abs(vectors).max(axis=1, initial=0.0) / LEVELS
    scales[scales == 0] = 1.0
    codes = np.rint(vectors / scales[:, None]).clip(-LEVELS, LEVELS).astype(np.int8)
    return codes, scales.astype(np.float32)


def encoded(vectors: np.ndarray, kind: str, center: np.ndarray | None = None) -> list[bytes]:
    """The bytes a batch of ``vectors`` appends to its file, and (int8, from ``center``) to its scales file."""
    if kind == "int8":
        codes, scales = quantize(vectors, center)
        return [codes.tobytes(), scales.tobytes()]
    return [np.ascontiguousarray(vectors, dtype=KINDS[kind]).tobytes()]


def row_bytes(kind: str, dim: int) -> list[int]:
    """Bytes a row takes in the vector file, and (int8) in its scales file."""
    return [dim, 4] if kind == "int8" else [dim * np.dtype(KINDS[kind]).itemsize]


def files(name: str, kind: str) -> list[str]:
    return [name, scales_file(name)] if kind == "int8" else [name]


class Quantized:
    """int8 rows read back as float32: the codes times their row's scale, plus the center."""

    dtype = np.dtype(np.float32)

    def __init__(self, codes: np.ndarray, scales: np.ndarray, center: np.ndarray | None = None):
        self.codes, self.scales = codes, scales
        self.center = np.zeros(codes.shape[1], np.float32) if center is None else np.asarray(center, np.float32)
        self.shape = codes.shape

    def __len__(self) -> int:
        return len(self.codes)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[:] if dtype is None else self[:].astype(dtype)

    def __getitem__(self, rows) -> np.ndarray:
        codes = np.asarray(self.codes[rows], np.float32)
        scales = np.asarray(self.scales[rows], np.float32)
        return codes * scales[..., None] + self.center

    def dot(self, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The inner products of rows ``rows`` with ``q``, without the float32 rows: half the passes."""
        return (np.asarray(self.codes[rows], np.float32) @ q) * np.asarray(self.scales[rows], np.float32) \
            + np.float32(self.center @ q)


def dot(values: np.ndarray | Quantized, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of stored vectors (as :func:`open_rows` gives them) times ``q``, float32."""
    if isinstance(values, Quantized):
        return values.dot(rows, q)
    return np.asarray(values[rows], np.float32) @ q


def _map(path: Path, rows: int, width: int, dtype) -> tuple[np.ndarray, mmap.mmap | None]:
    """``rows`` x ``width`` values of ``path``, memory-mapped read-only, and the map (None when empty)."""
    if rows == 0:
        return np.zeros((0, width), dtype), None
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), rows * width * np.dtype(dtype).itemsize, access=mmap.ACCESS_READ)
    return np.frombuffer(mapped, dtype).reshape(rows, width), mapped


def open_rows(folder: Path, name: str, rows: int, dim: int, kind: str) \
        -> tuple[np.ndarray | Quantized, list[tuple[Path, np.ndarray, mmap.mmap | None]]]:
    """The ``rows`` x ``dim`` vectors stored in ``folder / name`` as ``kind``, and each file's path, array
    and map (for a warm-up, and to tell the kernel how it is read)."""
    if kind not in KINDS:
        raise ValueError(f"unknown vector storage {kind!r}")
    values, mapped = _map(folder / name, rows, dim, KINDS[kind])
    parts = [(folder / name, values, mapped)]
    if kind != "int8":
        return values, parts
    scales, scale_map = _map(folder / scales_file(name), rows, 1, np.float32)
    parts.append((folder / scales_file(name), scales, scale_map))
    return Quantized(values, scales[:, 0], load_center(folder, name, dim)), parts


def load_center(folder: Path, name: str, dim: int) -> np.ndarray | None:
    """The center ``folder / name``'s rows were stored from (None: none was written, the rows are empty)."""
    path = folder / center_file(name)
    if not path.exists():
        return None
    center = np.load(path, allow_pickle=False)
    if center.shape != (dim,) or center.dtype != np.float32 or not np.isfinite(center).all():
        raise ValueError(f"{path} is not the center of {dim}-d vectors")
    return center
