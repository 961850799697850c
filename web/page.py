"""The search page: a plain HTML form answered on the server, so it works without JavaScript."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from jisr.errors import QueryError
from jisr.answers.query import LANGS, MODES, request_params, validate
from jisr.corpus.readers import describe
from jisr.web.admission import Overloaded

bp = Blueprint("page", __name__)
bp.add_app_template_filter(describe, "place")


@bp.app_template_filter("marked")
def marked(result: dict) -> Markup:
    """A result's passage as HTML: its best sentence in ``<mark>``, the words that match the query in ``<b>``."""
    text, a, b = result["text"], result["highlight"]["start"], result["highlight"]["end"]
    spans = result.get("marks", [])

    def words(start: int, end: int) -> Markup:
        out, at = [], start
        for s, e in spans:
            s, e = max(s, start), min(e, end)
            if s < e:
                out += [escape(text[at:s]), Markup("<b>"), escape(text[s:e]), Markup("</b>")]
                at = e
        return Markup("").join([*out, escape(text[at:end])])
    return words(0, a) + Markup("<mark>") + words(a, b) + Markup("</mark>") + words(b, len(text))


@bp.get("/")
def index():
    state = current_app.extensions["jisr"]
    form = request_params(request.args)
    query = form["q"] = form["q"] or ""
    form["k"] = str(form["k"])  # the form's <select> holds strings
    context = {"form": form, "langs": LANGS, "modes": MODES, "response": None, "error": None,
               "unavailable": state["unavailable"]}
    status, headers = 200, {}
    if state["index"] is None:
        status = 503
    elif query.strip():
        try:
            q, k, lang, mode = validate(query, form["k"], form["lang"], form["mode"])  # before any wait
            with state["admission"].admit():
                context["response"] = state["index"].search(q, k=k, lang=lang, mode=mode)
        except QueryError as exc:
            context["error"], status = str(exc), 400
        except Overloaded as exc:
            context["error"], status, headers = str(exc), 503, {"Retry-After": str(exc.retry_after)}
    return render_template("index.html", **context), status, headers


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own; the site's icon is an SVG among the static files."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/doc/<path:doc_id>")
def document(doc_id: str):
    """The whole document, each passage anchored (#p<ordinal>) so a result's link scrolls to it and marks it."""
    state = current_app.extensions["jisr"]
    if state["index"] is None:
        return render_template("document.html", passages=[], doc_id=doc_id, unavailable=state["unavailable"]), 503
    passages = state["index"].document(doc_id)
    return render_template("document.html", passages=passages, doc_id=doc_id, unavailable=None), \
        200 if passages else 404
