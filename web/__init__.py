"""The Flask app: a search page for people and a JSON API for programs.

``create_app`` is configured from the settings (:mod:`jisr.settings`: the command line, JISR_* environment
variables, jisr.toml), with the keys of its ``config`` argument over them, and loads the model once, when the
app is made, never at import. Requests share one :class:`jisr.api.Index` that follows the folder's commits:
each request is answered from one commit, the newest when it began (:mod:`jisr.answers.following`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import PathConverter

from jisr.answers import cache
from jisr.index import intake
from jisr.settings import Settings, app_keys, current
from jisr.web import access, admission, documents


def _read_access():
    refused = access.read_refusal()
    if refused:
        from jisr.web.api import error

        return error(*refused)


class DocumentId(PathConverter):
    """A document id in a path: anything, line breaks included (Werkzeug's ``path`` stops at one), so that an id
    a client cannot use reaches the endpoint and is told why (400) instead of "no API endpoint" (404)."""

    regex = "[^/](?s:.*?)"


def create_app(config: Mapping[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Make the app from ``settings`` (default: this process's, :func:`jisr.settings.current`), with
    ``config``'s keys over them. Keys that are settings (validated as settings; see ``jisr config``): INDEX
    (also an open :class:`jisr.api.Index`), MODEL, MODEL_CACHE, MILVUS_URI, MILVUS_TOKEN, MEMORY_BUDGET;
    RUNNING_SEARCHES, QUEUE_DEPTH, QUEUE_WAIT (web/admission.py); MAX_CONTENT_LENGTH; API_TOKEN, READ_TOKEN
    (web/access.py), MAX_DOCUMENT_BYTES, WRITE_REQUESTS, COMMIT_INTERVAL, WRITER_LOCK_WAIT (web/documents.py);
    SNAPSHOT_KEEP (web/snapshots.py); BULK_COMMIT_DOCUMENTS, BULK_COMMIT_SECONDS, BULK_MAX_LINES (web/bulk.py);
    CACHE_BYTES (jisr.answers.cache); SERVE_FILES (web/page.py). Any other key is Flask's."""
    given = dict(config or {})
    chosen = settings or current()
    opened = given.get("INDEX") if not isinstance(given.get("INDEX"), (str, os.PathLike, type(None))) else None
    if opened is not None:  # an open Index: the setting shows its folder, from where the folder was named
        if os.path.abspath(opened.path) == os.path.abspath(chosen.runtime.index):
            del given["INDEX"]
        else:
            given["INDEX"] = str(opened.path)
    names = {key: name for name, key in app_keys().items()}
    chosen = chosen.but({names[key]: given.pop(key) for key in list(given) if key in names}, "create_app config")
    app = Flask(__name__)
    # "/api//search" is a 404, not a redirect: Werkzeug builds that redirect's URL from the
    # request's Host header, which anyone can set.
    app.url_map.merge_slashes = False
    app.url_map.converters["doc_id"] = DocumentId
    app.config.update(
        chosen.app_config(),
        SEND_FILE_MAX_AGE_DEFAULT=24 * 3600,  # the style sheet and icon: browsers keep them a day
        COMPRESS_MIMETYPES=["text/html", "text/css", "application/json", "image/svg+xml"],
    )
    app.config.update(given)
    if opened is not None:
        app.config["INDEX"] = opened
    app.json.ensure_ascii = False  # Arabic as UTF-8, not six-byte \uXXXX escapes (as Elasticsearch writes it)
    app.extensions["jisr.settings"] = chosen

    from jisr.api import Index

    gate = admission.Admission(app.config["RUNNING_SEARCHES"], app.config["QUEUE_DEPTH"], app.config["QUEUE_WAIT"])
    state = app.extensions["jisr"] = {
        "index": None,
        "unavailable": None,
        "admission": gate,
        "intake": None,
        "lock": threading.Lock(),
    }
    if isinstance(app.config["INDEX"], Index):
        state["index"] = _cached(app.config["INDEX"], app.config)
    elif not _open(app.config, state):  # served as soon as a build commits it
        threading.Thread(target=_open_when_built, args=(app.config, state), name="jisr-wait", daemon=True).start()

    from jisr.web import api, configuration, metrics, page, snapshots

    metrics.install(app)  # first: its clock starts before any other hook can answer
    from flask_compress import Compress

    Compress(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(configuration.bp)
    app.register_blueprint(snapshots.bp)
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
            state["intake"] = intake.Intake.for_index(
                state["index"],
                app.config["MILVUS_URI"],
                app.config["MILVUS_TOKEN"],
                interval=app.config["COMMIT_INTERVAL"],
                lock_wait=app.config["WRITER_LOCK_WAIT"],
                max_documents=app.config["BULK_COMMIT_DOCUMENTS"],
                nice=app.extensions["jisr.settings"].serve.writer_nice,
            )
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
        state["index"] = _cached(
            Index.open(
                config["INDEX"],
                config["MODEL"],
                model_cache=config["MODEL_CACHE"],
                milvus_uri=config["MILVUS_URI"],
                milvus_token=config["MILVUS_TOKEN"],
                warm=True,
                follow=True,
                memory_budget=config["MEMORY_BUDGET"] or None,
            ),
            config,
        )
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
    # The page's one script (static/suggest.js: suggestions as one types) and its style are files: nothing
    # inline may run or apply, and the script may only ask this server.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
