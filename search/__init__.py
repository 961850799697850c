"""jisr (جسر, "bridge"): ask in English or Arabic, get ranked Arabic passages.

    import jisr

    jisr.build("my-docs", "my-index")                  # documents -> passages -> vectors -> index
    jisr.build("my-docs", "my-index", options=jisr.BuildOptions(companion="none"))  # every option, checked
    with jisr.Index.open("my-index") as index:         # with the model it was built with
        answer = index.search("Who founded Baghdad?", k=5)
        for r in answer["results"]:
            print(r["rank"], r["title"], r["highlight"]["text"])
        passages = index.document(answer["results"][0]["doc_id"])

The stages, in the order data flows: ``jisr.corpus`` (folders -> documents), ``jisr.passages``
(documents -> passages), ``jisr.embeddings`` (passages -> vectors), ``jisr.index`` (vectors -> an
index folder), ``jisr.answers`` (queries -> ranked passages); ``jisr.web`` and ``jisr.cli`` on top.
Errors are in ``jisr.errors``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Index", "build", "BuildOptions"]

if TYPE_CHECKING:
    from jisr.api import Index, build
    from jisr.index.options import BuildOptions


def __getattr__(name: str):
    """``Index`` and ``build`` load on first use: ``import jisr`` and `jisr --help` import no torch."""
    if name == "BuildOptions":
        from jisr.index.options import BuildOptions

        return BuildOptions
    if name in __all__:
        from jisr import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
