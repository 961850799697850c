"""A live index: the newest commit of an index folder, searched while builds commit new ones.

A server opens one commit; builds (``jisr build``, or the server's own writes) commit others. A
thread polls the folder's CURRENT file (a few bytes) and, when it names another commit, opens that
one beside the old (sharing the segments both name: :func:`jisr.index.stores.open_next`) and swaps
it in with one assignment. A search leases the searcher it starts on and finishes on it, so none
sees half of two commits; the old commit is closed when its last lease ends, which frees the files
of segments the build removed meanwhile. A commit that cannot be opened (damaged, another model)
is logged and the old one goes on answering until the folder's next commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from jisr.answers.searcher import Searcher
from jisr.errors import Error
from jisr.index import commit
from jisr.index.stores import open_next

POLL_SECONDS = 0.25  # a new commit is searched within this (plus its opening) of being made current
log = logging.getLogger(__name__)


@dataclass
class _Held:
    searcher: Searcher
    generation: int | None
    leases: int = 0
    retired: bool = False


class Following:
    """The searcher of an index folder's live commit, kept current; safe to share between threads.

    ``generation``: the commit ``searcher`` was opened on, as read before it was opened (a commit made
    meanwhile is then opened once more, never missed)."""

    def __init__(
        self,
        searcher: Searcher,
        generation: int | None,
        milvus_uri: str | None = None,
        milvus_token: str | None = None,
        poll: float = POLL_SECONDS,
    ):
        self._held = _Held(searcher, generation)
        self._tried = generation  # the last generation opened or found unopenable
        self._milvus = (milvus_uri, milvus_token)
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._stop = threading.Event()
        self.swaps = 0
        self._thread = threading.Thread(target=self._follow, args=(poll,), name="jisr-follow", daemon=True)
        self._thread.start()

    @property
    def current(self) -> Searcher:
        """The searcher of the newest commit opened (for a look, not a search: see :meth:`lease`)."""
        return self._held.searcher

    @property
    def generation(self) -> int | None:
        return self._held.generation

    @contextmanager
    def lease(self) -> Iterator[Searcher]:
        """The current searcher, kept open until the ``with`` block ends, whatever commits meanwhile."""
        with self._lock:
            held = self._held
            held.leases += 1
        try:
            yield held.searcher
        finally:
            with self._lock:
                held.leases -= 1
                done = held.retired and held.leases == 0
            if done:
                held.searcher.close()

    def refresh(self) -> bool:
        """Open the folder's live commit if it is not the one searched, and swap it in: whether it did."""
        with self._refreshing:
            current = self._held.searcher
            try:
                gen, unreadable = commit.generation(current.index.directory), None
            except Error as exc:  # a CURRENT that names no commit: tried (and logged) once
                gen, unreadable = f"unreadable ({exc})", exc
            if gen is None or gen == self._tried:
                return False
            self._tried = gen
            reader = None
            try:
                if unreadable is not None:
                    raise unreadable
                reader = open_next(current.index, *self._milvus)
                searcher = current.on(reader)
            except Exception as exc:  # noqa: BLE001  (a bad commit must not stop the server answering)
                if reader is not None:
                    reader.close()
                log.warning(
                    "jisr: the index at %s changed, and its new commit cannot be searched (%s); "
                    "still answering from commit %s",
                    current.index.directory,
                    exc,
                    self._held.generation,
                )
                return False
            with self._lock:
                old, self._held = self._held, _Held(searcher, searcher.index.manifest.get("generation", gen))
                old.retired = True
                done = old.leases == 0
            self.swaps += 1
            log.info("jisr: now searching commit %s of %s: %d passages", gen, current.index.directory, searcher.size)
            if done:
                old.searcher.close()
            return True

    def _follow(self, poll: float) -> None:
        while not self._stop.wait(poll):
            self.refresh()

    def close(self) -> None:
        """Stop following; the current searcher closes when its last lease ends."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()
        with self._refreshing, self._lock:
            held = self._held
            held.retired = True
            done = held.leases == 0
        if done:
            held.searcher.close()
