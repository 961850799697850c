"""Serving the app on waitress: the port is taken before the model loads, and SIGTERM drains.

A service manager stops a server with SIGTERM; dying at once would drop the requests in
flight. Here SIGTERM closes the listening socket (new connections are refused, so a load
balancer moves on), lets every request already received finish and its answer be sent, for
up to ``drain_seconds``, and then returns.
"""

from __future__ import annotations

import errno
import signal
import socket
import time
from collections.abc import Callable

import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel

from jisr.errors import ServeError
from jisr.settings import default

DRAIN_SECONDS = 30.0
# A connection that sends nothing for request_timeout seconds (a setting) is closed: an incomplete request
# (a Content-Length larger than its body, headers never ended, nothing at all) is not held for waitress's
# default 120 s. Waitress checks every CLEANUP_SECONDS, so such a connection lasts at most the sum. It bounds
# idleness, not a client that trickles a byte at a time: put a reverse proxy in front against those.
CLEANUP_SECONDS = 1.0
SPARE_THREADS = 4  # request threads beyond the admitted searches: bad requests and /healthz never queue


def threads_for(app) -> int:
    """Request threads for ``app``: one per search it admits (running or waiting), one per write waiting for
    its commit, plus spares."""
    return app.config["RUNNING_SEARCHES"] + app.config["QUEUE_DEPTH"] + app.config["WRITE_REQUESTS"] + SPARE_THREADS


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: any free one), or ServeError saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host!r}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is in use: stop what uses it, or pick another --port") from None
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    return sock


def _busy(server) -> bool:
    """Whether a request is queued, running, or has an answer not yet sent."""
    if server.task_dispatcher.queue:
        return True
    return any(
        isinstance(ch, HTTPChannel) and (ch.requests or ch.total_outbufs_len) for ch in list(server._map.values())
    )


def serve(
    app,
    sock: socket.socket,
    threads: int | None = None,
    drain_seconds: float = DRAIN_SECONDS,
    request_timeout: float = default("request_timeout"),
    ready: Callable[[], None] | None = None,
    stopping: Callable[[], None] | None = None,
) -> None:
    """Answer on ``sock`` until SIGTERM (drained) or Ctrl-C; ``ready`` is called once it listens, so
    whatever it announces can be connected to at once; ``stopping`` when SIGTERM comes, in its handler (so
    quick, taking no lock): the writer refuses new writes then, and a bulk load in flight ends after its
    part being committed and is answered while the server drains, rather than outlive the drain."""
    server = waitress.create_server(
        app,
        sockets=[sock],
        threads=threads or threads_for(app),
        ident="jisr",
        channel_timeout=request_timeout,
        cleanup_interval=CLEANUP_SECONDS,
    )
    if ready is not None:
        ready()
    deadline: list[float] = []

    def drain(signum, frame) -> None:
        if not deadline:
            deadline.append(time.monotonic() + drain_seconds)
            server.accepting = False
            server.del_channel()
            server.socket.close()
            if stopping is not None:
                stopping()

    previous = signal.signal(signal.SIGTERM, drain)
    try:
        while not deadline or (_busy(server) and time.monotonic() < deadline[0]):
            wasyncore.loop(timeout=0.5, map=server._map, use_poll=True, count=1)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(server._map)
