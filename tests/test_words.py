"""Counts on the pages, said as each language says them: a noun takes the form CLDR's plural rules (through
Babel) give its number, two forms in English and six in Arabic, on the HTML the page renders."""

from __future__ import annotations

import re
from html import unescape
from types import SimpleNamespace

import pytest
from babel import Locale
from flask import render_template

from jisr.answers.answer import Highlight, Hit, Total
from jisr.web import create_app
from jisr.web.words import COUNTED, UIS, Words

COUNTS = (0, 1, 2, 3, 11, 100)  # Arabic's zero, one, two, few, many and other; English's one and other
SAID = {  # noun: {n: (Arabic, English)}
    "documents": {
        0: ("لا وثائق", "0 documents"),
        1: ("وثيقة واحدة", "1 document"),
        2: ("وثيقتان", "2 documents"),
        3: ("3 وثائق", "3 documents"),
        11: ("11 وثيقة", "11 documents"),
        100: ("100 وثيقة", "100 documents"),
    },
    "passages": {
        0: ("لا مقاطع", "0 passages"),
        1: ("مقطع واحد", "1 passage"),
        2: ("مقطعان", "2 passages"),
        3: ("3 مقاطع", "3 passages"),
        11: ("11 مقطعًا", "11 passages"),
        100: ("100 مقطع", "100 passages"),
    },
    "results": {
        0: ("لا نتائج", "0 results"),
        1: ("نتيجة واحدة", "1 result"),
        2: ("نتيجتان", "2 results"),
        3: ("3 نتائج", "3 results"),
        11: ("11 نتيجة", "11 results"),
        100: ("100 نتيجة", "100 results"),
    },
    "matches": {
        0: ("لا مطابقات", "0 matches"),
        1: ("مطابقة واحدة", "1 match"),
        2: ("مطابقتان", "2 matches"),
        3: ("3 مطابقات", "3 matches"),
        11: ("11 مطابقة", "11 matches"),
        100: ("100 مطابقة", "100 matches"),
    },
}
FORM = {"q": "", "k": "10", "lang": "ar", "mode": "hybrid"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The page's app without an index: the templates are rendered here with the values a search would give."""
    return create_app({"INDEX": str(tmp_path_factory.mktemp("words") / "no-index")})


def page(app, ui: str, **context) -> str:
    """index.html as the page renders it in ``ui``, with ``context`` over an empty form."""
    with app.test_request_context(f"/?ui={ui}"):
        return render_template(
            "index.html",
            **{
                "form": FORM,
                "langs": [],
                "modes": [],
                "sizes": [],
                "response": None,
                "notice": None,
                "home": None,
                "words": Words(ui),
                "switch": "/",
                "pages": {},
                "narrowing": [],
                **context,
            },
        )


def text_of(html: str, pattern: str) -> str:
    """The text of the first element ``pattern`` (a regex for its opening tag) opens, tags removed."""
    found = re.search(pattern + r"(.*?)</p>", html, re.S)
    assert found, pattern
    return " ".join(unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def hits(n: int) -> list[Hit]:
    return [
        Hit(
            score=1.0,
            match=None,
            title=f"عنوان {i}",
            source=f"{i}.txt",
            doc_id=f"{i}.txt",
            ordinal=1,
            start=0,
            end=9,
            lang="ar",
            locator={},
            fields={},
            text="نص المقطع",
            highlight=Highlight(0, 2, "نص"),
            rank=i + 1,
        )
        for i in range(n)
    ]


def test_every_noun_has_the_forms_cldr_gives_each_language():
    for noun, tables in COUNTED.items():
        for ui, table in zip(UIS, tables):
            assert set(table) == Locale.parse(ui).plural_form.tags | {"other"}, (noun, ui)


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("noun", SAID)
def test_a_count_takes_its_nouns_plural_form(noun, n):
    assert [Words(ui).counted(noun, n) for ui in UIS] == list(SAID[noun][n])


@pytest.mark.parametrize("n", COUNTS)
def test_the_home_page_counts_documents_and_passages_in_their_forms(app, n):
    ar, en = (
        text_of(
            page(app, ui, home={"documents": n, "passages": n, "examples": []}),
            r'<section class="home"'
            r".*?<p>",
        )
        for ui in UIS
    )
    assert ar == f"في المجموعة {SAID['documents'][n][0]}، وفيها {SAID['passages'][n][0]}."
    assert en == f"The collection holds {SAID['documents'][n][1]} in {SAID['passages'][n][1]}."


@pytest.mark.parametrize("n", COUNTS)
@pytest.mark.parametrize("group", ["document", "none"])
def test_the_results_summary_counts_what_is_shown_and_what_matches_in_their_forms(app, n, group):
    noun = "documents" if group == "document" else "results"
    for counted, total in ((True, Total(n, "eq")), (False, None)):
        response = SimpleNamespace(
            truncated=None, hits=hits(n), offset=0, total=total, group=group, query="", match=None
        )
        for i, ui in enumerate(UIS):
            summary = text_of(page(app, ui, response=response), r'<p class="summary" role="status">')
            shown = SAID[noun][n][i]
            assert summary == (f"{shown}{'؛' if ui == 'ar' else ';'} {SAID['matches'][n][i]}" if counted else shown)


@pytest.mark.parametrize("n", [n for n in COUNTS if n])  # a document has at least one passage
def test_a_documents_page_counts_its_passages_in_their_form(app, n):
    passages = [
        SimpleNamespace(title="عنوان", source="a.txt", locator={}, lang="ar", ordinal=i, text=f"فقرة {i}")
        for i in range(1, n + 1)
    ]
    for i, ui in enumerate(UIS):
        with app.test_request_context(f"/doc/a.txt?ui={ui}"):
            html = render_template(
                "document.html",
                doc_id="a.txt",
                words=Words(ui),
                back=None,
                switch="/",
                passages=passages,
                notice=None,
                original=None,
                sentence=None,
            )
        assert text_of(html, r'<p class="meta">') == f"a.txt · {SAID['passages'][n][i]}"


@pytest.mark.parametrize(
    "n, ar, en",
    [
        (1, "ثانية واحدة", "1 second"),
        (2, "ثانيتين", "2 seconds"),
        (3, "3 ثوانٍ", "3 seconds"),
        (11, "11 ثانية", "11 seconds"),
    ],
)
def test_the_busy_message_says_its_seconds_in_their_form(n, ar, en):
    said = [Words(ui)("busy", seconds=Words(ui).counted("seconds", n)) for ui in UIS]
    assert said == [f"الخادم مشغول الآن؛ أعد المحاولة بعد {ar}.", f"The server is busy; try again in {en}."]


def test_the_readers_footer_links_the_json_api_and_not_the_operators_healthz(app):
    for ui in UIS:
        footer = re.search(
            r"<footer>(.*?)</footer>", page(app, ui, home={"documents": 1, "passages": 1, "examples": []}), re.S
        ).group(1)
        assert 'href="/openapi.json"' in footer and "healthz" not in footer, footer
