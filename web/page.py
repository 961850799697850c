"""The search page: a plain HTML form answered on the server, so it works without JavaScript (static/suggest.js
only adds suggestions as one types)."""

from __future__ import annotations

import itertools
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from markupsafe import Markup, escape

from jisr.answers.answer import Answer, Hit
from jisr.answers.query import LANGS, MAX_K, MAX_QUERY_CHARS, MODES, is_text, request_params
from jisr.answers.request import SearchRequest
from jisr.arabic import language
from jisr.corpus.readers import describe
from jisr.errors import QueryError
from jisr.web.admission import Overloaded
from jisr.web.words import Words, ui_of

bp = Blueprint("page", __name__)
bp.add_app_template_filter(describe, "place")
bp.add_app_template_filter(language, "language")  # a title's language, for its lang attribute


@bp.app_template_filter("marked")
def marked(hit: Hit) -> Markup:
    """A hit's passage as HTML: its best sentence in ``<mark>``, the words that match the query in ``<b>``."""
    text, a, b = hit.text, hit.highlight.start, hit.highlight.end
    spans = hit.marks

    def words(start: int, end: int) -> Markup:
        out, at = [], start
        for s, e in spans:
            s, e = max(s, start), min(e, end)
            if s < e:
                out += [escape(text[at:s]), Markup("<b>"), escape(text[s:e]), Markup("</b>")]
                at = e
        return Markup("").join([*out, escape(text[at:end])])

    return words(0, a) + Markup("<mark>") + words(a, b) + Markup("</mark>") + words(b, len(text))


def _page_url(**changes) -> str:
    """This page's address with some parameters changed (None: removed), the others kept."""
    args = {k: v for k, v in request.args.items()}
    args.update(changes)
    return url_for("page.index", **{k: v for k, v in args.items() if v not in (None, "")})


def _typed_as(answer, words: Words) -> dict | None:
    """The notice of a query searched as what it was meant to be (Arabic, or English typed on the Arabic layout),
    in both languages (its reader may
    read either), with the address that searches it as typed; None when it was searched as typed."""
    if answer.searched_as is None:
        return None
    notes = [
        (ui, Words(ui)("showing_for", searched=answer.searched_as), Words(ui).search_instead)
        for ui in (words.ui, words.other)
    ]
    return {"url": _page_url(as_typed=1, offset=None), "notes": notes}


def _did_you_mean(answer, words: Words) -> dict | None:
    """The "did you mean" line of a query with a word the index does not know, in both languages, with the
    address that searches the suggestion; None when there is no suggestion."""
    if answer.suggest is None:
        return None
    return {
        "url": _page_url(q=answer.suggest, offset=None),
        "notes": [(ui, Words(ui).did_you_mean) for ui in (words.ui, words.other)],
    }


def _for_readers(query: str, exc: QueryError, words: Words) -> str:
    """What a reader is told of a request the search refused (the operator's message goes to the log)."""
    current_app.logger.info("page search refused: %s", exc)
    if len(query) > MAX_QUERY_CHARS:
        return words("too_long", limit=words.counted("characters", MAX_QUERY_CHARS))
    if not is_text(query):
        return words.bad_text
    return words.bad_request


def _collection(state, index) -> dict:
    """What the home page says of the collection: documents, passages, and three example queries (the titles
    of its first documents, which every collection has); kept per commit."""
    manifest = index.manifest
    key = manifest.get("generation"), manifest.get("built_at")
    cached = state.get("home")
    if cached is None or cached[0] != key:
        titles = []
        for doc_id in list(itertools.islice(manifest.get("files", {}), 12)):
            found = index.document(doc_id)
            if found and found[0].title not in titles:
                titles.append(found[0].title)
            if len(titles) == 3:
                break
        cached = state["home"] = (
            key,
            {
                "documents": manifest["counts"]["documents"],
                "passages": manifest["counts"]["passages"],
                "examples": titles,
            },
        )
    return cached[1]


def _chosen(declared: dict[str, str]) -> dict[str, str]:
    """The fields the address narrows the results by: ``collection=NAME``, and ``f.FIELD=VALUE`` for a field
    declared with `jisr build --field` (prefixed, so that no field name can clash with the page's own)."""
    chosen = {"collection": request.args["collection"]} if "collection" in request.args else {}
    chosen.update({name: request.args[f"f.{name}"] for name in declared if f"f.{name}" in request.args})
    return chosen


def _narrowing(answer: Answer, chosen: dict[str, str]) -> list[dict]:
    """Per field the results were counted by: links that narrow them to one value (or widen them again),
    with the count of matches of each; a field with one value and nothing chosen gets none."""
    out = []
    for name, counted in (answer.facets or {}).items():
        param = "collection" if name == "collection" else f"f.{name}"
        picked = chosen.get(name)
        if picked is None and len(counted) < 2:
            continue
        links = [
            {
                "value": str(c.value),
                "count": c.count,
                "chosen": str(c.value) == picked,
                "url": _page_url(**{param: str(c.value) if str(c.value) != picked else None, "offset": None}),
            }
            for c in counted
        ]
        if picked is not None:
            links.insert(
                0, {"value": None, "count": None, "chosen": False, "url": _page_url(**{param: None, "offset": None})}
            )
        out.append({"field": name, "links": links})
    return out


