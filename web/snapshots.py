"""/api/snapshots: take a snapshot of the served index, and list those kept (:mod:`jisr.index.snapshot`).

A snapshot of a running server's index is taken between two of its commits (it waits for the one in progress,
as a `jisr build` would), into ``INDEX/snapshots/`` on the index's own file system, so it is hard links and
takes about no time; the oldest beyond the snapshot_keep setting are removed. Both routes need the write token:
a snapshot writes, and the list says what a server holds. Answers name snapshots, never paths on the server.
"""

from __future__ import annotations

import threading

from flask import Blueprint, current_app, jsonify

from jisr.errors import Error, IndexBusy
from jisr.index import snapshot
from jisr.web.access import write_refusal
from jisr.web.api import error, index_or_503

bp = Blueprint("snapshots", __name__)
BUSY_RETRY_AFTER = 10  # seconds a snapshot refused while another build holds the index's lock is told to wait
_ONE_AT_A_TIME = threading.Lock()  # a second request waits for the first's snapshot rather than racing its pruning


@bp.before_request
def _token():
    refused = write_refusal()
    if refused:
        return error(*refused)
    return None


@bp.get("/api/snapshots")
def listing():
    """The snapshots kept, oldest first."""
    index, unavailable = index_or_503()
    if unavailable:
        return unavailable
    return jsonify(snapshots=snapshot.kept(index.path))


@bp.post("/api/snapshots")
def take():
    """A snapshot of the live commit, answered once it is on the disk, with the list of those kept."""
    index, unavailable = index_or_503()
    if unavailable:
        return unavailable
    try:
        with _ONE_AT_A_TIME:
            taken = snapshot.take_kept(
                index.path, current_app.config["SNAPSHOT_KEEP"], current_app.config["WRITER_LOCK_WAIT"]
            )
    except IndexBusy as exc:
        response = error(503, "busy", str(exc))
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return response
    except snapshot.SnapshotError as exc:
        current_app.logger.warning("jisr: a snapshot failed: %s", exc)  # the log has the paths; the answer does not
        message = "the disk is full" if exc.disk_full else "it could not be written"
        return error(
            507 if exc.disk_full else 500, "not_taken", f"the snapshot was not taken: {message}; the index is unchanged"
        )
    except Error as exc:  # the index cannot be read (damaged): said as `jisr check` would, without its path
        current_app.logger.warning("jisr: a snapshot failed: %s", exc)
        return error(
            500,
            "not_taken",
            "the snapshot was not taken: the index's live commit cannot be read; `jisr check` on the server says why",
        )
    response = jsonify(snapshot=taken.to_json(), snapshots=snapshot.kept(index.path))
    response.status_code = 201
    return response
