"""Strong, weak and no match, the count of matches, facets and the query's words marked, on a real server.

The tiny model has no calibrated lines, so these tests draw lines of their own between scores it gives
(a table like search/answers/match.json, in a temporary file): what is checked is that every level,
total and facet follows from the lines and the ranking. The default model's shipped lines are checked
on the seed article in tests/test_search_default.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jisr
from jisr.answers import match
from jisr.arabic import matching_words
from jisr.index.options import BuildOptions
from jisr.web import create_app
from tests.conftest import HANG, ROOT, SEEDS, more_passages, serving
from tests.test_pages import get, post

QUERY = "بوتين والرئيس الفرنسي"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("match") / "corpus"
    shutil.copytree(SEEDS, corpus / "news")
    for name, files in (("books", 3), ("hadith", 2)):
        (corpus / name).mkdir()
        more_passages(corpus / name, files=files, paragraphs=6)
    return corpus


@pytest.fixture(scope="module")
def index_dir(corpus, tiny_model):
    jisr.build(corpus, corpus.parent / "index", tiny_model, BuildOptions(companion="none"))
    return corpus.parent / "index"


@pytest.fixture(scope="module")
def lines(index_dir, tiny_model, tmp_path_factory):
    """A table with lines for the tiny index, drawn between the scores of QUERY's ranking; the scores."""
    with jisr.Index.open(index_dir, tiny_model) as opened:
        scores = [r["score"] for r in opened.search(QUERY, k=100, lang="any").to_json()["results"]]

    def between(at: int) -> float:  # halfway between two different scores from ``at`` on: rounding cannot cross it
        at = next(i for i in range(at, len(scores) - 1) if scores[i] - scores[i + 1] > 1e-4)
        return (scores[at] + scores[at + 1]) / 2

    weak, strong = between(len(scores) * 2 // 3), between(len(scores) // 6)
    table = tmp_path_factory.mktemp("table") / "match.json"
    with jisr.Index.open(index_dir, tiny_model) as opened:
        key = match.key(opened.manifest)
    modes = {mode: {g: {"weak": weak, "strong": strong} for g in ("ar", "other")} for mode in ("hybrid", "dense")}
    match.write(table, key, modes, "tests/test_match.py")
    return table, match.Lines(weak, strong), scores


@pytest.fixture(scope="module")
def base(index_dir, tiny_model, lines):
    table = lines[0]
    saved, match.TABLE = match.TABLE, table
    try:
        with (
            jisr.Index.open(index_dir, tiny_model) as opened,
            serving(create_app({"INDEX": opened, "CACHE_BYTES": 0})) as url,
        ):
            yield url
    finally:
        match.TABLE = saved


def test_each_result_and_the_answer_say_how_well_they_match(base, lines):
    _, drawn, scores = lines
    status, body = get(base, q=QUERY, k=100, lang="any")
    assert status == 200, body
    assert [r["match"] for r in body["results"]] == [drawn.of(r["score"]) for r in body["results"]]
    assert {r["match"] for r in body["results"]} == {"strong", "weak", "none"}
    assert body["match"] == body["results"][0]["match"] == "strong"
    # every passage was ranked (fewer than the candidates a query keeps): the count is exact
    assert body["total"] == {"value": sum(r["match"] != "none" for r in body["results"]), "relation": "eq"}
    second = get(base, q=QUERY, k=5, offset=5, lang="any")[1]
    assert second["match"] == "strong" and second["total"] == body["total"], "a later page keeps the query's match"


def test_grouped_total_counts_documents(base):
    flat = get(base, q=QUERY, k=100, lang="any")[1]
    grouped = get(base, q=QUERY, k=100, lang="any", group="document", per_document=0)[1]
    documents = {r["doc_id"] for r in flat["results"] if r["match"] != "none"}
    assert grouped["total"]["value"] == len(documents) < flat["total"]["value"]


def test_a_mode_without_lines_and_an_uncalibrated_index_say_null(base, index_dir, tiny_model):
    body = get(base, q=QUERY, mode="lexical", lang="any")[1]
    assert body["match"] is None and body["total"] is None and all(r["match"] is None for r in body["results"])
    shipped = Path(match.__file__).with_name("match.json")
    with jisr.Index.open(index_dir, tiny_model) as opened:  # the shipped table has no entry for the tiny model
        assert match.for_index(opened.manifest, shipped) == {} and match.for_index(opened.manifest) != {}


def test_facets_count_the_matches_by_field(base):
    body = get(base, q=QUERY, k=100, lang="any", facets="collection,lang")[1]
    matches = [r for r in body["results"] if r["match"] != "none"]
    counted = {c["value"]: c["count"] for c in body["facets"]["collection"]}
    expected = {}
    for r in matches:
        expected[r["source"].split("/")[0]] = expected.get(r["source"].split("/")[0], 0) + 1
    assert counted == expected and sum(counted.values()) == body["total"]["value"]
    assert [c["count"] for c in body["facets"]["collection"]] == sorted(counted.values(), reverse=True)
    assert body["facets"]["lang"] == [{"value": "ar", "count": len(matches)}]
    assert post(base, {"q": QUERY, "lang": "any", "facets": ["doc_id"]})[1]["facets"]["doc_id"]
    filtered = get(base, q=QUERY, lang="any", facets="collection", filter=json.dumps({"collection": "books"}))[1]
    assert [c["value"] for c in filtered["facets"]["collection"]] in (["books"], [])
    grouped = get(base, q=QUERY, k=100, lang="any", facets="collection", group="document")[1]
    assert sum(c["count"] for c in grouped["facets"]["collection"]) == grouped["total"]["value"]


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({"facets": "colection"}, "no field 'colection' to count by"),
        ({"facets": "collection,year"}, "no field 'year'"),
    ],
)
def test_bad_facets_are_400s(base, params, fragment):
    status, body = get(base, q=QUERY, **params)
    assert status == 400 and fragment in body["message"], body
    status, body = post(base, {"q": QUERY, "facets": params["facets"].split(",")})
    assert status == 400 and fragment in body["message"], body
    status, body = post(base, {"q": QUERY, "facets": {"collection": 1}})
    assert status == 400 and "facets must be a list of field names" in body["message"], body


