"""Queries -> vectors on one thread, several at a time when several wait.

Every query is encoded on this one thread: fast tokenizers are not thread-safe, and each thread
that calls into torch gets its own OpenMP team, so a web server's request threads would leave
teams spinning on each other's cores. The thread runs
``threads`` intra-op threads (JISR_QUERY_THREADS, default 1): a short query gains little from a
second core and loses much when another process wants it (benchmarks/experiments/contended_latency.py;
figures in benchmarks/results/contended_latency.md and decisions.md).

Queries that arrive while one is being encoded wait and are then encoded together, up to
``batch`` at once: one forward pass streams the model's weights once for all of them, so several
cost less than one each (benchmarks/results/decisions.md).

English (non-Arabic) queries are then centered for the model (:mod:`jisr.answers.centering`).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from jisr.answers.centering import encode_queries, shift
from jisr.answers.query import cut
from jisr.embeddings import Embedder, wrap

BATCH = 8


class QueryEncoder:
    """Encodes queries for any number of threads; each query is cut at ``tokens`` tokens first."""

    def __init__(self, model: Embedder | SentenceTransformer, threads: int | None, tokens: int, batch: int = BATCH):
        self.model, self.threads, self.tokens, self.batch = wrap(model), threads, tokens, batch
        shift(self.model)  # the model's centering is looked up here, not on the first query
        self._waiting: queue.SimpleQueue[tuple[str, Future]] = queue.SimpleQueue()
        self.batches = 0  # forward passes run, for tests and benchmarks
        threading.Thread(target=self._run, name="jisr-encoder", daemon=True).start()

    def read(self, query: str) -> tuple[np.ndarray, str, int]:
        """(embedding, the text read, the query's token count): past ``tokens`` tokens only the text up
        to that token is read, so one query's encoder cost is bounded."""
        done: Future = Future()
        self._waiting.put((query, done))
        return done.result()

    def _run(self) -> None:
        if self.threads:  # None: a model that does not run on torch (USE), which must not set torch's count
            torch.set_num_threads(self.threads)
        while True:
            work = [self._waiting.get()]
            while len(work) < self.batch:
                try:
                    work.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._encode(work)

    def _encode(self, work: list[tuple[str, Future]]) -> None:
        try:
            read = [
                cut(self.model.tokenizer, query, self.tokens) if self.model.tokenizer is not None else (query, 0)
                for query, _ in work
            ]  # a model without a tokenizer (USE) is not cut
            vectors = encode_queries(self.model, [text for text, _ in read])
            self.batches += 1
        except Exception as exc:  # noqa: BLE001 - the callers get it; this thread goes on
            if len(work) > 1:  # one bad query must not fail the others encoded with it
                for item in work:
                    self._encode([item])
            else:
                work[0][1].set_exception(exc)
            return
        for (_, done), (text, count), vector in zip(work, read, vectors):
            done.set_result((vector, text, count))
