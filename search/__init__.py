"""jisr (جسر, "bridge"): ask in English or Arabic, get ranked Arabic passages.

    import jisr

    jisr.build("my-docs", "my-index")                  # documents -> passages -> vectors -> index
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

__all__ = ["Answer", "Index", "SearchRequest", "build"]

if TYPE_CHECKING:
    from jisr.answers.answer import Answer
    from jisr.answers.request import SearchRequest
    from jisr.api import Index, build


def __getattr__(name: str):
    """``Index`` and ``build`` (and the types a search takes and gives) load on first use: ``import jisr``
    and `jisr --help` import no torch."""
    if name in ("Index", "build"):
        from jisr import api

        return getattr(api, name)
    if name == "Answer":
        from jisr.answers.answer import Answer

        return Answer
    if name == "SearchRequest":
        from jisr.answers.request import SearchRequest

        return SearchRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
