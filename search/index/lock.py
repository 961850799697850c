"""One writer per index folder: an advisory lock held for a whole build.

The kernel drops a ``flock`` when its process dies, however it dies, so a lock left by a
killed build is never "stale": the next build simply takes it. The file keeps the holder's
pid only to name it in the message. Readers never take the lock.

A writer may wait for the lock a bounded time (``jisr build`` beside a server committing API writes:
the server's commits are short, and a build that stopped at once would fail for nothing), saying so once;
never without end, since a lock that is never released would hang it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from jisr.errors import IndexBusy

LOCK = "LOCK"


class WriterLock:
    """``with WriterLock(index_dir):`` the block is the only writer of ``index_dir``. ``wait``: seconds to wait
    for a lock another writer holds before :class:`IndexBusy` (0: refuse at once); ``waiting`` is told once,
    with a line naming the holder, when the wait begins."""

    POLL = 0.2  # seconds between tries while waiting: a server's commits free the lock between writes

    def __init__(self, index_dir: str | os.PathLike, wait: float = 0.0, waiting: Callable[[str], None] | None = None):
        self.path = Path(index_dir) / LOCK
        self.wait, self.waiting = wait, waiting
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._take(fd)
        except BaseException:
            os.close(fd)
            raise
        try:
            self._write_pid(fd)
        except BaseException:  # an interrupt: nothing may keep the lock once __enter__ has failed
            _release(fd)
            raise
        self._fd = fd
        return self

    def _take(self, fd: int) -> None:
        """flock ``fd``, trying again for ``self.wait`` seconds while another writer holds it."""
        deadline, told = time.monotonic() + self.wait, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            if time.monotonic() >= deadline:
                waited = f" (waited {self.wait:g} s: the writer_lock_wait setting)" if self.wait > 0 else ""
                raise IndexBusy(
                    f"another build is running on {self.path.parent} (pid {holder}){waited}; wait for it to finish"
                )
            if self.waiting is not None and not told:
                told = True
                self.waiting(
                    f"another build is writing {self.path.parent} (pid {holder}: a server committing "
                    f"API writes, or a `jisr build`); waiting up to {self.wait:g} s for it to finish"
                )
            time.sleep(self.POLL)

    @staticmethod
    def _write_pid(fd: int) -> None:
        """Best-effort, on purpose: the pid only names the holder in another writer's message; the flock is the
        lock. A disk with no byte free refuses this write; failing the build for it would say less than the
        build's own writes do, so the build goes on and fails (or not) writing the index, with the disk's
        message, and a writer that waits meanwhile reads "pid unknown"."""
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)  # no stale pid in the file; a failure here must not keep the lock
            except OSError:
                pass
            finally:
                _release(fd)


def _release(fd: int) -> None:
    """Unlock and close ``fd``: closing alone drops the flock, unlocking first says so whatever else shares it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
