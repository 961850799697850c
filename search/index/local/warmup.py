"""Reading an index's files into the page cache before the first queries need them.

An index is memory-mapped, so opening it reads almost nothing, and what a query touches is read
from disk on first use. After a reboot, or once other work has pushed the index out of the page
cache, the first queries at 1M passages took seconds each (benchmarks/scale.py). A server starts
this warm-up at open: a daemon thread reads the files that every query reads from (passage
vectors, postings), then the sentence vectors while they fit in half the memory the machine has
free, so that page cache is left for everything else. Then it touches one byte of every page of
this process's maps of them: a page in the page cache still costs a fault the first time a process
touches it, and those faults made a process's first queries slower than later ones
(benchmarks/results/decisions.md). Queries are answered meanwhile; they only run slower until it ends.
Reading is a hint: a file that a build removes meanwhile is skipped.

A server given a memory budget (`jisr serve --memory-budget GB`) warms within it instead, what
every query reads first, and then keeps to it: every few seconds, while what its resident memory has
grown by since the index opened is over the budget, it lets go of its pages of the sentence and
companion vectors (the
files queries read a few rows of), largest first. The kernel keeps them in its page cache while it
has room, so a row read again soon costs a page fault, not a disk read; what every query reads
(postings, passage vectors, the vector indexes) is never dropped.
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CHUNK = 8 << 20  # bytes a read asks for
PAGE = 4096
KEEP_EVERY = 5.0  # seconds between checks of the resident memory against a budget
Region = tuple[Path, np.ndarray]  # a file, and this process's memory map of it


def resident_bytes() -> int:
    """This process's resident memory (RSS), from /proc/self/statm (0 where there is none)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


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
        int(data[a : a + CHUNK : PAGE].sum())


class Warmup:
    """A daemon thread warming ``regions`` once (file read, then map touched); ``wait`` for it. With a
    ``budget`` (bytes), it then keeps what the process's resident memory has grown by since the warm-up
    began (the index's pages, mostly) under it by dropping its pages of the ``droppable`` maps, until ``stop``."""

    def __init__(self, regions: Sequence[Region], budget: int | None = None, droppable: Sequence[mmap.mmap] = ()):
        self.regions, self.bytes_read, self.seconds = list(regions), 0, 0.0
        self.budget, self.droppable, self.dropped = budget, sorted(droppable, key=len, reverse=True), 0
        self.baseline = resident_bytes()  # the process before its index: model, libraries
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jisr-warmup", daemon=True)
        self._thread.start()
        self._keeper = None
        if budget is not None:
            self._keeper = threading.Thread(target=self._keep, name="jisr-memory-budget", daemon=True)
            self._keeper.start()

    def held(self) -> int:
        """Bytes of resident memory the process has grown by since the warm-up began."""
        return resident_bytes() - self.baseline

    def keep(self) -> int:
        """Drop pages of the droppable maps, largest first, while resident memory is over the budget; return
        how many maps were let go of."""
        let_go = 0
        for mapped in self.droppable:
            if self.budget is None or self.held() <= self.budget:
                break
            try:
                mapped.madvise(mmap.MADV_DONTNEED)
            except (ValueError, OSError):  # closed meanwhile: its segment left the index
                continue
            let_go += 1
        self.dropped += let_go
        return let_go

    def _keep(self) -> None:
        while not self._stopped.wait(KEEP_EVERY):
            self.keep()

    def stop(self) -> None:
        self._stopped.set()

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


def start(
    needed: Sequence[Region], wanted: Sequence[Region], budget: int | None = None, droppable: Sequence[mmap.mmap] = ()
) -> Warmup:
    """Warm ``needed``, then ``wanted`` within half the free memory, or within ``budget`` bytes, which the
    warm-up then keeps to (see the module's docstring)."""
    if budget is None:
        return Warmup(plan(needed, wanted, available_bytes() // 2 or sum(_size(r) for r in needed)))
    return Warmup(plan(needed, wanted, budget), budget, droppable)
