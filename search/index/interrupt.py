"""Ctrl-C and SIGTERM during a build: stop before the new index is swapped in, never after.

A KeyboardInterrupt can be swallowed by library code that catches broad exceptions (or
land while a C extension runs), and a build that went on to swap in its index after the
user pressed Ctrl-C would be a lie. So the request to stop is also remembered, and the swap
itself runs with both signals held: a build that was asked to stop before the swap never
swaps, and one asked after it finishes its cleanup and exits normally.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class BuildSignals:
    """``with BuildSignals() as signals:`` in the main thread; pass ``signals.commit`` to ``build``."""

    def __init__(self) -> None:
        self.requested = False
        self.committed = False
        self._previous: dict = {}

    def __enter__(self) -> BuildSignals:
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in _SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        """Put the previous handlers back, unless the swap happened: then the command is done in all
        but its summary, and a late Ctrl-C or SIGTERM must not turn that into a failure (they stay
        ignored). A caller that goes on to other work installs its own handlers."""
        if not self.committed:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum, frame) -> None:
        self.requested = True
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def commit(self) -> Iterator[None]:
        """The swap's guard: refuses it (KeyboardInterrupt) if a stop was asked, holds signals during it."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            if self.requested:
                raise KeyboardInterrupt
            yield
            self.committed = True
            # From here a stop is ignored, until the process exits. SIG_IGN, not a Python handler: the
            # interpreter puts Python handlers back to the default while it shuts down (seconds, with
            # torch loaded), and a SIGTERM then would kill a build that has succeeded.
            for sig in self._previous:  # only when installed (a `with` block), never in a host program
                signal.signal(sig, signal.SIG_IGN)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
