"""Pages, grouping by document and unknown parameters, on a real server over a folder of many documents."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import jisr
from jisr.index.options import BuildOptions
from jisr.web import create_app
from tests.conftest import HANG, ROOT, SEEDS, more_passages, serving

QUERY = "بوتين والرئيس الفرنسي"


@pytest.fixture(scope="module")
def index(tmp_path_factory, tiny_model):
    work = tmp_path_factory.mktemp("pages")
    corpus = work / "corpus"
    shutil.copytree(SEEDS, corpus)
    more_passages(corpus, files=8, paragraphs=8)
    jisr.build(corpus, work / "index", tiny_model, BuildOptions(companion="none"))
    with jisr.Index.open(work / "index", tiny_model) as opened:
        yield opened


@pytest.fixture(scope="module")
def base(index):
    with serving(create_app({"INDEX": index, "CACHE_BYTES": 0})) as url:
        yield url


def get(base: str, **params) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + "/api/search?" + urllib.parse.urlencode(params), timeout=HANG) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def post(base: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        base + "/api/search",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=HANG) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def key(r: dict) -> tuple:
    return r["doc_id"], r["ordinal"]


def test_pages_follow_each_other_in_one_stable_order(base):
    _, whole = get(base, q=QUERY, k=20, lang="any")
    _, first = get(base, q=QUERY, k=10, lang="any")
    _, second = get(base, q=QUERY, k=10, lang="any", offset=first["next_offset"])
    assert len(whole["results"]) == 20 and first["offset"] == 0 and first["next_offset"] == 10
    assert [key(r) for r in first["results"] + second["results"]] == [key(r) for r in whole["results"]]
    assert [r["rank"] for r in second["results"]] == list(range(11, 21)) and second["offset"] == 10
    _, post_page = post(base, {"q": QUERY, "k": 10, "lang": "any", "offset": 10})
    assert [key(r) for r in post_page["results"]] == [key(r) for r in second["results"]]
    _, last = get(base, q=QUERY, k=100, lang="any", offset=100)  # past the candidates: an empty last page
    assert last["next_offset"] is None and all(r["rank"] > 100 for r in last["results"])
    _, deep = get(base, q="فقرة", k=100, lang="any", mode="lexical", offset=150)  # pages end at rank 200
    assert deep["next_offset"] is None and len(deep["results"]) <= 50


def test_grouped_results_give_each_document_once_with_more_from_it(base):
    _, flat = get(base, q=QUERY, k=100, lang="any")
    _, grouped = get(base, q=QUERY, k=5, lang="any", group="document", per_document=2)
    docs = [r["doc_id"] for r in grouped["results"]]
    first_seen = list(dict.fromkeys(r["doc_id"] for r in flat["results"]))
    assert docs == first_seen[:5] and len(set(docs)) == 5 and grouped["group"] == "document"
    for r in grouped["results"]:
        same = [x for x in flat["results"] if x["doc_id"] == r["doc_id"]]
        assert key(r) == key(same[0])  # the document's best passage leads ...
        assert [key(m) for m in r["more"]] == [key(x) for x in same[1:3]]  # ... then its next best, in order
        assert all(m["doc_id"] == r["doc_id"] for m in r["more"]) and len(r["more"]) <= 2
    _, single = get(base, q=QUERY, k=5, lang="any", group="document", per_document=0)
    assert all(r["more"] == [] for r in single["results"])
    _, next_docs = get(base, q=QUERY, k=5, lang="any", group="document", offset=5)
    assert [r["doc_id"] for r in next_docs["results"]] == first_seen[5:10]


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({"q": "a", "lnag": "ar"}, "unknown parameter 'lnag': did you mean 'lang'?"),
        ({"q": "a", "fliter": "{}"}, "unknown parameter 'fliter': did you mean 'filter'?"),
        ({"q": "a", "offset": "-1"}, "offset must be from 0 to 199"),
        ({"q": "a", "offset": "two"}, "offset must be a whole number"),
        ({"q": "a", "group": "site"}, "group must be one of none, document"),
        ({"q": "a", "group": "document", "per_document": "11"}, "per_document must be from 0 to 10"),
    ],
)
def test_bad_and_unknown_parameters_are_400s_that_name_them(base, params, fragment):
    status, body = get(base, **params)
    assert status == 400 and fragment in body["message"], body
    status, body = post(base, params)
    assert status == 400 and fragment.replace("'lnag'", "'lnag'") in body["message"], body


@pytest.mark.slow  # jisr search in child processes
def test_jisr_search_pages_and_groups(index, tiny_model_path):
    cli = [
        sys.executable,
        "-m",
        "jisr.cli",
        "search",
        QUERY,
        "--index",
        str(index.path),
        "--model",
        str(tiny_model_path),
        "--lang",
        "any",
        "-k",
        "3",
    ]
    grouped = subprocess.run(
        cli + ["--group", "document", "--offset", "3"], cwd=ROOT, capture_output=True, text=True, timeout=HANG
    )
    assert grouped.returncode == 0, grouped.stderr
    assert " 4. " in grouped.stdout and "      + " in grouped.stdout and "3 documents, from 4" in grouped.stdout
    assert "next page: --offset 6" in grouped.stdout
    bad = subprocess.run(cli + ["--offset", "200"], cwd=ROOT, capture_output=True, text=True, timeout=HANG)
    assert bad.returncode == 1 and "--offset must be from 0 to 199" in bad.stderr


def test_the_site_has_an_icon(base):
    with urllib.request.urlopen(base + "/favicon.ico", timeout=HANG) as r:  # what browsers ask for on their own
        assert r.status == 200 and r.headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in r.read()
    with urllib.request.urlopen(base + "/", timeout=HANG) as r:
        assert b'rel="icon"' in r.read()


def test_original_files_are_offered_only_when_the_server_is_told_to(index):
    source = next(iter(index.manifest["sources"]))
    with serving(create_app({"INDEX": index, "CACHE_BYTES": 0})) as base:  # off by default
        with urllib.request.urlopen(base + "/doc/" + urllib.parse.quote(source), timeout=HANG) as r:
            assert b'class="original"' not in r.read()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/file/" + urllib.parse.quote(source), timeout=HANG)
        assert refused.value.code == 404
    with serving(create_app({"INDEX": index, "CACHE_BYTES": 0, "SERVE_FILES": True})) as base:
        with urllib.request.urlopen(base + "/doc/" + urllib.parse.quote(source), timeout=HANG) as r:
            assert b'class="original"' in r.read()
        with urllib.request.urlopen(base + "/file/" + urllib.parse.quote(source), timeout=HANG) as r:
            corpus = Path(index.manifest["corpus"])
            assert r.read() == (corpus / source).read_bytes() and "attachment" in r.headers["Content-Disposition"]
        for outside in ("../index/manifest.json", "%2e%2e/%2e%2e/etc/passwd", "not-in-the-index.txt"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + "/file/" + outside, timeout=HANG)
            assert refused.value.code == 404, outside
