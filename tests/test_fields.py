"""A record's own fields (`jisr build --field`): kept typed, filtered on before the top k in ranges and lists,
counted as facets, given back in each result; jisr's segments and Milvus agree."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import jisr
from jisr.corpus.fields import date_number, declaration, typed
from jisr.corpus.readers import RecordFields
from jisr.index.options import BuildOptions
from jisr.web import create_app
from tests.conftest import HANG, ROOT, serving
from tests.test_pages import get

WORD = "الأخبار"
AUTHORS = ["الطبري", "ابن كثير", "الطبراني", "المقريزي"]
DECLARED = (("author", "keyword"), ("year", "number"), ("date", "date"))


def record(i: int) -> dict:
    row = {
        "id": i,
        "title": f"خبر {i}",
        "text": f"فقرة {i} عن {WORD} والتاريخ في عام {2000 + i % 20}",
        "author": AUTHORS[i % 4],
        "year": 2000 + i % 20,
        "date": f"{2000 + i % 20}-{1 + i % 12:02d}-15",
    }
    if i % 10 == 9:
        del row["year"]  # a record without the field: never inside a condition on it
    if i % 10 == 8:
        row["year"] = "not a number"  # left out, as a value not of its kind
    return row


RECORDS = [record(i) for i in range(60)]


pytestmark = pytest.mark.milvus  # every test here reads the indexes fixture, built on Milvus Lite too


@pytest.fixture(scope="module")
def indexes(tmp_path_factory, tiny_model):
    work = tmp_path_factory.mktemp("fields")
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / "books.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), encoding="utf-8")
    from jisr.index.contract import MilvusTarget

    fields = RecordFields(extra=DECLARED)
    jisr.build(corpus, work / "local", tiny_model, BuildOptions(companion="none", fields=fields))
    jisr.build(corpus, work / "milvus", tiny_model, BuildOptions(milvus=MilvusTarget(), fields=fields))
    local, milvus = jisr.Index.open(work / "local", tiny_model), jisr.Index.open(work / "milvus", tiny_model)
    yield local, milvus, corpus
    local.close(), milvus.close()


def ids(answer: dict) -> list[str]:
    return [r["doc_id"] for r in answer["results"]]


def number(doc_id: str) -> int:
    return int(doc_id.rsplit("#", 1)[1])


def has_year(i: int) -> bool:
    return i % 10 not in (8, 9)


@pytest.mark.parametrize(
    "where,keeps",
    [
        ({"author": "الطبري"}, lambda i: i % 4 == 0),
        ({"author": ["الطبري", "المقريزي"]}, lambda i: i % 4 in (0, 3)),
        ({"author": {"prefix": "الطبر"}}, lambda i: i % 4 in (0, 2)),
        ({"year": {"gte": 2005, "lt": 2010}}, lambda i: has_year(i) and 5 <= i % 20 < 10),
        ({"year": [2003, 2013]}, lambda i: has_year(i) and i % 20 in (3, 13)),
        # "2012" is 2012-01-01: a date of 2012-01-15 is after it
        (
            {"date": {"gte": "2010-06", "lte": "2012"}},
            lambda i: (2000 + i % 20, 1 + i % 12) >= (2010, 6) and 2000 + i % 20 <= 2011,
        ),
        (
            {"all": [{"author": "ابن كثير"}, {"year": {"gt": 2010}}]},
            lambda i: i % 4 == 1 and has_year(i) and i % 20 > 10,
        ),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_a_declared_field_filters_before_the_top_k_and_milvus_agrees(indexes, where, keeps, mode):
    local, milvus, _ = indexes
    answer = local.search(WORD, k=100, lang="any", mode=mode, filter=where).to_json()
    expected = sorted(f"books.jsonl#{i}" for i in range(60) if keeps(i))
    assert sorted(ids(answer)) == expected, where
    assert sorted(ids(milvus.search(WORD, k=100, lang="any", mode=mode, filter=where).to_json())) == expected, where


def test_not_keeps_the_documents_without_the_field_in_both_stores(indexes):
    local, milvus, _ = indexes
    where = {"not": {"year": {"gte": 2010}}}
    expected = sorted(f"books.jsonl#{i}" for i in range(60) if not (has_year(i) and i % 20 >= 10))
    assert sorted(ids(local.search(WORD, k=100, lang="any", filter=where).to_json())) == expected
    assert sorted(ids(milvus.search(WORD, k=100, lang="any", filter=where).to_json())) == expected


def test_results_give_their_fields_and_facets_count_them(indexes):
    local, milvus, _ = indexes
    for index in (local, milvus):
        answer = index.search(WORD, k=100, lang="any", facets=["author", "year"]).to_json()
        first = answer["results"][0]
        i = number(first["doc_id"])
        assert first["fields"]["author"] == AUTHORS[i % 4]
        assert first["fields"]["date"] == f"{2000 + i % 20}-{1 + i % 12:02d}-15"
        assert ("year" in first["fields"]) == has_year(i)
        counted = {c["value"]: c["count"] for c in answer["facets"]["author"]}
        assert counted == {a: 15 for a in AUTHORS}
        assert all(isinstance(c["value"], int) for c in answer["facets"]["year"])


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({"filter": json.dumps({"author": {"gte": 3}})}, "ranges apply to number and date fields; author is a keyword"),
        ({"filter": json.dumps({"year": "abc"})}, "'abc' is not a number"),
        ({"filter": json.dumps({"date": {"gte": "yesterday"}})}, "is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"),
        ({"filter": json.dumps({"year": {"prefix": "20"}})}, "a prefix applies to keyword fields"),
        ({"filter": json.dumps({"year": {"between": [1, 2]}})}, "or a range of gte, gt, lte, lt"),
        (
            {"filter": json.dumps({"publisher": "x"})},
            "this index has no field 'publisher' (fields declared with `jisr build --field`: author, year, date",
        ),
        ({"facets": "publisher"}, "this index has no field 'publisher' to count by"),
    ],
)
def test_bad_field_filters_are_400s(indexes, params, fragment):
    local, _, _ = indexes
    with serving(create_app({"INDEX": local})) as base:
        status, body = get(base, q=WORD, **params)
    assert status == 400 and fragment in body["message"], body


def test_the_values_a_field_keeps():
    assert declaration("year:number") == ("year", "number") and declaration("author") == ("author", "keyword")
    for bad in ("9x", "lang", "year:int", "a-b"):
        with pytest.raises(ValueError):
            declaration(bad)
    assert [date_number(v) for v in ("2015", "2015-03", "2015-03-07", "2015/3/7", "2015-03-07T10:00:00", 2015)] == [
        20150101,
        20150301,
        20150307,
        20150307,
        20150307,
        20150101,
    ]
    assert date_number("2015-13") is None and date_number("March") is None and date_number(True) is None
    assert typed("number", "1,234.5") == 1234.5 and typed("number", True) is None and typed("number", "x") is None
    assert typed("keyword", "  a   b ") == "a b" and typed("keyword", {"a": 1}) is None


def test_jisr_build_field_and_search_filter(indexes, tiny_model_path, tmp_path):
    _, _, corpus = indexes
    index = tmp_path / "index"
    build = [
        sys.executable,
        "-m",
        "jisr.cli",
        "build",
        "--corpus",
        str(corpus),
        "--index",
        str(index),
        "--model",
        str(tiny_model_path),
        "--companion",
        "none",
    ]
    done = subprocess.run(build, cwd=ROOT, capture_output=True, text=True, timeout=HANG)
    assert done.returncode == 0, done.stderr
    search = [
        sys.executable,
        "-m",
        "jisr.cli",
        "search",
        WORD,
        "--index",
        str(index),
        "--model",
        str(tiny_model_path),
        "--lang",
        "any",
        "-k",
        "100",
        "--json",
        "--filter",
        json.dumps({"year": {"gte": 2015}}),
    ]
    refused = subprocess.run(search, cwd=ROOT, capture_output=True, text=True, timeout=HANG)
    assert refused.returncode == 1 and "this index has no field 'year'" in refused.stderr
    # built again with the field declared: the unchanged file's records are read again, with their fields
    again = subprocess.run(
        build + ["--field", "year:number", "--field", "author"], cwd=ROOT, capture_output=True, text=True, timeout=HANG
    )
    assert again.returncode == 0, again.stderr
    found = subprocess.run(search, cwd=ROOT, capture_output=True, text=True, timeout=HANG)
    assert found.returncode == 0, found.stderr
    assert sorted(number(d) for d in ids(json.loads(found.stdout))) == [
        i for i in range(60) if has_year(i) and i % 20 >= 15
    ]
    bad = subprocess.run(build + ["--field", "year:int"], cwd=ROOT, capture_output=True, text=True, timeout=HANG)
    assert bad.returncode != 0 and "the type is one of keyword, number, date" in bad.stderr


def test_the_page_narrows_the_results_by_a_declared_field(indexes):
    import html
    import re
    import urllib.parse
    import urllib.request

    local, _, _ = indexes
    with serving(create_app({"INDEX": local})) as base:

        def page(path: str) -> str:
            with urllib.request.urlopen(base + path, timeout=HANG) as r:
                return r.read().decode("utf-8")

        first = page("/?" + urllib.parse.urlencode({"q": WORD, "lang": "any", "k": 50, "group": "none"}))
        links = {
            name: html.unescape(url)
            for url, name in re.findall(r'<a href="([^"]*)"><span dir="auto">([^<]*)</span>', first)
        }
        assert set(AUTHORS) <= set(links), links
        narrowed = page(links["الطبري"])
        numbers = [int(n) for n in re.findall(r">books\.jsonl#(\d+) ·", narrowed)]
        assert numbers and all(i % 4 == 0 for i in numbers)
        assert 'aria-current="true"' in narrowed and "f.author=" in links["الطبري"]
