"""Locust users for benchmarks/load.py: mixed valid and invalid, English and Arabic searches.

Each user sends its next request as soon as the last is answered (a closed loop, the harshest
for a server of its size), except after a 503, when it waits the Retry-After seconds as a
well-behaved client does; a client that ignores them turns each refusal into another request
at once (measured with 16 such clients: ~500 503s/s that starved the searches they queued behind).
Every request's kind, status and time is written as JSON to the file named by JISR_LOAD_SAMPLES
when locust quits, so load.py computes its own figures per kind.
"""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, events, task

ENGLISH = [
    "Which French aircraft carrier sailed east?",
    "phone call between the presidents",
    "Hollande trip to Washington",
    "strategic bombers",
    "Kremlin meeting",
    "Which city was hit by cruise missiles?",
    "Russian navy orders",
]
ARABIC = [
    "مباحثات هاتفية بين بوتين والرئيس الفرنسي",
    "صواريخ كروز على حلب",
    "وزير الدفاع الروسي",
    "متى يسافر هولاند إلى واشنطن؟",
    "حاملة الطائرات الفرنسية",
    "القاذفات الاستراتيجية",
]
LONG = (" ".join(ENGLISH + ARABIC) * 4)[:999]  # valid, but far over the query token budget
INVALID = [
    ("GET", "/api/search?q=", None),
    ("GET", "/api/search?q=carrier&k=0", None),
    ("GET", "/api/search?q=carrier&mode=fuzzy", None),
    ("GET", "/api/search?q=" + "a" * 1001, None),
    ("POST", "/api/search", b'{"q": '),
    ("POST", "/api/search", b"[" * 5000 + b"]" * 5000),
    ("POST", "/api/search", b'{"q": "\\ud800"}'),
]

samples: list[tuple[str, int, float]] = []


@events.request.add_listener
def _record(name, response_time, response, exception, **_) -> None:
    status = getattr(response, "status_code", 0) or 0
    samples.append((name, 0 if exception is not None and not status else status, response_time))


@events.quitting.add_listener
def _dump(**_) -> None:
    with open(os.environ["JISR_LOAD_SAMPLES"], "w", encoding="utf-8") as f:
        json.dump(samples, f)


class Client(FastHttpUser):
    network_timeout = 60.0
    connection_timeout = 10.0
    retry_after = 0.0

    def wait_time(self) -> float:
        wait, self.retry_after = self.retry_after, 0.0
        return wait

    def _search(self, query: str, kind: str) -> None:
        with self.client.get("/api/search", params={"q": query, "k": 10}, name=kind, catch_response=True) as r:
            r.success()  # statuses are judged by load.py, not by locust
            if r.status_code == 503:
                self.retry_after = float(r.headers.get("Retry-After") or 1)

    @task(4)
    def english(self) -> None:
        self._search(random.choice(ENGLISH), "valid en")

    @task(4)
    def arabic(self) -> None:
        self._search(random.choice(ARABIC), "valid ar")

    @task(1)
    def long(self) -> None:
        self._search(LONG, "valid long")

    @task(2)
    def invalid(self) -> None:
        method, path, body = random.choice(INVALID)
        with self.client.request(
            method, path, data=body, headers={"Content-Type": "application/json"}, name="invalid", catch_response=True
        ) as r:
            r.success()
