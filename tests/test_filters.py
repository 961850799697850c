"""Filters: applied before the top k is taken, the same on jisr's segments and on Milvus, and 400s that say
what is wrong."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

import jisr
from jisr.answers import filters
from jisr.errors import QueryError
from jisr.index.options import FLOAT32, BuildOptions
from jisr.web import create_app
from tests.conftest import HANG, ROOT, SEEDS, serving

WORD = "الأخبار"


pytestmark = pytest.mark.milvus  # every test here reads the indexes fixture, built on Milvus Lite too


@pytest.fixture(scope="module")
def indexes(tmp_path_factory, tiny_model):
    """A corpus where the hadith collection is 2 documents of 34: the seeds at the top, news/2015/ and hadith/."""
    work = tmp_path_factory.mktemp("filters")
    corpus = work / "corpus"
    shutil.copytree(SEEDS, corpus)
    for folder, count in (("news/2015", 25), ("news/2016", 6), ("hadith", 2)):
        (corpus / folder).mkdir(parents=True)
        for i in range(count):
            (corpus / folder / f"{i}.txt").write_text(
                f"عنوان {i}\n" + "\n\n".join(f"فقرة {j} من {folder} {i} عن {WORD} والسياسة" for j in range(3)),
                encoding="utf-8",
            )
    from jisr.index.contract import MilvusTarget

    # float32 in the local store too, as Milvus is given: the two compare rank for rank
    jisr.build(corpus, work / "local", tiny_model, BuildOptions(companion="none", precision=FLOAT32))
    jisr.build(corpus, work / "milvus", tiny_model, BuildOptions(milvus=MilvusTarget()))
    local, milvus = jisr.Index.open(work / "local", tiny_model), jisr.Index.open(work / "milvus", tiny_model)
    yield local, milvus
    local.close(), milvus.close()


def ids(answer: dict) -> list[tuple[str, int]]:
    return [(r["doc_id"], r["ordinal"]) for r in answer["results"]]


@pytest.mark.parametrize(
    "where,keeps",
    [
        ({"collection": "hadith"}, lambda r: r["source"].startswith("hadith/")),
        ({"collection": ""}, lambda r: "/" not in r["source"]),
        ({"source": {"prefix": "news/2016/"}}, lambda r: r["source"].startswith("news/2016/")),
        ({"doc_id": ["hadith/1.txt", "news/2015/3.txt"]}, lambda r: r["doc_id"] in ("hadith/1.txt", "news/2015/3.txt")),
        (
            {"any": [{"collection": "hadith"}, {"source": {"prefix": "news/2016/"}}]},
            lambda r: r["source"].startswith(("hadith/", "news/2016/")),
        ),
        (
            {"collection": "news", "not": {"source": {"prefix": "news/2015/"}}},
            lambda r: r["source"].startswith("news/2016/"),
        ),
        ({"all": [{"lang": "ar"}, {"collection": "hadith"}]}, lambda r: r["source"].startswith("hadith/")),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_a_filter_keeps_its_passages_before_the_top_k_and_milvus_agrees(indexes, where, keeps, mode):
    local, milvus = indexes
    answer = local.search(WORD, k=5, lang="any", mode=mode, filter=where).to_json()
    assert answer["results"] and all(keeps(r) for r in answer["results"]), answer["results"]
    expected = min(
        5,
        sum(
            keeps({"source": p.source, "doc_id": p.doc_id})
            for p in local.searcher.index.passages(local.searcher.index.ids())
        ),
    )
    assert len(answer["results"]) == expected  # a filter that keeps 2 documents of 34 still fills the page
    assert answer["filter"] == where
    assert ids(milvus.search(WORD, k=5, lang="any", mode=mode, filter=where).to_json()) == ids(answer)


def test_a_small_collection_crowded_out_of_the_top_k_fills_it_when_filtered(indexes):
    local, _ = indexes
    query = f"{WORD} 2015"  # "2015" is in news/2015's passages only
    top = local.search(query, k=5, lang="any", mode="lexical").to_json()
    assert all(r["source"].startswith("news/2015/") for r in top["results"]) and "filter" not in top
    kept = local.search(query, k=5, lang="any", mode="lexical", filter={"collection": "hadith"}).to_json()["results"]
    assert len(kept) == 5 and all(r["source"].startswith("hadith/") for r in kept)


@pytest.mark.parametrize(
    "given,fragment",
    [
        ('{"year": true}', "must be a value (text, a number, a date) or a list of them"),
        ('{"9year": 2015}', "no field '9year'; filter on collection, source, doc_id, lang or a field declared"),
        ("{not json", "must be a JSON object"),
        ('{"collection": []}', "empty list"),
        ('{"collection": 3}', "must be text"),
        ('{"source": {"suffix": ".txt"}}', '{"prefix": "..."}'),
        ('{"any": {}}', "non-empty list of filters"),
        ("[1]", "non-empty JSON object"),
        (json.dumps({"doc_id": ["x"] * 101}), "at most 100 values"),
        ('{"not": ' * 10 + '{"lang": "ar"}' + "}" * 10, "nests more than"),
    ],
)
def test_bad_filters_are_400s_that_say_what_is_wrong(indexes, given, fragment):
    with pytest.raises(QueryError) as raised:
        filters.parse(given)
    assert fragment in str(raised.value)
    local, _ = indexes
    with serving(create_app({"INDEX": local})) as base:
        try:
            urllib.request.urlopen(
                base + "/api/search?" + urllib.parse.urlencode({"q": WORD, "filter": given}), timeout=HANG
            )
            raise AssertionError("no 400")
        except urllib.error.HTTPError as exc:
            assert exc.code == 400 and fragment in json.load(exc)["message"]


def test_the_api_and_the_cli_filter_alike(indexes, tiny_model_path):
    local, _ = indexes
    where = {"collection": "hadith"}
    with serving(create_app({"INDEX": local})) as base:
        with urllib.request.urlopen(
            base
            + "/api/search?"
            + urllib.parse.urlencode({"q": WORD, "k": 3, "lang": "any", "filter": json.dumps(where)}),
            timeout=HANG,
        ) as r:
            by_get = json.load(r)
        req = urllib.request.Request(
            base + "/api/search",
            method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"q": WORD, "k": 3, "lang": "any", "filter": where}).encode(),
        )
        with urllib.request.urlopen(req, timeout=HANG) as r:
            by_post = json.load(r)
    assert ids(by_get) == ids(by_post) == ids(local.search(WORD, k=3, lang="any", filter=where).to_json())
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "search",
            WORD,
            "--index",
            str(local.path),
            "--model",
            str(tiny_model_path),
            "--lang",
            "any",
            "-k",
            "3",
            "--filter",
            json.dumps(where),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert cli.returncode == 0, cli.stderr
    assert ids(json.loads(cli.stdout)) == ids(by_get)
    bad = subprocess.run(
        [sys.executable, "-m", "jisr.cli", "search", WORD, "--index", str(local.path), "--filter", '{"year": 1}'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert bad.returncode == 1 and "this index has no field 'year'" in bad.stderr


def test_segments_written_before_document_columns_filter_alike(indexes, tiny_model, tmp_path):
    """A segment without documents/ (written before it) reads its document columns from SQLite instead."""
    local, _ = indexes
    old = tmp_path / "old"
    shutil.copytree(local.path, old)
    for meta_file in old.glob("segments/*/segment.json"):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta["files"] = {k: v for k, v in meta["files"].items() if not k.startswith("documents/")}
        meta_file.write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(meta_file.parent / "documents")
    where = {"any": [{"collection": "hadith"}, {"source": {"prefix": "news/2016/"}}]}
    with jisr.Index.open(old, tiny_model) as before:
        assert ids(before.search(WORD, k=50, lang="any", filter=where).to_json()) == ids(
            local.search(WORD, k=50, lang="any", filter=where).to_json()
        )
    assert all(
        (seg / "documents" / "row_doc.npy").is_file()
        for seg in (local.path / "segments").iterdir()
        if (seg / "segment.json").is_file()
    )


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_grouped_and_filtered_pages_agree_between_the_local_store_and_milvus(indexes, mode):
    local, milvus = indexes
    where = {"collection": "news"}
    for offset in (0, 3):
        mine = local.search(
            WORD,
            k=3,
            lang="any",
            mode=mode,
            group="document",
            per_document=2,
            offset=offset,
            filter=where,
            facets=["collection"],
        ).to_json()
        theirs = milvus.search(
            WORD,
            k=3,
            lang="any",
            mode=mode,
            group="document",
            per_document=2,
            offset=offset,
            filter=where,
            facets=["collection"],
        ).to_json()
        assert mine["results"] and all(r["source"].startswith("news/") for r in mine["results"])
        assert [(r["doc_id"], [m["ordinal"] for m in r["more"]]) for r in mine["results"]] == [
            (r["doc_id"], [m["ordinal"] for m in r["more"]]) for r in theirs["results"]
        ]
        assert mine["next_offset"] == theirs["next_offset"] and mine["facets"] == theirs["facets"]
