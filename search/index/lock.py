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
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
