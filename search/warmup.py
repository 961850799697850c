"""Reading an index's files into the page cache before the first queries need them.

An index is memory-mapped, so opening it reads almost nothing, and what a query touches is read
from disk on first use. After a reboot, or once other work has pushed the index out of the page
cache, the first queries at 1M passages took seconds each (benchmarks/scale.py). A server starts
this warm-up at open: a daemon thread reads the files that every query reads from (passage
vectors, postings), then the sentence vectors while they fit in half the memory the machine has
free, so that page cache is left for everything else. Queries are answered meanwhile; they only
run slower until it ends. Reading is a hint: a file that a build removes meanwhile is skipped.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

CHUNK = 8 << 20  # bytes a read asks for


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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def plan(needed: Sequence[Path], wanted: Sequence[Path], budget: int) -> list[Path]:
    """The files to read: all of ``needed``, then those of ``wanted`` while the total fits in ``budget``."""
    chosen, total = list(needed), sum(_size(p) for p in needed)
    for path in wanted:
        total += _size(path)
        if total > budget:
            break
        chosen.append(path)
    return chosen


class Warmup:
    """A daemon thread reading ``paths`` once, start to end; ``wait`` for it, ``stop`` to end it early."""

    def __init__(self, paths: Sequence[Path]):
        self.paths, self.bytes_read, self.seconds = list(paths), 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jisr-warmup", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started, buffer = time.perf_counter(), bytearray(CHUNK)
        for path in self.paths:
            try:
                with open(path, "rb", buffering=0) as f:
                    while not self._stop.is_set() and (n := f.readinto(buffer)):
                        self.bytes_read += n
            except OSError:
                continue
            if self._stop.is_set():
                break
        self.seconds = time.perf_counter() - started

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the warm-up has ended (within ``timeout`` seconds)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()


def start(needed: Sequence[Path], wanted: Sequence[Path]) -> Warmup:
    return Warmup(plan(needed, wanted, available_bytes() // 2 or sum(_size(p) for p in needed)))

