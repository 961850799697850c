"""`jisr serve --watch`: files that change in the corpus folder are indexed as they change.

watchfiles (inotify on Linux, through the Rust ``notify`` crate) reports changes, already grouped
over a short debounce; each group asks the server's one writer (:mod:`jisr.index.intake`) for a
commit, which reads only the files whose size or time changed, as any build does. So the folder
workflow (copy a file in, edit it, delete it) is as fresh as the document API, and the same writer
keeps the two from racing. An index folder inside the corpus folder is not watched: its own commits
would start commits without end.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def watch(folder: str | Path, index_dir: str | Path, rescan, stop: threading.Event) -> threading.Thread:
    """Call ``rescan()`` after each group of changes under ``folder`` (outside ``index_dir``) until ``stop``
    is set; the watching runs on the thread returned."""
    from watchfiles import DefaultFilter
    from watchfiles import watch as changes

    index = Path(index_dir).resolve()

    class Outside(DefaultFilter):  # also ignores .git, editors' swap files, __pycache__
        def __call__(self, change, path: str) -> bool:
            return super().__call__(change, path) and not Path(path).resolve().is_relative_to(index)

    def run() -> None:
        try:
            for group in changes(
                folder, watch_filter=Outside(), stop_event=stop, rust_timeout=1000, yield_on_timeout=False
            ):
                log.info("jisr: %d changes in %s: indexing them", len(group), folder)
                rescan()
        except Exception:  # noqa: BLE001  (the server goes on; writes over the API still work)
            log.exception("jisr: watching %s stopped", folder)

    thread = threading.Thread(target=run, name="jisr-watch", daemon=True)
    thread.start()
    return thread
