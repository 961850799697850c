"""Who may write and who may read: bearer tokens, compared in constant time.

Writes change what every reader sees, so they are off until a token is configured (the api_token
setting: JISR_API_TOKEN, or ``jisr serve --api-token-file``): a server started without one answers them 403
saying how to turn them on. Reads are open, as a search page is, unless a read token is configured
(``--read-token-file``); the write token reads too. /healthz stays open for load balancers.
"""

from __future__ import annotations

import hmac

from flask import current_app, request

OPEN = ("/healthz", "/static/")  # never behind the read token


def _given() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _matches(given: str | None, *tokens: str | None) -> bool:
    ok = False
    for token in tokens:  # every configured token is compared, whichever matches
        if token is not None and given is not None:
            ok |= hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))
    return ok


def write_refusal() -> tuple[int, str, str] | None:
    """(status, code, message) when this request may not write, else None."""
    token = current_app.config.get("API_TOKEN")
    if not token:
        return (
            403,
            "writes_disabled",
            (
                "writes are turned off on this server: start it with JISR_API_TOKEN set "
                "(or `jisr serve --api-token-file FILE`) and send the token as "
                "'Authorization: Bearer TOKEN'"
            ),
        )
    given = _given()
    if given is None:
        return 401, "unauthorized", "a write needs the header 'Authorization: Bearer TOKEN' (the server's API token)"
    if not _matches(given, token):
        return 403, "forbidden", "the token given is not this server's API token"
    return None


def read_refusal() -> tuple[int, str, str] | None:
    """(status, code, message) when a read token is configured and this request does not carry it."""
    token = current_app.config.get("READ_TOKEN")
    if not token or request.path.startswith(OPEN) or request.path in OPEN:
        return None
    given = _given()
    if given is None:
        return 401, "unauthorized", "this server's reads need the header 'Authorization: Bearer TOKEN'"
    if not _matches(given, token, current_app.config.get("API_TOKEN")):
        return 403, "forbidden", "the token given is not one of this server's tokens"
    return None
