"""jisr (جسر, "bridge"): ask in English or Arabic, get ranked Arabic passages.

    import jisr

    jisr.build("my-docs", "my-index")                  # documents -> passages -> vectors -> index
    jisr.build("my-docs", "my-index", options=jisr.BuildOptions(companion="none"))  # every option, checked
    with jisr.Index.open("my-index") as index:         # with the model it was built with
        answer = index.search("Who founded Baghdad?", k=5)   # a jisr.Answer; answer.to_json(): the JSON API's
        for hit in answer.hits:
            print(hit.rank, hit.title, hit.highlight.text)
        passages = index.document(answer.hits[0].doc_id)

The stages, in the order data flows: ``jisr.corpus`` (folders -> documents), ``jisr.passages``
(documents -> passages), ``jisr.embeddings`` (passages -> vectors), ``jisr.index`` (vectors -> an
index folder), ``jisr.answers`` (queries -> ranked passages); ``jisr.web`` and ``jisr.cli`` on top.
Errors are in ``jisr.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Answer", "BuildOptions", "Index", "SearchRequest", "build"]

if TYPE_CHECKING:
    from jisr.answers.answer import Answer
    from jisr.answers.request import SearchRequest
    from jisr.api import Index, build
    from jisr.index.options import BuildOptions


# What ``import jisr`` offers, by the module that defines it: loaded on first use.
_LAZY = {
    "Index": "jisr.api",
    "build": "jisr.api",
    "Answer": "jisr.answers.answer",
    "SearchRequest": "jisr.answers.request",
    "BuildOptions": "jisr.index.options",
}


def __getattr__(name: str):
    """``Index`` and ``build`` (and the types a search and a build take and give) load on first use: ``import jisr``
    and `jisr --help` import no torch."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
