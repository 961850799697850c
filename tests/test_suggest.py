"""Suggestions as one types: the vocabulary's terms by prefix (jisr.index.completions), the word being typed
completed (jisr.answers.suggestions), and `GET /api/suggest` on a real server."""

import json
import random
import shutil
from collections import Counter

import pytest

import jisr
from jisr.answers import suggestions
from jisr.errors import QueryError
from jisr.index import completions, lexical
from jisr.index.options import BuildOptions
from jisr.index.titles import Titles
from jisr.index.vocabulary import EMPTY, Vocabulary
from tests.conftest import SEEDS, cli_imports
from tests.test_api import get
from tests.test_cli import jisr as jisr_cli


def by_sorting(counts: dict[str, int], prefix: str, k: int) -> list[tuple[str, int]]:
    """What a look-up must give, by sorting every matching term: most frequent first, then in sorted order."""
    return sorted(((t, n) for t, n in counts.items() if t.startswith(prefix)), key=lambda tn: (-tn[1], tn[0]))[:k]


def test_the_look_up_gives_what_sorting_each_prefixs_terms_gives():
    rng = random.Random(7)
    letters = "ابتحلمنةيى"
    counts = {}
    while len(counts) < 6 * completions.BLOCK + 17:  # runs of many whole blocks, and a partial last block
        word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 6)))
        counts[word] = int(rng.paretovariate(1.1))  # Zipf-like: many ties at 1, a few large counts
    found = Vocabulary(counts).completions
    prefixes = ["", "ا", "ال", "ب", "ي", "ى", "ىى", "اب", "ابت", "z", "ةةةةةة", "ةةةةةةة"]
    for prefix in prefixes:
        for k in (1, 3, 10, completions.KEEP):
            assert found.top(prefix, k) == by_sorting(counts, prefix, k), (prefix, k)
    assert found.top("ا", completions.KEEP + 20) == by_sorting(counts, "ا", completions.KEEP)
    assert found.nbytes >= 8 * len(counts)


def test_an_empty_vocabulary_completes_nothing():
    assert EMPTY.completions.top("ا", 10) == []
    assert suggestions.suggest("حامل", EMPTY).terms == ()


