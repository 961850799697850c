"""GET /metrics: what an operator graphs and alerts on, in Prometheus' text format (prometheus-client).

Requests and their latency by endpoint and status are counted as they are answered; the rest (the
search queue and its refusals, the writer's queue and commits, documents, passages, the commit
searched, the result cache) is read from the app's state when Prometheus scrapes, so nothing is
counted twice and a figure is never stale. Each app has its own registry: two apps in one process
(the tests) do not share counts.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

bp = Blueprint("metrics", __name__)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _State:
    """The app's figures, read at each scrape."""

    def __init__(self, state: dict):
        self.state = state

    def collect(self):
        state = self.state
        queue = state["admission"].state()
        yield GaugeMetricFamily("jisr_searches_running", "searches running now", value=queue["running"])
        yield GaugeMetricFamily("jisr_searches_waiting", "searches waiting for the encoder", value=queue["waiting"])
        yield CounterMetricFamily(
            "jisr_searches_refused", "searches refused with 503 (the queue was full)", value=queue["refused"]
        )
        intake = state.get("intake")
        yield GaugeMetricFamily(
            "jisr_write_queue_documents", "documents waiting for their commit", value=intake.depth if intake else 0
        )
        yield CounterMetricFamily(
            "jisr_commits", "commits of documents sent over the API", value=intake.commits if intake else 0
        )
        yield CounterMetricFamily(
            "jisr_documents_written",
            "documents added, replaced or deleted over the API",
            value=intake.documents if intake else 0,
        )
        yield CounterMetricFamily(
            "jisr_texts_embedded", "passages and sentences the writer embedded", value=intake.embedded if intake else 0
        )
        yield CounterMetricFamily(
            "jisr_commit_failures",
            "commits of documents sent over the API that failed",
            value=intake.failures if intake else 0,
        )
        index = state["index"]
        if index is not None:
            searcher = index.searcher
            manifest = searcher.index.manifest
            yield GaugeMetricFamily(
                "jisr_documents", "documents in the commit searched", value=manifest["counts"]["documents"]
            )
            yield GaugeMetricFamily("jisr_passages", "passages in the commit searched", value=searcher.size)
            yield GaugeMetricFamily("jisr_generation", "the commit searched", value=manifest.get("generation") or 0)
            cache = index.cache
            if cache is not None:
                yield CounterMetricFamily(
                    "jisr_cache_hits", "searches answered from the result cache", value=cache.hits
                )
                yield CounterMetricFamily(
                    "jisr_cache_misses", "searches the result cache did not hold", value=cache.misses
                )
                yield GaugeMetricFamily(
                    "jisr_cache_bytes", "bytes of answers the result cache holds", value=cache.bytes
                )


def install(app) -> None:
    """Count ``app``'s requests into a registry of its own, and serve it at /metrics."""
    registry = CollectorRegistry()
    requests = Counter("jisr_requests", "requests answered", ["endpoint", "status"], registry=registry)
    latency = Histogram(
        "jisr_request_seconds", "time to answer a request", ["endpoint"], buckets=BUCKETS, registry=registry
    )
    registry.register(_State(app.extensions["jisr"]))
    app.extensions["jisr"]["metrics"] = registry

    @app.before_request
    def started():
        g.jisr_started = time.perf_counter()

    @app.after_request
    def answered(response):
        # the route's pattern, not the path: one series per endpoint however many document ids are asked for
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        requests.labels(endpoint, str(response.status_code)).inc()
        if "jisr_started" in g:
            latency.labels(endpoint).observe(time.perf_counter() - g.jisr_started)
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(current_app.extensions["jisr"]["metrics"]), mimetype=CONTENT_TYPE_LATEST)
