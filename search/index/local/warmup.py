"""Reading an index's files into the page cache before the first queries need them.

An index is memory-mapped, so opening it reads almost nothing, and what a query touches is read
from disk on first use. After a reboot, or once other work has pushed the index out of the page
cache, the first queries at 1M passages took seconds each (benchmarks/scale.py). A server starts
this warm-up at open: a daemon thread reads the files that every query reads from (passage
vectors, postings), then the sentence vectors while they fit in half the memory the machine has
free, so that page cache is left for everything else. Then it touches one byte of every page of
this process's maps of them: a page in the page cache still costs a fault the first time a process
touches it, and at 1M passages those faults made a process's first queries ~2x slower than later
ones. Queries are answered meanwhile; they only run slower until it ends. Reading is a hint: a
file that a build removes meanwhile is skipped.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CHUNK = 8 << 20  # bytes a read asks for
PAGE = 4096
Region = tuple[Path, np.ndarray]  # a file, and this process's memory map of it


def available_bytes() -> int:
    """Memory the kernel says it can give without swapping (MemAvailable), or 0 if it does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _size(region: Region) -> int:
    try:
        return region[0].stat().st_size
    except OSError:
        return 0


def plan(needed: Sequence[Region], wanted: Sequence[Region], budget: int) -> list[Region]:
    """The regions to warm: all of ``needed``, then those of ``wanted`` while the total fits in ``budget``."""
    chosen, total = list(needed), sum(_size(r) for r in needed)
    for region in wanted:
        total += _size(region)
        if total > budget:
            break
        chosen.append(region)
    return chosen


def touch(array: np.ndarray) -> None:
    """Fault in every page of ``array``'s memory (one byte read a page), a slice at a time."""
    data = np.asarray(array).reshape(-1).view(np.uint8)
    for a in range(0, len(data), CHUNK):
        int(data[a:a + CHUNK:PAGE].sum())


class Warmup:
    """A daemon thread warming ``regions`` once (file read, then map touched); ``wait`` for it."""

    def __init__(self, regions: Sequence[Region]):
        self.regions, self.bytes_read, self.seconds = list(regions), 0, 0.0
        self._thread = threading.Thread(target=self._run, name="jisr-warmup", daemon=True)
        self._thread.start()

    @property
    def paths(self) -> list[Path]:
        return [path for path, _ in self.regions]

    def _run(self) -> None:
        started, buffer = time.perf_counter(), bytearray(CHUNK)
        for path, array in self.regions:
            try:
                with open(path, "rb", buffering=0) as f:
                    while n := f.readinto(buffer):
                        self.bytes_read += n
            except OSError:
                continue
            touch(array)
        self.seconds = time.perf_counter() - started

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the warm-up has ended (within ``timeout`` seconds)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


def start(needed: Sequence[Region], wanted: Sequence[Region]) -> Warmup:
    return Warmup(plan(needed, wanted, available_bytes() // 2 or sum(_size(r) for r in needed)))

