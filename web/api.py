"""JSON endpoints: /api/search, /api/suggest, /healthz, /openapi.json. Every error is JSON with a message."""

from __future__ import annotations

import json
import unicodedata

from flask import Blueprint, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from jisr.answers import suggestions
from jisr.answers.request import SearchRequest
from jisr.errors import IndexUnavailable, QueryError
from jisr.web.admission import Overloaded
from jisr.web.openapi import spec
from jisr.web.words import Words, ui_of

bp = Blueprint("api", __name__)


def error(status: int, code: str, message: str):
    response = jsonify(error=code, message=message)
    response.status_code = status
    return response


def index_or_503():
    state = current_app.extensions["jisr"]
    if state["index"] is None:
        return None, error(
            503,
            "no_index",
            f"{state['unavailable']}; the server searches the index as soon as "
            "a build commits it (`jisr serve` builds it itself when there is none)",
        )
    return state["index"], None


def json_body():
    """The request's body as JSON, or QueryError (a 400) saying why it cannot be read."""
    try:
        return json.loads(request.get_data(cache=False))
    except RecursionError:
        raise QueryError("the JSON body is nested too deeply") from None
    except ValueError:  # syntax, bad UTF-8
        raise QueryError("the request body is not valid JSON") from None


def _search_request() -> SearchRequest:
    """The search asked for, by query string (GET) or JSON body (POST), or QueryError saying what is wrong."""
    if request.method == "GET":
        return SearchRequest.from_params(request.args)
    if not request.is_json:
        raise QueryError(
            'send the search as JSON with Content-Type: application/json, e.g. {"q": "French aircraft carrier", "k": 5}'
        )
    body = json_body()
    if not isinstance(body, dict):
        raise QueryError('the JSON body must be an object, e.g. {"q": "...", "k": 5}')
    return SearchRequest.from_params(body)


def overloaded(exc: Overloaded):
    response = error(503, "overloaded", str(exc))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.route("/api/search", methods=["GET", "POST"])
def search():
    try:  # checked before admission: a bad request never waits behind searches
        asked = _search_request()
    except QueryError as exc:
        return error(400, "bad_request", str(exc))
    index, unavailable = index_or_503()
    if unavailable:
        return unavailable
    try:
        with current_app.extensions["jisr"]["admission"].admit():
            return jsonify(index.search(asked).to_json())
    except Overloaded as exc:
        return overloaded(exc)
    except QueryError as exc:  # what only the index can tell: a filter or facet on a field it does not have
        return error(400, "bad_request", str(exc))


@bp.get("/api/suggest")
def suggest():
    """Terms that complete the word being typed, most frequent first: the page's search box offers them. Not
    admitted behind searches: a look-up in memory, answered in far less time than a search waits in the queue."""
    unknown = sorted(set(request.args) - {"q", "limit"})
    if unknown:
        return error(400, "bad_request", f"unknown parameter {unknown[0][:40]!r}; a suggestion takes q and limit")
    try:  # checked before the index is asked for, as a search is
        asked = request.args
        prefix, limit = suggestions.checked(asked.get("q", ""), asked.get("limit", suggestions.DEFAULT_LIMIT))
    except QueryError as exc:
        return error(400, "bad_request", str(exc))
    index, unavailable = index_or_503()
    if unavailable:
        return unavailable
    return jsonify(index.suggest(prefix, limit).to_json())


@bp.get("/api/doc/<doc_id:doc_id>")
def document(doc_id: str):
    """A whole document as the index holds it: its passages in reading order. An id is found in either Unicode
    form: the document API stores ids in NFC, a corpus file keeps its name as the file system spells it."""
    index, unavailable = index_or_503()
    if unavailable:
        return unavailable
    passages = index.document(doc_id) or index.document(unicodedata.normalize("NFC", doc_id))
    if not passages:
        return error(404, "not_found", f"no document {doc_id!r} in the index; a result's doc_id names one")
    first = passages[0]
    return jsonify(
        doc_id=doc_id,
        title=first.title,
        source=first.source,
        passages=[
            {"ordinal": p.ordinal, "start": p.start, "end": p.end, "lang": p.lang, "locator": p.locator, "text": p.text}
            for p in passages
        ],
    )


@bp.get("/healthz")
def healthz():
    """Readiness for a load balancer: 200 with the index and the search queue, or 503 with why not."""
    index, unavailable = index_or_503()
    if unavailable:
        return unavailable
    searcher = index.searcher  # one commit for every figure
    manifest = searcher.index.manifest
    return jsonify(
        status="ok",
        ready=True,
        passages=searcher.size,
        documents=manifest["counts"]["documents"],
        model=searcher.model_name,
        index_type=manifest["index"]["type"],
        built_at=manifest["built_at"],
        generation=manifest.get("generation"),
        queue=current_app.extensions["jisr"]["admission"].state(),
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if request.path.startswith("/api/") or request.path in ("/healthz", "/openapi.json"):
        code = (exc.name or "error").lower().replace(" ", "_")
        message = {
            404: f"no API endpoint at {request.path}; see /openapi.json",
            405: f"{request.method} is not allowed on {request.path}",
            413: _too_large(),
        }.get(exc.code, exc.description)
        response = error(exc.code or 500, code, message)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
    return _error_page(exc)


def _too_large() -> str:
    if request.path.startswith("/api/documents"):
        return (
            f"the request body is larger than {current_app.config['MAX_DOCUMENT_BYTES']} bytes, this server's "
            "limit for documents (JISR_MAX_DOCUMENT_BYTES); send a bulk load in several parts"
        )
    return (
        f"the request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes; "
        "a search needs only its query"
    )


_PAGE_ERRORS = {404: "no_page", 405: "wrong_method"}  # what a reader is told, by status (jisr.web.words)


def _error_page(exc: HTTPException):
    """A page path that does not exist (or a wrong method) gets the site's own page, not Werkzeug's."""
    if exc.code not in _PAGE_ERRORS:
        return exc
    words = Words(ui_of(request.args))
    headers = {"Allow": ", ".join(exc.valid_methods)} if exc.code == 405 and getattr(exc, "valid_methods", None) else {}
    return render_template("error.html", words=words, message=getattr(words, _PAGE_ERRORS[exc.code])), exc.code, headers


@bp.app_errorhandler(IndexUnavailable)
def index_unavailable(exc: IndexUnavailable):
    """The store stopped answering mid-request (Milvus down): a 503 the client can retry, with why."""
    return error(503, "index_unavailable", str(exc))


@bp.app_errorhandler(Exception)
def unexpected(exc: Exception):
    current_app.logger.exception("unexpected error")
    return error(500, "internal_error", "the server failed to answer this request; it has been logged")