def test_query_words_are_marked_through_the_analyzer(base):
    body = get(base, q=QUERY, lang="any")[1]
    first = body["results"][0]
    assert first["marks"], first
    for a, b in first["marks"]:
        word = first["text"][a:b]
        assert word and " " not in word
    # marks, alef forms and stems: a vocalized passage word and a plain query word meet
    text = "قَالَ الرَّئِيسُ إنّ المكتبات مفتوحة، وفي مكتبةٍ أخرى في المدينة"
    marked = [text[a:b] for a, b in matching_words(text, "رئيس مكتبة في")]
    assert marked == ["الرَّئِيسُ", "المكتبات", "مكتبةٍ"], marked  # "في" is too common to mark
    assert matching_words("لا شيء هنا", "xqzv") == []


def test_the_page_says_plainly_when_nothing_matches_well(base):
    import urllib.parse
    import urllib.request

    def page(q: str) -> str:
        with urllib.request.urlopen(
            base + "/?" + urllib.parse.urlencode({"q": q, "lang": "any", "ui": "en"}), timeout=HANG
        ) as r:
            return r.read().decode("utf-8")

    assert "No passage matches this query well" not in page(QUERY)
    html = page("zzzz qqqq")
    body = get(base, q="zzzz qqqq", lang="any")[1]
    assert ("No passage matches this query well" in html) == (body["match"] == "none")
    assert "<b>" in page(QUERY)


@pytest.mark.slow  # jisr search in a child process
def test_jisr_search_shows_match_total_and_facets(index_dir, tiny_model_path, lines):
    table = lines[0]
    code = (
        "import sys, jisr.answers.match as m, pathlib; m.TABLE = pathlib.Path(sys.argv.pop(1)); "
        "from jisr.cli import main; sys.exit(main())"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(table),
            "search",
            QUERY,
            "--index",
            str(index_dir),
            "--model",
            str(tiny_model_path),
            "--lang",
            "any",
            "--facet",
            "collection",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert run.returncode == 0, run.stderr
    assert " strong] " in run.stdout and "collection: " in run.stdout and " matching" in run.stdout, run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "jisr.cli", "search", QUERY, "--index", str(index_dir), "--facet", "year"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert bad.returncode == 2 and "invalid choice: 'year'" in bad.stderr


def test_the_page_groups_by_document_and_narrows_to_a_collection(base):
    import html as html_module
    import re
    import urllib.request

    def page(**params) -> str:
        with urllib.request.urlopen(
            base + "/?" + urllib.parse.urlencode({"q": QUERY, "lang": "any", **params}), timeout=HANG
        ) as r:
            return r.read().decode("utf-8")

    grouped = page(k=20)
    body = get(base, q=QUERY, lang="any", k=20, group="document", facets="collection")[1]
    assert grouped.count('<li class="result') == len(body["results"])  # one per document
    links = dict(
        (html_module.unescape(u), name)
        for u, name in re.findall(r'<a href="([^"]*)"><span dir="auto">([^<]*)</span>', grouped)
    )
    assert set(links.values()) == {c["value"] for c in body["facets"]["collection"]} and "books" in links.values()
    books = next(u for u, name in links.items() if name == "books")
    with urllib.request.urlopen(base + books, timeout=HANG) as r:
        narrowed = r.read().decode("utf-8")
    sources = re.findall(r'class="in-document" href="[^"]*" aria-label="[^"]*">([^<]*) ·', narrowed)
    assert sources and all(s.startswith("books/") for s in sources)
    assert 'aria-current="true"' in narrowed and "كل المجموعات" in narrowed  # a way back to every collection
