"""Arabic typed on the Latin keyboard layout or in Arabizi (jisr.answers.typing), and the index vocabulary it reads."""

import json
import re
from collections import Counter

import pytest

from jisr.answers import typing
from jisr.answers.answer import Answer
from jisr.answers.request import SearchRequest
from jisr.arabic import language
from jisr.cli import _print_results
from jisr.errors import QueryError
from jisr.index import lexical
from jisr.index.vocabulary import EMPTY, Vocabulary
from tests.conftest import ROOT, SEEDS

XQUAD = ROOT.parent / "shared" / "data" / "xquad"


def questions(lang: str) -> list[str]:
    data = json.loads((XQUAD / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    return [q["question"] for article in data for p in article["paragraphs"] for q in p["qas"]]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    """The terms of the seed passages and XQuAD's Arabic paragraphs, as an index of them holds them."""
    data = json.loads((XQUAD / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    texts = [p["context"] for article in data for p in article["paragraphs"]]
    texts += [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    counts = Counter(term for text in texts for term in set(lexical.terms(text)))
    return Vocabulary(counts)


def test_the_issue_examples_are_read_as_the_arabic_meant(vocabulary):
    assert typing.reading("phlgm hg'hzvhj", vocabulary) == typing.Reading("حاملة الطائرات", "layout")
    found = typing.reading("7amlet el ta2erat el faransiya", vocabulary)
    assert found is not None and found.how == "arabizi"
    assert found.searched_as.split() == ["حمله", "الطايرات", "الفرنسيه"]  # folded as the index folds
    assert typing.reading("hamlet al ta2erat", vocabulary).searched_as == "حمله الطايرات"


def test_shifted_keys_and_lam_alef():
    assert typing.from_layout("H") == "أ" and typing.from_layout("Y") == "إ" and typing.from_layout("N") == "آ"
    assert typing.from_layout("b") == "لا" and typing.from_layout("G") == "لأ"
    assert typing.to_layout("لأن الإسلام") == "Gk hTsbl"  # لإ and لا: one key each
    assert typing.from_layout("Gk hTsbl") == "لأن الإسلام"


def test_arabic_words_round_trip_through_the_latin_layout(vocabulary):
    text = "".join(path.read_text(encoding="utf-8") for path in SEEDS.glob("*.txt"))
    words = [w for w in text.split() if w.isalpha() and language(w) == "ar"]
    assert len(words) > 100
    for word in words:
        assert typing.from_layout(typing.to_layout(word)) == word
    arabic = [q for q in questions("ar") if not re.search("[A-Za-z]", q)]  # Latin letters (ASL) cannot round-trip
    read = [typing.reading(typing.to_layout(q), vocabulary) for q in arabic]
    assert sum(r is not None and r.how == "layout" for r in read) >= 0.9 * len(arabic)
    assert all(r.searched_as == q for r, q in zip(read, arabic) if r is not None)


@pytest.mark.parametrize("query", ["Putin visits Paris", "French aircraft carrier", "Shoigu Tartus", "3rd and 2nd"])
def test_english_queries_are_searched_as_typed(vocabulary, query):
    assert typing.reading(query, vocabulary) is None


def test_no_english_or_arabic_xquad_question_is_converted(vocabulary):
    english, arabic = questions("en"), questions("ar")
    assert len(english) >= 1000 and len(arabic) >= 1000
    assert [q for q in english if typing.reading(q, vocabulary) is not None] == []
    assert [q for q in arabic if typing.reading(q, vocabulary) is not None] == []


def test_an_index_whose_words_are_english_keeps_an_english_query():
    english = Vocabulary(Counter(lexical.terms("the french aircraft carrier sailed east")))
    assert typing.reading("French aircraft carrier", english) is None
    assert typing.reading("phlgm hg'hzvhj", EMPTY) is None  # no vocabulary (Milvus): searched as typed


def test_the_vocabulary_merges_segments(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    lexical.write(one, ["حاملة الطائرات شارل ديغول", "الطائرات"])
    lexical.write(two, ["حاملة", "Paris"])
    postings = [lexical.Postings(folder, 2) for folder in (one, two)]
    merged = Vocabulary.merged((p.terms, p.starts) for p in postings)
    assert merged.count("الطايرات") == 2 and merged.count("حامله") == 2 and merged.count("paris") == 1
    assert "ديغول" in merged and "" not in merged
    assert merged.has_prefix("الطا") and not merged.has_prefix("الطو")


def test_as_typed_is_a_checked_request_parameter():
    assert SearchRequest.from_params({"q": "phlgm", "as_typed": "1"}).as_typed is True
    assert SearchRequest.from_params({"q": "phlgm"}).as_typed is False
    assert SearchRequest.from_params({"q": "phlgm", "as_typed": False}).as_typed is False
    with pytest.raises(QueryError, match="as_typed must be true or false"):
        SearchRequest.from_params({"q": "phlgm", "as_typed": "maybe"})


def _answer(**typed) -> Answer:
    return Answer("phlgm hg'hzvhj", "m", "hybrid", "ar", 1, 4, None, None, 0, None, 1.0, (), **typed)


def test_searched_as_and_typed_appear_only_when_the_query_was_converted(capsys):
    assert "searched_as" not in _answer().to_json() and "typed" not in _answer().to_json()
    converted = _answer(searched_as="حاملة الطائرات", typed="phlgm hg'hzvhj").to_json()
    assert list(converted)[:3] == ["query", "searched_as", "typed"] and converted["searched_as"] == "حاملة الطائرات"
    _print_results(_answer(searched_as="حاملة الطائرات", typed="phlgm hg'hzvhj"))
    err = capsys.readouterr().err
    assert "showing results for حاملة الطائرات; search instead for phlgm hg'hzvhj with --as-typed" in err


def test_english_typed_on_the_arabic_layout_is_searched_as_that_english(vocabulary):
    typed = typing.from_layout("weather in damascus")
    assert typed == "صثشفاثق هى يشةشسؤعس"
    assert typing.reading(typed, vocabulary) == typing.Reading("weather in damascus", "english")
    # lam-alef is the b key and also g then h: each English word gets the keys that spell it
    assert typing.reading(typing.from_layout("bring the light"), vocabulary).searched_as == "bring the light"
    assert (
        typing.reading(typing.from_layout("Which French carrier?"), vocabulary).searched_as == "Which French carrier?"
    )


@pytest.mark.parametrize("query", ["حاملة الطائرات", "ما هو", "في", "لا", "ما هي جنسية هويسنج لي؟"])
def test_arabic_queries_stay_arabic(vocabulary, query):
    assert typing.reading(query, vocabulary) is None


def test_an_arabic_word_the_index_knows_is_not_read_as_english_keys(vocabulary):
    # "هى" is "in" on the Arabic layout and a word the index knows: alone it is Arabic, not English
    assert typing.reading("هى", vocabulary) is None
    assert typing.reading("صثشفاثق هى يشةشسؤعس", EMPTY) is None  # no vocabulary (Milvus): searched as typed


@pytest.mark.parametrize("query", ["دمشق", "مصر", "بيروت", "فرنسا"])
def test_an_arabic_word_the_index_lacks_is_not_read_as_english_keys(query):
    # دمشق is "]lar" on the Latin keys, and "lar" is in the English list: with nothing else to go on it was read
    # as English on an index that had lost its one passage with دمشق. No English word is typed with "]" (د),
    # "," (و) or ";" (ك) inside it, and written Arabic uses these words, so they stay Arabic on any index.
    assert typing.reading(query, Vocabulary({"حامله": 2, "الطايرات": 2})) is None


def test_xquad_english_questions_typed_on_the_arabic_layout_are_read_back(vocabulary):
    english = [q for q in questions("en") if q.isascii()]
    read = [typing.reading(typing.from_layout(q), vocabulary) for q in english]
    assert sum(r is not None and r.searched_as == q for r, q in zip(read, english)) >= 0.95 * len(english)
    assert all(r.how == "english" for r in read if r is not None)
