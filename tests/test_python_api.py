"""The Python API as a program uses it: build a folder, open the index, search it, read a document."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

import jisr
from jisr.answers.query import CLI_NAMES
from jisr.errors import IndexUnavailable, QueryError
from jisr.index.options import BuildOptions
from tests.conftest import ROOT, SEEDS


def test_build_open_search_and_read_a_document(tmp_path, tiny_model_path):
    report = jisr.build(SEEDS, tmp_path / "index", str(tiny_model_path), BuildOptions(companion="none"))
    assert report.passages == 10
    with jisr.Index.open(tmp_path / "index") as index:  # the model the index names, loaded by itself
        assert index.size == 10 and index.model_name == str(tiny_model_path)
        answer = index.search("بوتين", k=3)
        assert [r.rank for r in answer.hits] == [1, 2, 3]
        top = answer.hits[0]
        passages = index.document(top.doc_id)
        assert [p.ordinal for p in passages] == sorted(p.ordinal for p in passages) and len(passages) == 10
        assert any(p.text == top.text for p in passages)
        assert "10 passages" in repr(index)


def test_a_request_made_once_is_searched_and_cached_as_it_is(tmp_path, tiny_model):
    """A SearchRequest is checked when it is made, searched as given, and is the result cache's key."""
    from jisr.answers.answer import Answer
    from jisr.answers.cache import ResultCache

    jisr.build(SEEDS, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    asked = jisr.SearchRequest.of(" بوتين ", k="2", offset=1, facets="lang,collection", filter='{"lang": "ar"}')
    assert (asked.query, asked.k, asked.paging.offset, asked.facets) == ("بوتين", 2, 1, ("lang", "collection"))
    assert (
        asked == jisr.SearchRequest.of("بوتين", k=2, offset=1, facets=["lang", "collection"], filter={"lang": "ar"})
        and len({asked, asked}) == 1
    )
    with pytest.raises(QueryError, match="--per-document must be from 0 to 10"):
        jisr.SearchRequest.of("بوتين", per_document=11, names=CLI_NAMES)
    with jisr.Index.open(tmp_path / "index", tiny_model) as index:
        index.cache = ResultCache()
        answer = index.search(asked)
        assert isinstance(answer, Answer) and [h.rank for h in answer.hits] == [2, 3] and not answer.cached
        again = index.search("بوتين", k=2, offset=1, facets=["lang", "collection"], filter={"lang": "ar"})
        assert again.cached and replace(again, took_ms=0, cached=False) == replace(answer, took_ms=0)
        assert len(index.cache) == 1
        with pytest.raises(TypeError, match="not both"):
            index.search(asked, k=3)


def test_a_missing_index_is_said_before_a_model_loads(tmp_path):
    with pytest.raises(IndexUnavailable, match="no index at"):
        jisr.Index.open(tmp_path / "nothing")


def test_importing_the_package_loads_no_model_library():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, jisr; jisr.Index; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'faiss') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def test_a_facet_named_twice_is_refused_as_the_schema_says():
    """The API's schema says each facet once (uniqueItems); a repeated name is refused, not silently merged."""
    with pytest.raises(QueryError, match="names 'lang' twice"):
        jisr.SearchRequest.of("بوتين", facets="lang,collection,lang")
    with pytest.raises(QueryError, match="--facet names 'lang' twice"):
        jisr.SearchRequest.of("بوتين", facets=["lang", "lang"], names=CLI_NAMES)
    assert jisr.SearchRequest.of("بوتين", facets="lang, collection").facets == ("lang", "collection")