@bp.get("/")
def index():
    state = current_app.extensions["jisr"]
    words = Words(ui_of(request.args))
    form = request_params(request.args)
    query = form["q"] = form["q"] or ""
    form["k"] = str(form["k"])  # the form's <select> holds strings
    sizes = ["5", "10", "20", "50"]
    if form["k"] not in sizes and form["k"].isdigit() and 1 <= int(form["k"]) <= MAX_K:
        sizes = sorted({*sizes, form["k"]}, key=int)  # ?k=30 stays 30 when searched again
    context = {
        "form": form,
        "langs": LANGS,
        "modes": MODES,
        "sizes": sizes,
        "response": None,
        "notice": None,
        "words": words,
        "switch": _page_url(ui=words.other),
        "home": None,
        "pages": {},
        "narrowing": [],
        "typed_as": None,
        "did_you_mean": None,
    }
    status, headers = 200, {}
    if state["index"] is None:
        status, context["notice"] = 503, words.not_ready
        current_app.logger.warning("page asked before an index is ready: %s", state["unavailable"])
    elif query.strip():
        try:
            declared = state["index"].searcher.declared
            chosen = _chosen(declared)
            # checked before any wait; the page groups by document unless asked not to: one long document
            # cannot fill it
            asked = SearchRequest.of(
                query,
                form["k"],
                form["lang"],
                form["mode"],
                form["offset"],
                request.args.get("group", "document"),
                form["per_document"],
                filter=chosen or None,
                facets=["collection", *declared],
                as_typed=form["as_typed"],
            )
            with state["admission"].admit():
                answer = context["response"] = state["index"].search(asked)
            context["narrowing"] = _narrowing(answer, chosen)
            context["typed_as"] = _typed_as(answer, words)
            context["did_you_mean"] = _did_you_mean(answer, words)
            if answer.next_offset is not None:
                context["pages"]["next"] = _page_url(offset=answer.next_offset)
            if asked.paging.offset:
                context["pages"]["previous"] = _page_url(offset=max(0, asked.paging.offset - asked.k) or None)
        except QueryError as exc:
            context["notice"], status = _for_readers(query, exc, words), 400
        except Overloaded as exc:
            context["notice"], status = words("busy", seconds=words.counted("seconds", exc.retry_after)), 503
            headers = {"Retry-After": str(exc.retry_after)}
    else:
        context["home"] = _collection(state, state["index"])
    return render_template("index.html", **context), status, headers


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own; the site's icon is an SVG among the static files."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/doc/<path:doc_id>")
def document(doc_id: str):
    """The whole document, each passage anchored (#p<ordinal>) so a result's link scrolls to it and marks it;
    ``s`` (the result's best sentence, "start-end" in its passage) is marked within it, and ``q`` gives a
    way back to the results."""
    state = current_app.extensions["jisr"]
    words = Words(ui_of(request.args))
    ui = words.ui if words.ui != "ar" else None
    back = url_for("page.index", q=request.args["q"], ui=ui) if request.args.get("q") else None
    context = {
        "doc_id": doc_id,
        "words": words,
        "back": back,
        "switch": url_for("page.document", doc_id=doc_id, **{**request.args, "ui": words.other}),
        "passages": [],
        "notice": None,
        "sentence": _sentence(request.args.get("s")),
        "original": None,
    }
    if state["index"] is None:
        current_app.logger.warning("document asked before an index is ready: %s", state["unavailable"])
        return render_template("document.html", **{**context, "notice": words.not_ready}), 503
    passages = context["passages"] = state["index"].document(doc_id)
    if not passages:
        return render_template("document.html", **{**context, "notice": words("no_document", doc_id=doc_id)}), 404
    if _original(state["index"], passages[0].source.split("#", 1)[0]) is not None:
        context["original"] = url_for("page.original", source=passages[0].source.split("#", 1)[0])
    return render_template("document.html", **context), 200


def _original(index, source: str) -> Path | None:
    """The corpus file ``source`` names, when this server serves files (`jisr serve --serve-files`), the
    index read it, and it lies inside the corpus folder; else None. Nothing else is ever sent."""
    if not current_app.config.get("SERVE_FILES") or source not in (index.manifest.get("sources") or {}):
        return None
    root = Path(index.manifest["corpus"]).resolve()
    path = (root / source).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


@bp.get("/file/<path:source>")
def original(source: str):
    """A document's original file, as a download (never shown as a page of this site: data is not code)."""
    state = current_app.extensions["jisr"]
    path = _original(state["index"], source) if state["index"] is not None else None
    if path is None:
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name)


def _sentence(given: str | None) -> tuple[int, int] | None:
    """``s`` as (start, end), or None when it is missing or not two offsets."""
    try:
        a, b = (int(x) for x in (given or "").split("-"))
    except ValueError:
        return None
    return (a, b) if 0 <= a < b else None


@bp.app_template_filter("sentence_marked")
def sentence_marked(text: str, span: tuple[int, int] | None) -> Markup:
    """A passage's text with one sentence in ``<mark>`` (the one a result matched), or as it is."""
    if span is None or span[1] > len(text):
        return escape(text)
    a, b = span
    return escape(text[:a]) + Markup("<mark>") + escape(text[a:b]) + Markup("</mark>") + escape(text[b:])


@bp.app_template_filter("heading_repeated")
def heading_repeated(place: str, text: str) -> bool:
    """Whether a passage begins with the last heading of its place: then the heading is shown once, in it."""
    last = place.split(" › ")[-1].strip()
    return bool(last) and text.lstrip().startswith(last)
