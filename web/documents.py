"""The document API, /api/documents: add, replace and delete documents of the served index.

Each write is answered once the commit that holds it is on the disk and searched
(:mod:`jisr.index.intake`): a 2xx means a killed server loses nothing of it, and a following
search finds it. Writes need the server's API token (:mod:`jisr.web.access`).
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, current_app, jsonify, request

from jisr.corpus import submitted
from jisr.corpus.readers import RecordFields, archives
from jisr.errors import DiskFull, Error, IndexBusy
from jisr.web import bulk as bulks
from jisr.web.api import error, index_or_503, json_body

bp = Blueprint("documents", __name__)
COMMIT_WAIT = 300.0  # seconds a write request waits for its commit
BUSY_RETRY_AFTER = 10  # seconds a write refused while a `jisr build` holds the index's lock is told to wait


@bp.before_request
def _limits():
    """A write is refused before its body is read unless it carries the token; a document may be far larger
    than a search, so the size limit is the document API's own."""
    from jisr.web.access import write_refusal

    if request.method != "GET":
        refused = write_refusal()
        if refused:
            return error(*refused)
    request.max_content_length = current_app.config["MAX_DOCUMENT_BYTES"]


def _intake(index):
    """The served index's one writer, started with the first write, and the slots of waiting writes."""
    from jisr.web import writer

    app = current_app._get_current_object()
    state = app.extensions["jisr"]
    intake = writer(app)
    with state["lock"]:
        if state.get("writes") is None:
            state["writes"] = threading.BoundedSemaphore(app.config["WRITE_REQUESTS"])
        return intake, state["writes"]


def _slot():
    """(the index's writer, the slot this request holds until it releases it) or (None, the error response)."""
    index, unavailable = index_or_503()
    if unavailable:
        return None, unavailable
    intake, writes = _intake(index)
    if not writes.acquire(blocking=False):
        response = error(
            503,
            "overloaded",
            f"{current_app.config['WRITE_REQUESTS']} writes are waiting for their "
            "commit already: send this one again shortly, or many documents "
            "at once with POST /api/documents",
        )
        response.headers["Retry-After"] = "1"
        return None, response
    return (intake, writes), None


def _committed(intake, changes: dict[str, dict | None]):
    """Commit ``changes``; (generation, None) once durable and searched, or (None, the error response)."""
    try:
        receipt = intake.submit(changes)
    except Error as exc:  # stopping
        return None, error(503, "unavailable", str(exc))
    try:
        return receipt.wait(COMMIT_WAIT), None
    except TimeoutError as exc:
        return None, error(503, "not_committed", f"{exc}: GET /api/documents/<id> tells")
    except IndexBusy as exc:  # another build held the lock longer than the writer_lock_wait setting
        response = error(503, "busy", str(exc))
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return None, response
    except DiskFull as exc:  # nothing committed, the last commit still searched: a write fits once space is freed
        return None, error(507, "disk_full", str(exc))
    except Error as exc:
        return None, error(500, "not_committed", str(exc))


def _write(changes: dict[str, dict | None]):
    """Commit ``changes`` in a slot of the waiting writes; (generation, None), or (None, the error response)."""
    slot, refused = _slot()
    if refused:
        return None, refused
    intake, writes = slot
    try:
        return _committed(intake, changes)
    finally:
        writes.release()


def _corpus_owned(index, doc_id: str) -> bool:
    """Whether ``doc_id`` is a document of the corpus folder (a file's), which only the folder changes."""
    return doc_id in index.manifest["files"] and not submitted.holds(index.path, doc_id)


def _utf8_path() -> None:
    """Nothing if the request's path is UTF-8, else ValueError naming the first byte that is not. Werkzeug turns
    such bytes into U+FFFD, which would make another id of them: the path is checked as it was sent."""
    sent = request.environ.get("PATH_INFO", "").encode("latin-1", "replace")  # WSGI: the path's bytes as latin-1
    try:
        sent.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"a document id must be UTF-8: the path holds the byte {sent[exc.start]:#04x} "
            f"(%{sent[exc.start]:02X}), which is not"
        ) from None


def _document_id(doc_id: str) -> str:
    """The id the URL names, in NFC (:func:`jisr.corpus.submitted.check_id`), or ValueError saying why not."""
    _utf8_path()
    return submitted.check_id(doc_id)


def _checked(doc_id: str):
    """(the id in NFC, None) if ``doc_id`` may be written, else (None, the error response)."""
    try:
        doc_id = _document_id(doc_id)
    except ValueError as exc:
        return None, error(400, "bad_request", str(exc))
    index, unavailable = index_or_503()
    if unavailable:
        return None, unavailable
    if _corpus_owned(index, doc_id):
        return None, error(
            409,
            "conflict",
            f"{doc_id!r} is a file of the corpus folder: change or delete the file "
            "and rebuild, or give this document another id",
        )
    return doc_id, None


