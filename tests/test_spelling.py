"""Did you mean (jisr.answers.spelling): an Arabic query word the index does not know, and the term it was meant."""

import json
import random
from collections import Counter

import pytest

from jisr.answers import spelling
from jisr.answers.answer import Answer
from jisr.cli import _print_results
from jisr.index import lexical
from jisr.index.vocabulary import EMPTY, Vocabulary
from tests.conftest import ROOT, SEEDS

XQUAD = ROOT.parent / "shared" / "data" / "xquad"


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    """The terms of the seed passages and XQuAD's Arabic paragraphs with the paragraphs holding each."""
    data = json.loads((XQUAD / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    texts = [p["context"] for article in data for p in article["paragraphs"]]
    texts += [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text(encoding="utf-8").split("\n\n")]
    return Vocabulary(Counter(term for text in texts for term in set(lexical.terms(text))))


def test_a_slip_in_one_word_is_suggested_back_in_the_users_spelling(vocabulary):
    assert spelling.suggestion("حاملة الطائرت", vocabulary) == "حاملة الطائرات"  # a dropped alef
    assert spelling.suggestion("حامةل الطائرات", vocabulary) == "حاملة الطائرات"  # two letters swapped: ة kept
    assert spelling.suggestion("الرئيس الفرنسسي", vocabulary) == "الرئيس الفرنسي"  # a doubled letter
    assert spelling.suggestion("الرئيس الفرمسي", vocabulary) == "الرئيس الفرنسي"  # ن's neighbouring key م
    assert spelling.suggestion("مباحثات بوتيم؟", vocabulary) == "مباحثات بوتين؟"  # punctuation as typed


def test_a_long_query_of_unknown_words_tries_a_few_of_them():
    vocabulary = Vocabulary({"الطايرات": 5})
    many = " ".join(["الطائرت"] * (spelling.MAX_TRIED + 2))
    assert spelling.suggestion(many, vocabulary).split().count("الطائرات") == spelling.MAX_TRIED


def test_the_more_frequent_of_equally_near_candidates_is_suggested():
    vocabulary = Vocabulary({"كتاه": 9, "كتان": 2})
    assert spelling.correction("كتات", vocabulary) == "كتاه"  # ن and ه: both keys beside ت
    assert spelling.correction("كتات", Vocabulary({"كتاه": 2, "كتان": 9})) == "كتان"


def test_a_slip_is_preferred_to_another_edit_and_a_rare_term_is_never_suggested():
    vocabulary = Vocabulary({"مدرسه": 3, "مدرعه": 50, "مدرسي": 1})
    assert spelling.correction("مدرصه", vocabulary) == "مدرسه"  # ص is next to س on the keyboard; ع is not
    assert spelling.correction("مدرسب", Vocabulary({"مدرسي": 1})) is None  # held by one passage: not frequent


def test_two_slips_reach_a_frequent_term_only():
    assert spelling.correction("الطيارت", Vocabulary({"الطايرات": spelling.FAR_COUNT})) == "الطايرات"
    assert spelling.correction("الطيارت", Vocabulary({"الطايرات": spelling.FAR_COUNT - 1})) is None


def test_nothing_is_suggested_for_known_words_numbers_latin_or_an_empty_vocabulary(vocabulary):
    for query in ("حاملة الطائرات", "مباحثات هاتفية بين بوتين والرئيس الفرنسي", "French aircraft carrier",
                  "phlgm hg'hzvhj", "7amlet el ta2erat", "الطائرت2020", "2020الطائرت", "١٢٣"):  # fmt: skip
        assert spelling.suggestion(query, vocabulary) is None, query
    assert spelling.suggestion("حاملة الطائرت", EMPTY) is None  # an index on Milvus: no vocabulary to read
    assert spelling.suggestion("حاملة الطائرت", lambda: vocabulary) == "حاملة الطائرات"  # asked for when needed


def test_a_word_arabic_uses_often_or_the_index_holds_in_another_form_is_left_alone():
    vocabulary = Vocabulary({"مادا": 50, "كتاب": 9, "مكتب": 9, "متبق": 9})
    assert spelling.correction("ماذا", vocabulary) is None  # a question word: common in wordfreq's Arabic
    assert spelling.correction("وكتاب", vocabulary) is None  # a clitic on a known word
    assert spelling.correction("كتابها", vocabulary) is None  # a pronoun on a known word
    assert spelling.correction("متبقيا", vocabulary) is None  # the accusative alef on a known stem
    assert spelling.correction("لكتاب", Vocabulary({"كتاب": 9, "لكتان": 9})) is None  # a clitic the stemmer left
    assert spelling.correction("ماسم", Vocabulary({"اسم": 2, "باسم": 9})) is None  # ما run into اسم
    assert spelling.correction("ميثوديين", Vocabulary({"الميثوديين": 9})) is None  # the article is no typo


def test_every_edit_is_one_edit_and_slips_are_the_neighbouring_keys():
    assert "ص" in spelling.NEIGHBOURS["س"] and "ض" in spelling.NEIGHBOURS["ص"] and "م" in spelling.NEIGHBOURS["ن"]
    assert "ق" not in spelling.NEIGHBOURS["س"]
    made = dict(spelling.edits("كتب"))
    assert made["تكب"] == spelling.SLIP and made["كب"] == spelling.OTHER and made["كتاب"] == spelling.SLIP
    assert all(len(e) in (2, 3, 4) for e in made)
    assert set(dict(spelling.edits("كتب", slips_only=True)).values()) == {spelling.SLIP}


def test_few_correct_xquad_questions_get_a_suggestion_and_seeded_slips_get_their_word_back(vocabulary):
    data = json.loads((XQUAD / "xquad.ar.json").read_text(encoding="utf-8"))["data"]
    questions = [q["question"] for article in data for p in article["paragraphs"] for q in p["qas"]]
    suggested = [q for q in questions if spelling.suggestion(q, vocabulary) is not None]
    assert len(suggested) <= 0.05 * len(questions)  # most of them are typos in the questions themselves
    rng, restored = random.Random(51), 0
    words = [w for q in questions for w in q.split() if w.isalpha() and len(w) >= 5]
    for word in rng.sample(words, 200):
        typo = word[:2] + word[2] * 2 + word[3:]  # a doubled letter
        hint = spelling.suggestion(typo, vocabulary)
        restored += hint is not None and hint.translate(spelling._FOLD) == word.translate(spelling._FOLD)
    assert restored >= 60


def _answer(**more) -> Answer:
    return Answer("حاملة الطائرت", "m", "hybrid", "ar", 1, 4, None, None, 0, None, 1.0, (), **more)


def test_suggest_appears_only_when_there_is_one_and_the_cli_says_it(capsys):
    assert "suggest" not in _answer().to_json()
    answer = _answer(suggest="حاملة الطائرات").to_json()
    assert answer["suggest"] == "حاملة الطائرات" and list(answer)[:2] == ["query", "suggest"]
    _print_results(_answer(suggest="حاملة الطائرات"))
    assert "did you mean: حاملة الطائرات" in capsys.readouterr().err
