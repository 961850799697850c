"""The Flask app: a search page for people and a JSON API for programs.

``create_app`` takes its configuration as an argument (or from JISR_* environment
variables) and loads the model once, when the app is made, never at import. Requests
share one :class:`jisr.api.Index` that follows the folder's commits: each request is
answered from one commit, the newest when it began (:mod:`jisr.answers.following`).
"""
from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask

from jisr.answers import cache
from jisr.errors import ConfigError
from jisr.index import intake
from jisr.web import access, admission, documents



def _setting(name: str, kind: type, default, low: float = 0):
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a {'whole ' if kind is int else ''}number") from None
    if not value >= low:  # NaN fails this too
        raise ConfigError(f"{name}={text!r} must be at least {low}")
    return value


def _token(name: str) -> str | None:
    token = os.environ.get(name, "").strip()
    return access.check(token, name) if token else None


def _read_access():
    refused = access.read_refusal()
    if refused:
        from jisr.web.api import error

        return error(*refused)


def create_app(config: dict | None = None) -> Flask:
    """Make the app. Config keys: INDEX (an open :class:`jisr.api.Index`, or the folder of one to open
    with MODEL, MODEL_CACHE, MILVUS_URI, MILVUS_TOKEN); RUNNING_SEARCHES, QUEUE_DEPTH, QUEUE_WAIT for
    admission (web/admission.py); MAX_CONTENT_LENGTH; API_TOKEN, READ_TOKEN (web/access.py),
    MAX_DOCUMENT_BYTES, WRITE_REQUESTS, COMMIT_INTERVAL for the document API (web/documents.py); CACHE_BYTES
    (jisr.answers.cache); SERVE_FILES (web/page.py); MEMORY_BUDGET, bytes of resident memory an INDEX folder
    opened here may hold (jisr.index.local.warmup)."""
    app = Flask(__name__)
    # "/api//search" is a 404, not a redirect: Werkzeug builds that redirect's URL from the
    # request's Host header, which anyone can set.
    app.url_map.merge_slashes = False
    app.config.update(
        INDEX=os.environ.get("JISR_INDEX", "index"),
        MODEL=os.environ.get("JISR_MODEL") or None,
        MODEL_CACHE=os.environ.get("JISR_MODEL_CACHE") or None,
        MILVUS_URI=os.environ.get("JISR_MILVUS_URI") or None,  # an index on Milvus: see jisr.index.milvus.store
        MILVUS_TOKEN=os.environ.get("MILVUS_TOKEN") or None,
        MEMORY_BUDGET=_setting("JISR_MEMORY_BUDGET_BYTES", int, 0, low=0) or None,  # see jisr.index.local.warmup
        JSON_AS_ASCII=False,
        # A search request is a few hundred bytes; larger bodies are refused (413) before they are read.
        MAX_CONTENT_LENGTH=_setting("JISR_MAX_BODY_BYTES", int, 64 * 1024, low=1),
        RUNNING_SEARCHES=_setting("JISR_RUNNING_SEARCHES", int, admission.RUNNING, low=1),
        QUEUE_DEPTH=_setting("JISR_QUEUE_DEPTH", int, admission.DEPTH),
        QUEUE_WAIT=_setting("JISR_QUEUE_WAIT", float, admission.WAIT_SECONDS),
        # The document API (web/documents.py): off until a token is set (web/access.py).
        API_TOKEN=_token("JISR_API_TOKEN"),
        READ_TOKEN=_token("JISR_READ_TOKEN"),
        MAX_DOCUMENT_BYTES=_setting("JISR_MAX_DOCUMENT_BYTES", int, documents.MAX_DOCUMENT_BYTES, low=1),
        WRITE_REQUESTS=_setting("JISR_WRITE_REQUESTS", int, documents.WRITE_REQUESTS, low=1),
        COMMIT_INTERVAL=_setting("JISR_COMMIT_INTERVAL", float, intake.INTERVAL, low=0),
        CACHE_BYTES=_setting("JISR_CACHE_BYTES", int, cache.CACHE_BYTES),  # answers of repeated queries; 0: none
        SERVE_FILES=False,  # `jisr serve --serve-files`: the document view offers its original file
        SEND_FILE_MAX_AGE_DEFAULT=24 * 3600,  # the style sheet and icon: browsers keep them a day
        COMPRESS_MIMETYPES=["text/html", "text/css", "application/json", "image/svg+xml"],
    )
    app.config.update(config or {})
    app.json.ensure_ascii = False

    from jisr.api import Index

    gate = admission.Admission(app.config["RUNNING_SEARCHES"], app.config["QUEUE_DEPTH"], app.config["QUEUE_WAIT"])
    state = app.extensions["jisr"] = {"index": None, "unavailable": None, "admission": gate,
                                      "intake": None, "lock": threading.Lock()}
    if isinstance(app.config["INDEX"], Index):
        state["index"] = _cached(app.config["INDEX"], app.config)
    elif not _open(app.config, state):  # served as soon as a build commits it
        threading.Thread(target=_open_when_built, args=(app.config, state), name="jisr-wait", daemon=True).start()

    from jisr.web import api, metrics, page

    metrics.install(app)  # first: its clock starts before any other hook can answer
    from flask_compress import Compress

    Compress(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(page.bp)
    app.before_request(_read_access)
    app.after_request(_security_headers)
    return app


def writer(app: Flask):
    """The one writer of ``app``'s index (:class:`jisr.index.intake.Intake`), started when first asked for:
    by the first write over the API, or by `jisr serve --watch`. None while there is no index yet."""
    state = app.extensions["jisr"]
    with state["lock"]:
        if state["intake"] is None and state["index"] is not None:
            state["intake"] = intake.Intake.for_index(state["index"], app.config["MILVUS_URI"],
                                                      app.config["MILVUS_TOKEN"],
                                                      interval=app.config["COMMIT_INTERVAL"])
        return state["intake"]


def _cached(index, config):
    """``index`` with a result cache of the configured size, unless it has one."""
    if index.cache is None and config["CACHE_BYTES"] > 0:
        index.cache = cache.ResultCache(config["CACHE_BYTES"])
    return index


def _open(config, state: dict) -> bool:
    """Open the index the config names, following its commits, into ``state``: whether it could."""
    from jisr.api import Index
    from jisr.errors import IndexUnavailable

    try:
        state["index"] = _cached(Index.open(config["INDEX"], config["MODEL"], model_cache=config["MODEL_CACHE"],
                                    milvus_uri=config["MILVUS_URI"], milvus_token=config["MILVUS_TOKEN"],
                                    warm=True, follow=True, memory_budget=config["MEMORY_BUDGET"]), config)
    except IndexUnavailable as exc:
        state["unavailable"] = str(exc)
        return False
    state["unavailable"] = None
    return True


def _open_when_built(config, state: dict) -> None:
    """Wait for the index folder's first commit, then serve it (the API answers 503 meanwhile)."""
    from jisr.answers.following import POLL_SECONDS
    from jisr.index import commit

    tried = None
    while True:
        time.sleep(POLL_SECONDS)
        try:
            gen = commit.generation(config["INDEX"])
        except Exception:  # noqa: BLE001  (a damaged CURRENT: the next build replaces it)
            continue
        if gen is None or gen == tried:
            continue
        tried = gen
        try:
            if _open(config, state):
                return
        except Exception as exc:  # noqa: BLE001  (a model that fails to load: said in the 503s)
            state["unavailable"] = f"the index at {config['INDEX']} cannot be searched: {exc}"
            logging.getLogger(__name__).warning("jisr: %s", state["unavailable"])


SECURITY_HEADERS = {
    # The page has no script at all and its style is a file: nothing inline may run or apply.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
