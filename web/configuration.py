"""GET /api/settings: the settings a running server was started with, as `jisr config --json` prints them.

An operator asks a live server what it runs with (as Elasticsearch's ``GET _cluster/settings``), rather than
reading its environment and files by hand. Settings tell a caller about the server's limits and files, so
the endpoint needs the write token (:mod:`jisr.web.access`); secrets are masked in any case.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from jisr.web.access import write_refusal
from jisr.web.api import error

bp = Blueprint("configuration", __name__)


@bp.get("/api/settings")
def settings():
    """Every setting with its value, unit, source and help (secrets masked); 401/403 without the write token."""
    refused = write_refusal()
    if refused:
        return error(*refused)
    return jsonify(settings=current_app.extensions["jisr.settings"].describe())
