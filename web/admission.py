"""Admission control: a bounded queue in front of the encoder, so a busy server says "later" at once.

Every search needs the one encoder thread. Without a bound, each extra client adds its wait to
everyone's latency (benchmarks/results/decisions.md), and requests that
need no encoder (a bad query, /healthz) wait for a free request thread behind them. Here at most
``running`` searches run and ``depth`` more wait, each for at most ``wait`` seconds; any others are
refused at once with 503 and a Retry-After estimated from recent search times. The server gives
itself more request threads than ``running + depth``, so the rest are always free for cheap requests.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from jisr.settings import default


class Overloaded(Exception):
    """The search was not started; ``retry_after`` is the seconds after which a retry may succeed."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Admission:
    """Decides whether a search may run now, wait for a slot, or be refused; safe to share between threads."""

    def __init__(
        self,
        running: int = default("running_searches"),
        depth: int = default("queue_depth"),
        wait: float = default("queue_wait"),
    ):
        if running < 1 or depth < 0 or wait < 0:
            raise ValueError("admission needs running >= 1, depth >= 0 and wait >= 0")
        self.running, self.depth, self.wait = running, depth, wait
        self._slots = threading.Semaphore(running)
        self._lock = threading.Lock()
        self._active = self._waiting = self._refused = 0
        self._seconds = 0.05  # moving average of one search's time, for Retry-After

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Run the body as an admitted search, or raise Overloaded without running it."""
        with self._lock:
            admitted = self._slots.acquire(blocking=False)
            if not admitted and self._waiting >= self.depth:
                self._refused += 1
                raise Overloaded(
                    f"the server is busy ({self._active} searches running, {self._waiting} waiting): try again shortly",
                    self._retry_after(),
                )
            self._waiting += not admitted
        if not admitted:
            admitted = self._slots.acquire(timeout=self.wait)
            with self._lock:
                self._waiting -= 1
                if not admitted:
                    self._refused += 1
                    raise Overloaded(
                        f"the server is busy: this search waited {self.wait:g} s without starting; try again shortly",
                        self._retry_after(),
                    )
        with self._lock:
            self._active += 1
        started = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - started
            with self._lock:
                self._active -= 1
                self._seconds = 0.8 * self._seconds + 0.2 * elapsed
            self._slots.release()

    def _retry_after(self) -> int:
        """Whole seconds until the searches now running and waiting should be done (at least 1)."""
        return max(1, math.ceil((self._active + self._waiting + 1) * self._seconds / self.running))

    def state(self) -> dict:
        """What /healthz reports: searches running and waiting, the limits, and how many were refused."""
        with self._lock:
            return {
                "running": self._active,
                "waiting": self._waiting,
                "max_running": self.running,
                "depth": self.depth,
                "wait_s": self.wait,
                "refused": self._refused,
            }
