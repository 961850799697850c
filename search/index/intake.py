"""Documents sent to a running server -> commits: one writer, group commit, acknowledged once durable.

Every write goes through the one build path (:func:`jisr.index.build.build`, under the index's
writer lock), as ``jisr build`` does: the documents are stored beside the index
(:mod:`jisr.corpus.submitted`), only what changed is embedded, and the new commit is made current in
one atomic step. Writes that arrive within ``interval`` of each other share one commit (as
Elasticsearch's refresh and a database's group commit do), so a program sending one document per
request does not pay one commit each. A commit takes writes in the order they came, up to
``max_documents`` (one write larger than that goes alone): a bulk load sent in parts (:mod:`jisr.web.bulk`)
never grows one commit past it, and a write sent meanwhile is committed between two parts, not after the
whole load. Documents are stored beside the index only inside a commit, so what a killed server leaves
stored but uncommitted is at most one commit's worth, and the next commit takes it in (it is the
user's, written durably; that its write got no 2xx means only that it was not known to be committed).
A writer learns the outcome from its :class:`Receipt`: the
commit that holds its write once it is on the disk and searched, or why it failed (nothing of a
failed commit is kept). The writer's thread runs at a lower CPU priority than the server's
searches (``nice``), so a bulk load slows searches less than it would share the cores evenly.

Stopping: :meth:`Intake.closing` (the server's SIGTERM) refuses new writes at once, so a bulk load stops
after the part being committed and its request is answered while the server drains; :meth:`Intake.close`
commits what is queued and, if that outlasts its timeout, stops the commit under way before it is swapped
in (it undoes what it stored) rather than leave a thread embedding while the interpreter exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jisr.corpus import submitted
from jisr.errors import DiskFull, Error, IndexBusy
from jisr.settings import current, default

if TYPE_CHECKING:
    from jisr.index.build import BuildReport

log = logging.getLogger(__name__)


class Receipt:
    """The outcome of one write: ``wait()`` returns the generation that holds it, or raises why it failed."""

    def __init__(self):
        self._done = threading.Event()
        self.generation: int | None = None
        self.error: str | None = None
        self.failure: type[Error] = Error  # what failed it: IndexBusy and DiskFull are answered apart (503, 507)

    def _settle(self, generation: int | None, error: str | None, failure: type[Error] = Error) -> None:
        self.generation, self.error, self.failure = generation, error, failure
        self._done.set()

    def wait(self, timeout: float | None = None) -> int:
        if not self._done.wait(timeout):
            raise TimeoutError("the write was not committed in time; it may still be")
        if self.error is not None:
            raise self.failure(self.error)
        return self.generation


class Stopping(Error):
    """A commit given up because the server is stopping: nothing of it was kept."""


class Intake:
    """The one writer of a served index. ``build`` commits the documents a callback stores (it is
    :func:`jisr.index.build.build` with the index's options bound: see :meth:`for_index`);
    ``searched`` is called with nothing once a commit is made, before its writers are answered (the
    server's :meth:`jisr.api.Index.refresh`, so an acknowledged write is searched at once)."""

    def __init__(
        self,
        index_dir: str | os.PathLike,
        build: Callable[[Callable, threading.Event], BuildReport],
        searched: Callable[[], object] = lambda: None,
        interval: float = default("commit_interval"),
        nice: int | None = None,
        lock_wait: float = default("writer_lock_wait"),
        max_documents: int = default("bulk_commit_documents"),
    ):
        """``build(submit, stopping)`` commits what ``submit`` stores and gives up (:class:`Stopping`) once
        ``stopping`` is set; ``interval``: seconds a write waits for others to share its commit; ``nice``: the
        writer thread's niceness (None: the writer_nice setting), so searches come first; ``lock_wait``: seconds
        a commit waits for the index's lock while another build holds it, before its writes fail (never a wait
        without end: a lock that is never released would hang every write); ``max_documents``: the most
        documents one commit takes from the queue."""
        self.index_dir, self._build, self._searched = Path(index_dir), build, searched
        self.lock_wait, self.max_documents = lock_wait, max_documents
        self.interval, self.nice = interval, current().serve.writer_nice if nice is None else nice
        self._cond = threading.Condition()
        self._queue: list[tuple[dict[str, dict | None], Receipt]] = []  # writes in the order they came
        self._first = 0.0  # when the oldest queued write arrived
        self._closed = False
        self._stopping = threading.Event()  # set by close() when committing the queue outlasts its timeout
        self._rescan = False  # the corpus folder changed: a commit is due even with no write pending
        self.commits = self.failures = self.documents = self.embedded = 0  # since the server started
        self._thread = threading.Thread(target=self._run, name="jisr-intake", daemon=True)
        self._thread.start()

    @classmethod
    def for_index(cls, index, milvus_uri: str | None = None, milvus_token: str | None = None, **options) -> Intake:
        """The writer of a served :class:`jisr.api.Index`, building with the options its commit records and
        the models it already has loaded (none is loaded twice); ``milvus_uri``: as the index was opened."""
        from jisr.corpus.readers import RecordFields
        from jisr.embeddings import wrap
        from jisr.embeddings.batching import encode_documents
        from jisr.index.build import build
        from jisr.index.commit import on_milvus, readable
        from jisr.index.options import BuildOptions

        path = index.path

        def build_with(submit: Callable, stopping: threading.Event) -> BuildReport:
            manifest = readable(path)
            searcher = index.searcher

            def encode(texts: list[str]):  # each batch: a stop asked meanwhile ends the commit here
                if stopping.is_set():
                    raise Stopping("the server is stopping")
                return encode_documents(wrap(searcher.model), texts)

            @contextlib.contextmanager
            def swap():  # and at the swap, after the last batch and any merge
                if stopping.is_set():
                    raise Stopping("the server is stopping")
                yield

            milvus = None
            if on_milvus(manifest):
                from jisr.index.contract import MilvusTarget

                milvus = MilvusTarget(milvus_uri, milvus_token, manifest["store"]["collection"])
            built_as = BuildOptions(
                index_type=manifest["index"]["type"],
                fields=RecordFields.recorded(manifest),
                milvus=milvus,
                companion="use" if manifest.get("companion") else "none",
            )
            return build(
                manifest["corpus"],
                path,
                searcher.model,
                built_as,
                submit=submit,
                encoder=encode,
                commit=swap,
                companion_model=searcher.companion if manifest.get("companion") else None,
            )

        return cls(path, build_with, index.refresh, **options)

    def submit(self, changes: dict[str, dict | None]) -> Receipt:
        """Queue ``changes`` (document id -> its stored form, :mod:`jisr.corpus.submitted`; None deletes it)
        for the next commit; a later write of the same id in the same commit wins."""
        receipt = Receipt()
        with self._cond:
            if self._closed:
                raise Stopping("the server is stopping; send the write again once it is back")
            if not self._queue:
                self._first = time.monotonic()
            self._queue.append((changes, receipt))
            self._cond.notify()
        return receipt

    def rescan(self) -> None:
        """Commit what changed in the corpus folder (:mod:`jisr.index.watching` calls this), with the next
        group of writes or on its own."""
        with self._cond:
            if not self._queue and not self._rescan:
                self._first = time.monotonic()
            self._rescan = True
            self._cond.notify()

    @property
    def depth(self) -> int:
        """Documents waiting for a commit."""
        with self._cond:
            return sum(len(changes) for changes, _ in self._queue)

    def closing(self) -> None:
        """Refuse writes from now on (:class:`Stopping`); what is queued is still committed. Quick and
        lock-free, so a signal handler may call it: the server's SIGTERM, while it drains its requests."""
        self._closed = True

    def close(self, timeout: float = 30.0) -> None:
        """Refuse writes, commit what is queued, then stop; after ``timeout`` seconds the commit under way
        is given up before its swap (nothing of it is kept) and what is still queued fails, so the thread
        has ended when this returns (a thread left embedding while the interpreter exits aborts it)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("jisr: stopping the commit of API writes under way; what it stored is taken back")
            self._stopping.set()
            with self._cond:
                self._cond.notify()
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)  # this thread and those it starts
        except (OSError, AttributeError):
            pass
        while True:
            with self._cond:
                while not self._queue and not self._rescan and not self._closed:
                    self._cond.wait()
                if self._stopping.is_set():
                    for _, receipt in self._queue:
                        receipt._settle(None, "the write was not committed: the server is stopping")
                    self._queue = []
                if not self._queue and not self._rescan:
                    return
                wait = self._first + self.interval - time.monotonic()
                if wait > 0 and not self._closed:
                    self._cond.wait(wait)
                    continue
                changes, receipts = self._take()
                self._rescan = False
            generation, error, failure = self._commit(changes)
            for receipt in receipts:
                receipt._settle(generation, error, failure)

    def _unplaced(self, exc: BaseException) -> str:
        """``exc``'s message with the index's folder said as INDEX: a writer over HTTP is told why, never where
        the server keeps its files."""
        return str(exc).replace(str(self.index_dir.resolve()), "INDEX").replace(str(self.index_dir), "INDEX")

    def _take(self) -> tuple[dict[str, dict | None], list[Receipt]]:
        """The queued writes of the next commit, oldest first, up to ``max_documents`` documents (at least one
        write); a later write of the same id wins. Writes left queued are due at once."""
        changes: dict[str, dict | None] = {}
        receipts: list[Receipt] = []
        while self._queue and (not receipts or len(changes) + len(self._queue[0][0]) <= self.max_documents):
            more, receipt = self._queue.pop(0)
            changes.update(more)
            receipts.append(receipt)
        if self._queue:
            self._first = time.monotonic() - self.interval
        return changes, receipts

    def _commit(self, changes: dict[str, dict | None]) -> tuple[int | None, str | None, type[Error]]:
        """(the generation, None, Error) once committed, or (None, why not, the kind of failure: IndexBusy when
        another build held the index's lock, DiskFull when the disk had no room, else Error)."""
        from jisr.index.commit import generation

        started = time.monotonic()
        while True:
            try:
                report = self._build(lambda: submitted.apply(self.index_dir, changes), self._stopping)
                break
            except IndexBusy as exc:  # a `jisr build` of the same folder: this commit follows it, for a while
                waited = time.monotonic() - started
                if waited >= self.lock_wait or self._closed:  # a stopping server waits for no build
                    self.failures += 1
                    log.warning("jisr: API writes not committed: %s", exc)  # the log names the folder and pid
                    return (
                        None,
                        (
                            f"the write was not committed: another build (a `jisr build` of this index) "
                            f"held its lock for the {waited:.0f} s a write waits; send it again once that "
                            "build is done"
                        ),
                        IndexBusy,
                    )
                time.sleep(0.2)
            except DiskFull as exc:  # nothing was committed: the last commit is still searched
                self.failures += 1
                log.warning("jisr: API writes not committed: %s", exc)  # the log names the folder
                return (
                    None,
                    (
                        "the write was not committed: the disk is full where the index is kept; the last "
                        "commit is still searched: free some space and send the write again"
                    ),
                    DiskFull,
                )
            except Error as exc:
                self.failures += 1
                log.warning("jisr: API writes not committed: %s", exc)  # the log keeps the paths
                return None, f"the write was not committed: {self._unplaced(exc)}", Error
            except Exception as exc:  # noqa: BLE001  (said to the writer; the server goes on)
                self.failures += 1
                log.exception("jisr: a commit of documents sent over the API failed")
                return None, f"the write was not committed: {type(exc).__name__}: {self._unplaced(exc)}", Error
        self.commits += 1
        self.documents += len(changes)
        self.embedded += getattr(report, "embedded", 0)
        gen = generation(self.index_dir)
        try:
            self._searched()
        except Exception:  # noqa: BLE001  (the commit is made; following picks it up)
            log.warning("jisr: commit %s is made but could not be opened yet", gen, exc_info=True)
        log.info(
            "jisr: committed %s as commit %s",
            f"{len(changes)} documents sent over the API" if changes else "the corpus folder's changes",
            gen,
        )
        return gen, None, Error
