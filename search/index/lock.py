"""One writer per index folder: an advisory lock held for a whole build.

The kernel drops a ``flock`` when its process dies, however it dies, so a lock left by a
killed build is never "stale": the next build simply takes it. The file keeps the holder's
pid only to name it in the message. Readers never take the lock.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from jisr.errors import IndexBusy

LOCK = "LOCK"


class WriterLock:
    """``with WriterLock(index_dir):`` the block is the only writer of ``index_dir``."""

    def __init__(self, index_dir: str | os.PathLike):
        self.path = Path(index_dir) / LOCK
        self._fd: int | None = None

    def __enter__(self) -> "WriterLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise IndexBusy(f"another build is running on {self.path.parent} (pid {holder}); "
                            "wait for it to finish") from None
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
