"""Admission control and query budgets: a busy server refuses at once with 503, cheap requests never wait."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack

import pytest

from jisr.web.admission import Admission, Overloaded
from tests.conftest import serving


def _hold(gate: Admission) -> tuple[threading.Thread, threading.Event]:
    """A thread that runs as an admitted search until the returned event is set."""
    entered, release = threading.Event(), threading.Event()

    def run():
        with gate.admit():
            entered.set()
            release.wait()

    thread = threading.Thread(target=run)
    thread.start()
    assert entered.wait(120)
    return thread, release


def _until(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_a_full_queue_refuses_at_once_and_a_waiter_runs_when_a_slot_frees():
    gate = Admission(running=1, depth=1, wait=60)
    holder, release = _hold(gate)
    outcome = []

    def waiter():
        with gate.admit():
            outcome.append("ran")

    waiting = threading.Thread(target=waiter)
    waiting.start()
    _until(lambda: gate.state()["waiting"] == 1)
    assert gate.state() | {"refused": 0} == {
        "running": 1,
        "waiting": 1,
        "max_running": 1,
        "depth": 1,
        "wait_s": 60,
        "refused": 0,
    }
    with pytest.raises(Overloaded) as refused:
        with gate.admit():
            pytest.fail("a third search ran past a full queue")
    assert refused.value.retry_after >= 1 and "busy" in str(refused.value)
    release.set()
    holder.join(10)
    waiting.join(10)
    assert outcome == ["ran"] and gate.state()["refused"] == 1 and gate.state()["running"] == 0


def test_a_search_that_waits_too_long_is_refused_and_frees_its_place():
    gate = Admission(running=1, depth=4, wait=0.05)
    holder, release = _hold(gate)
    with pytest.raises(Overloaded, match="waited"):
        with gate.admit():
            pytest.fail("ran while the only slot was held")
    assert gate.state()["waiting"] == 0
    release.set()
    holder.join(10)
    with gate.admit():
        assert gate.state()["running"] == 1


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.mark.slow
def test_a_busy_server_answers_503_with_retry_after_and_still_answers_bad_requests(seed_searcher):
    from jisr.api import Index
    from jisr.web import create_app

    app = create_app({"INDEX": Index(seed_searcher), "QUEUE_DEPTH": 0})
    gate = app.extensions["jisr"]["admission"]
    with serving(app) as base, ExitStack() as busy:
        for _ in range(gate.running):  # every slot taken, no queue: the next search is refused
            busy.enter_context(gate.admit())
        status, headers, body = _get(base + "/api/search?q=aircraft+carrier")
        answer = json.loads(body)
        assert status == 503 and answer["error"] == "overloaded" and int(headers["Retry-After"]) >= 1, answer
        status, headers, body = _get(base + "/?q=aircraft+carrier&ui=en")
        assert status == 503 and "busy" in body.decode() and int(headers["Retry-After"]) >= 1
        status, _, body = _get(base + "/api/search?q=carrier&k=0")  # invalid: answered, not queued
        assert status == 400 and b"k must be" in body
        status, _, body = _get(base + "/healthz")
        queue = json.loads(body)["queue"]
        assert status == 200 and queue["running"] == gate.running and queue["refused"] == 2, queue
    with serving(app) as base:
        assert _get(base + "/api/search?q=aircraft+carrier")[0] == 200


@pytest.mark.slow
def test_a_long_query_is_cut_at_the_token_budget_and_says_so(seed_searcher):
    tokenizer = seed_searcher.model.tokenizer
    budget = seed_searcher.query_tokens
    short = seed_searcher.search("Which French aircraft carrier sailed east?", k=3).to_json()
    assert "truncated" not in short and 0 < short["query_tokens"] <= budget
    long_query = " ".join(["Which French aircraft carrier did Putin order the navy to contact?"] * 15)[:999]
    answer = seed_searcher.search(long_query, k=3).to_json()
    read = answer["truncated"]["read"]
    assert answer["query_tokens"] > budget and long_query.startswith(read) and len(read) < len(long_query)
    assert len(tokenizer(read, add_special_tokens=False)["input_ids"]) == budget
    assert f"only its first {budget}" in answer["truncated"]["message"] and answer["results"]