def _body(index, doc_id: str) -> dict:
    """The stored form of the PUT's document: a JSON body, or a file uploaded as multipart field ``file``, read
    now with the index's record fields and the inflation limits of the server's settings."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValueError("upload the document as the multipart field 'file'")
        limits = archives.InflationLimits.of(current_app.extensions["jisr.settings"])
        return submitted.from_upload(
            doc_id, upload.filename or "", upload.read(), RecordFields.recorded(index.manifest), limits
        )
    if not request.is_json:
        raise ValueError(
            'send the document as JSON ({"title": ..., "text": ..., "fields": {...}}) with '
            "Content-Type: application/json, or upload a file as multipart field 'file'"
        )
    return submitted.from_json(doc_id, json_body())  # its QueryError is a ValueError


@bp.get("/api/documents/<doc_id:doc_id>")
def get(doc_id: str):
    """A whole document as the index holds it (also at /api/doc/<id>, its first address)."""
    from jisr.web.api import document

    try:
        _utf8_path()  # any other id may be a corpus file's: only a document API write must be one it can store
    except ValueError as exc:
        return error(400, "bad_request", str(exc))
    return document(doc_id)


@bp.put("/api/documents/<doc_id:doc_id>")
def put(doc_id: str):
    """Add or replace one document."""
    doc_id, conflict = _checked(doc_id)
    if conflict:
        return conflict
    index, _ = index_or_503()
    try:
        stored = _body(index, doc_id)
    except archives.TooInflated as exc:
        return error(413, "too_large", f"the uploaded file is refused: {exc}; nothing was stored")
    except submitted.NoText as exc:
        return error(422, "no_text", f"{exc}; nothing was stored")
    except ValueError as exc:
        return error(400, "bad_request", str(exc))
    existed = submitted.holds(index.path, doc_id)
    generation, failed = _write({doc_id: stored})
    if failed:
        return failed
    response = jsonify(id=doc_id, result="replaced" if existed else "created", generation=generation)
    response.status_code = 200 if existed else 201
    return response


@bp.delete("/api/documents/<doc_id:doc_id>")
def delete(doc_id: str):
    doc_id, conflict = _checked(doc_id)
    if conflict:
        return conflict
    index, _ = index_or_503()
    if not submitted.holds(index.path, doc_id):
        return error(404, "not_found", f"no document {doc_id!r} was sent to this index")
    generation, failed = _write({doc_id: None})
    if failed:
        return failed
    return jsonify(id=doc_id, result="deleted", generation=generation)


@bp.post("/api/documents")
def bulk():
    """Many documents at once, one JSON object per line ({"id", "title", "text", "fields"}), committed in parts
    (:mod:`jisr.web.bulk`): each line is reported, and only what was committed is a 2xx."""
    index, unavailable = index_or_503()
    if unavailable:
        return unavailable
    config = current_app.config
    body = request.get_data(cache=False)
    if bulks.count(body) > config["BULK_MAX_LINES"]:
        return error(
            413,
            "too_large",
            f"a bulk load holds at most {config['BULK_MAX_LINES']} lines "
            "(JISR_BULK_MAX_LINES): send the rest in another request",
        )
    lines, bad = bulks.read(
        body, lambda doc_id: _corpus_owned(index, doc_id), lambda doc_id: submitted.holds(index.path, doc_id)
    )
    del body
    if not lines:
        response = jsonify(
            error="bad_request",
            message='no line of the body is a document ({"id": ..., "title": ..., "text": ...} per line)',
            errors=bad[: bulks.ERRORS_SHOWN],
        )
        response.status_code = 400
        return response
    slot, refused = _slot()
    if refused:
        return refused
    intake, writes = slot
    outcomes: dict[int, dict] = {}
    retry_after = None
    pace = bulks.Pace(config["BULK_COMMIT_DOCUMENTS"], config["BULK_COMMIT_SECONDS"])
    try:
        for part in pace.parts(lines):
            started = time.monotonic()
            changes = {line.id: line.stored for line in part}
            generation, failed = _committed(intake, changes)
            if failed:
                outcomes.update((line.number, {"status": failed.status_code, **failed.get_json()}) for line in part)
                retry_after = failed.headers.get("Retry-After")
                break
            outcomes.update((line.number, {"generation": generation}) for line in part)
            pace.took(len(changes), time.monotonic() - started)
    finally:
        writes.release()
    status, answer = bulks.report(lines, bad, outcomes)
    response = jsonify(answer)
    response.status_code = status
    if retry_after and status >= 500:
        response.headers["Retry-After"] = retry_after
    return response