@pytest.fixture(scope="module")
def seeds() -> Vocabulary:
    """The seed passages' terms, as an index of them holds them."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    return Vocabulary(Counter(term for text in texts for term in set(lexical.terms(text))))


def test_the_last_word_is_completed_folded_as_the_index_folds_it(seeds):
    answer = suggestions.suggest("حاملة الطا", seeds, 5).to_json()
    assert answer["prefix"] == "الطا"
    assert {"text": "حاملة الطايرات", "term": "الطايرات", "count": seeds.count("الطايرات")} in answer["suggestions"]
    assert all(s["term"].startswith("الطا") and s["text"].startswith("حاملة ") for s in answer["suggestions"])
    counts = [s["count"] for s in answer["suggestions"]]
    assert counts == sorted(counts, reverse=True)
    # hamza, ta marbuta and alef maqsura forms are folded, as the index folds them: the same terms
    assert suggestions.suggest("الطأ", seeds, 5).terms == suggestions.suggest("الطا", seeds, 5).terms
    assert suggestions.suggest("حاملة", seeds).prefix == "حامله"
    assert suggestions.suggest("FRENCH", seeds).prefix == "french"


def test_a_finished_word_or_a_mark_alone_gets_no_suggestion(seeds):
    assert suggestions.suggest("حاملة ", seeds).to_json() == {
        "q": "حاملة ",
        "prefix": "",
        "suggestions": [],
        "titles": [],
    }
    assert suggestions.suggest("حاملة ?", seeds).terms == ()
    assert suggestions.suggest("zqxj", seeds).to_json()["suggestions"] == []


@pytest.mark.parametrize(
    "q,limit,fragment",
    [
        ("", 10, "empty"),
        ("   ", 10, "empty"),
        (None, 10, "empty"),
        ("a" * 1001, 10, "limit is 1000"),
        ("\ud800", 10, "not valid text"),
        ("حا", 0, "limit must be from 1 to 50"),
        ("حا", 51, "limit must be from 1 to 50"),
        ("حا", "ten", "limit must be a whole number"),
        ("حا", "1.5", "limit must be a whole number"),
        ("حا", True, "limit must be a whole number"),
    ],
)
def test_bad_input_is_refused_with_a_message(q, limit, fragment):
    with pytest.raises(QueryError, match=fragment):
        suggestions.checked(q, limit)


def test_titles_are_found_by_the_line_folded_those_most_documents_bear_first():
    titles = Titles(
        ["حاملة الطائرات شارل ديغول", "حاملة الطائرات  شارل ديغول", "حاملة الطائرات", "Hollande in Washington", "!"]
    )
    assert len(titles) == 3  # a title with no word is no title to offer; spaces do not make another
    assert titles.top("حاملة الط", 5) == [("حاملة الطائرات شارل ديغول", 2), ("حاملة الطائرات", 1)]
    assert titles.top("حامله الطاي", 5) == titles.top("حاملة الطائ", 5)  # folded as the index folds
    assert titles.top("HOLLANDE i", 5) == [("Hollande in Washington", 1)]
    assert titles.top("حاملة الطائرات ش", 1) == [("حاملة الطائرات شارل ديغول", 2)]
    assert titles.top("?", 5) == [] and titles.top("Washington", 5) == []  # the beginning only


def test_an_index_suggests_its_live_documents_titles_and_terms(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "saffron.txt").write_text("زعفران الأسواق\n\nتقرير قصير عن زعفران الأسواق.", encoding="utf-8")
    jisr.build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    with jisr.Index.open(tmp_path / "index", tiny_model) as index:
        answer = index.suggest("زعفر").to_json()
        assert answer["titles"] == [{"title": "زعفران الأسواق", "count": 1}]
        assert {"text": "زعفران", "term": "زعفران", "count": 1} in answer["suggestions"]
        assert index.suggest("بوتين يأمر").to_json()["titles"][0]["title"].startswith("بوتين يأمر بالتنسيق")
        with pytest.raises(QueryError, match="limit"):
            index.suggest("زعفر", 0)
        # jisr suggest answers the same from the store alone: no model loaded, bad input one line and exit 1
        cli, heavy, code = cli_imports(["suggest", "زعفر", "--index", str(tmp_path / "index"), "--json"])
        assert code == 0 and json.loads(cli.stdout) == answer and not {"torch", "sentence_transformers"} & set(heavy)
        told = jisr_cli("suggest", "زعفر", "--index", str(tmp_path / "index"))
        assert told.returncode == 0 and "زعفران الأسواق  (1 document: title)" in told.stdout.splitlines()
        refused = jisr_cli("suggest", "زعفر", "--limit", "0", "--index", str(tmp_path / "index"))
        assert refused.returncode == 1 and refused.stderr.strip() == "jisr: error: --limit must be from 1 to 50, not 0"
        refused = jisr_cli("suggest", " ", "--index", str(tmp_path / "index"))
        assert refused.returncode == 1 and "the prefix is empty" in refused.stderr and "Traceback" not in refused.stderr
    (corpus / "saffron.txt").unlink()
    jisr.build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    with jisr.Index.open(tmp_path / "index", tiny_model) as index:  # the removed document's title is gone
        # its terms stay until its segment is merged away: the vocabulary counts deleted rows, as BM25's statistics do
        assert index.suggest("زعفر").titles == ()


def test_suggest_over_http(server):
    status, headers, body = get(server, "/api/suggest", q="حاملة الط")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert body["q"] == "حاملة الط" and body["prefix"] == "الط"
    assert "حاملة الطايرات" in [s["text"] for s in body["suggestions"]]
    counts = [s["count"] for s in body["suggestions"]]
    assert counts == sorted(counts, reverse=True) and 0 < len(counts) <= suggestions.DEFAULT_LIMIT
    status, _, one = get(server, "/api/suggest", q="ال", limit=1)
    assert status == 200 and len(one["suggestions"]) == 1
    status, _, titled = get(server, "/api/suggest", q="بوتين يأمر")
    assert status == 200 and titled["titles"] == [{"title": "بوتين يأمر بالتنسيق مع فرنسا والعمل كحليفيْن", "count": 1}]
    status, _, spec = get(server, "/openapi.json")
    assert set(spec["paths"]["/api/suggest"]) == {"get"}


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({}, "empty"),
        ({"q": ""}, "empty"),
        ({"q": "a" * 1001}, "limit is 1000"),
        ({"q": "ال", "limit": "0"}, "from 1 to 50"),
        ({"q": "ال", "limit": "x"}, "whole number"),
        ({"q": "ال", "k": "5"}, "unknown parameter 'k'"),
    ],
)
def test_bad_suggest_requests_are_400_with_a_message(server, params, fragment):
    status, _, body = get(server, "/api/suggest", **params)
    assert status == 400 and body["error"] == "bad_request" and fragment in body["message"], body


def test_the_word_as_typed_is_kept_where_it_folds_letter_for_letter(seeds):
    assert suggestions.suggest("حاملة", seeds).texts() == ["حاملة"]  # not the folded حامله: what a list shows
    assert suggestions.suggest("بوتين يأمر بالتنس", seeds, 1).texts() == ["بوتين يأمر بالتنسيق"]
    assert suggestions.suggest("شارل-ديغ", seeds, 1).texts() == ["شارل-ديغول"]  # only the word's own letters complete
    assert suggestions.suggest("(حامل", seeds, 1).texts() == ["(حامل"]


def test_without_an_index_a_suggestion_is_503_and_a_bad_one_still_400(tmp_path):
    from jisr.web import create_app
    from tests.conftest import serving

    app = create_app({"INDEX": str(tmp_path / "missing"), "MODEL": None})
    with serving(app) as base:
        status, _, body = get(base, "/api/suggest", q="حامل")
        assert status == 503 and body["error"] == "no_index" and "jisr build" in body["message"]
        status, _, body = get(base, "/api/suggest", q="حامل", limit="-1")  # checked before the index is asked for
        assert status == 400 and "limit must be from 1 to 50" in body["message"]
