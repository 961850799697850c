"""Answers kept for repeated queries: a repeated search costs a dictionary lookup, not an encoder call.

Search pages and programs ask the same questions again (the page's reload, a dashboard's fixed
queries, a popular query). An answer is kept under its request (:class:`jisr.answers.request.SearchRequest`:
the query and its parameters) and the commit that gave it, in least-recently-used order up to a bound in
bytes (the answer's JSON size), and everything is dropped when the commit searched changes: an answer is
never older than the commit it is served with.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jisr.answers.answer import Answer
    from jisr.answers.request import SearchRequest

from jisr.settings import default


class ResultCache:
    """Answers by their request, for one commit at a time; safe to share between threads."""

    def __init__(self, max_bytes: int = default("cache_bytes")):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._answers: OrderedDict[SearchRequest, tuple[Answer, int]] = OrderedDict()
        self._generation: int | None = None
        self.bytes = self.hits = self.misses = self.drops = 0

    def _on(self, generation: int | None) -> None:
        if generation != self._generation:
            self.drops += bool(self._answers)
            self._answers.clear()
            self.bytes, self._generation = 0, generation

    def get(self, generation: int | None, key: SearchRequest) -> Answer | None:
        with self._lock:
            self._on(generation)
            found = self._answers.get(key)
            if found is None:
                self.misses += 1
                return None
            self._answers.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, generation: int | None, key: SearchRequest, answer: Answer) -> None:
        size = len(json.dumps(answer.to_json(), ensure_ascii=False).encode("utf-8")) + 200  # + the key and the entry
        if size > self.max_bytes:
            return
        with self._lock:
            self._on(generation)
            old = self._answers.pop(key, None)
            self.bytes += size - (old[1] if old else 0)
            self._answers[key] = (answer, size)
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self._answers.popitem(last=False)
                self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._answers)
