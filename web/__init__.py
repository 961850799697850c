"""The Flask app: a search page for people and a JSON API for programs.

``create_app`` takes its configuration as an argument (or from JISR_* environment
variables) and loads the model and index once, when the app is made, never at
import. Requests share that one read-only Searcher.
"""
from __future__ import annotations

import os

from flask import Flask

from jisr.web import admission
from jisr.errors import ConfigError



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


def create_app(config: dict | None = None) -> Flask:
    """Make the app. Config keys: INDEX (an open :class:`jisr.api.Index`, or the folder of one to open
    with MODEL, MODEL_CACHE, MILVUS_URI, MILVUS_TOKEN); RUNNING_SEARCHES, QUEUE_DEPTH, QUEUE_WAIT for
    admission (web/admission.py); MAX_CONTENT_LENGTH."""
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
        JSON_AS_ASCII=False,
        # A search request is a few hundred bytes; larger bodies are refused (413) before they are read.
        MAX_CONTENT_LENGTH=_setting("JISR_MAX_BODY_BYTES", int, 64 * 1024, low=1),
        RUNNING_SEARCHES=_setting("JISR_RUNNING_SEARCHES", int, admission.RUNNING, low=1),
        QUEUE_DEPTH=_setting("JISR_QUEUE_DEPTH", int, admission.DEPTH),
        QUEUE_WAIT=_setting("JISR_QUEUE_WAIT", float, admission.WAIT_SECONDS),
    )
    app.config.update(config or {})
    app.json.ensure_ascii = False

    from jisr.api import Index

    index, unavailable = app.config["INDEX"], None
    if not isinstance(index, Index):
        from jisr.errors import IndexUnavailable

        try:
            index = Index.open(index, app.config["MODEL"], model_cache=app.config["MODEL_CACHE"],
                               milvus_uri=app.config["MILVUS_URI"], milvus_token=app.config["MILVUS_TOKEN"], warm=True)
        except IndexUnavailable as exc:
            index, unavailable = None, str(exc)
    gate = admission.Admission(app.config["RUNNING_SEARCHES"], app.config["QUEUE_DEPTH"], app.config["QUEUE_WAIT"])
    app.extensions["jisr"] = {"index": index, "unavailable": unavailable, "admission": gate}

    from jisr.web import api, page

    app.register_blueprint(api.bp)
    app.register_blueprint(page.bp)
    app.after_request(_security_headers)
    return app


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
