"""Names across scripts: a Latin query's names found in the index's Arabic vocabulary, and added to hybrid's BM25."""

from __future__ import annotations

import collections

import numpy as np

from jisr import arabic
from jisr.answers import names
from jisr.answers.searcher import Searcher
from jisr.index.build import build
from jisr.index.options import BuildOptions
from jisr.index.vocabulary import Vocabulary
from jisr.weights import shipped
from tests.conftest import SEEDS


def seed_vocabulary() -> Vocabulary:
    """The seeds' terms and passage counts, as an index of them holds (one passage a file is enough here)."""
    counts = collections.Counter()
    for f in SEEDS.iterdir():
        counts.update(set(arabic.terms(f.read_text(encoding="utf-8"))))
    return Vocabulary(counts)


def test_a_name_in_latin_letters_is_found_as_the_seeds_spell_it():
    vocabulary = seed_vocabulary()
    assert "شويغو" in names.arabic_names("What did Shoigu say about the army?", vocabulary)
    assert names.arabic_names("Hollande on the carrier", vocabulary) == ["هولاند"]
    # the article: Assad is الاسد's skeleton less ال; Tartus is one class from a term written طرطس
    assert names.arabic_names("Assad", Vocabulary({"الاسد": 3, "سعد": 1})) == ["الاسد", "سعد"]
    assert names.arabic_names("Tartus port", Vocabulary({"طرطس": 2, "ترك": 9})) == ["طرطس"]


def test_skeletons_agree_across_scripts_and_common_english_words_are_left_alone():
    assert names.latin_skeleton("Shoigu") == "xg" and names.arabic_skeletons("شويغو") == {"xg"}
    assert names.latin_skeleton("Hollande") == names.latin_skeleton("Holland") == "hlnd"
    assert names.latin_skeleton("Fatimah") == names.latin_skeleton("Fatima") == "ftm"
    assert names.arabic_skeletons("فاطمه") == {"ftm"}  # ta marbuta, folded to ه, left out like a final h
    one_edit = names.variants("trts")
    assert {"trs", "trtk", "trtsn", "ktrts"} <= one_edit and "trts" not in one_edit and "tr" not in one_edit
    assert names.may_be_name("Shoigu") and names.may_be_name("Hollande") and names.may_be_name("shoigu")
    assert not names.may_be_name("French") and not names.may_be_name("carrier") and not names.may_be_name("What")
    vocabulary = seed_vocabulary()
    # "French aircraft carrier": English words only, however close their skeletons come to Arabic terms
    assert names.arabic_names("French aircraft carrier", vocabulary) == []
    assert names.arabic_names("the army said", Vocabulary({"الارمي": 1, "سعيد": 5})) == []


def test_an_arabic_query_is_never_read_and_never_asks_for_the_vocabulary():
    def vocabulary() -> Vocabulary:
        raise AssertionError("an Arabic query asked for the vocabulary")

    assert names.arabic_names("ماذا قال شويغو عن الجيش", vocabulary) == []
    assert names.arabic_names("حاملة الطائرات Shoigu", vocabulary) == []  # Arabic letters outnumber Latin
    assert names.arabic_names("Shoigu", Vocabulary({})) == []  # an index on Milvus has no vocabulary


def test_an_english_query_with_a_name_gets_bm25_evidence_it_did_not_have(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, who in enumerate(["شويغو", "لافروف", "بوتين", "هولاند", "الجيش", "الوزير"]):
        (corpus / f"d{i}.txt").write_text(f"قال {who} إن الاجتماع عقد في موسكو يوم {i}.\n", encoding="utf-8")
    build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    searcher = Searcher.open(tmp_path / "index", tiny_model)
    query = "What did Shoigu say about the meeting?"
    ids, with_names, _ = searcher.scores(query, "hybrid")
    searcher.weights = shipped().but(names=0.0)
    same_ids, without, _ = searcher.scores(query, "hybrid")
    assert np.array_equal(ids, same_ids)
    docs = [p.doc_id for p in searcher.index.passages(ids)]
    added = (with_names - without) / shipped().names
    assert np.allclose(added, [d == "d0.txt" for d in docs], atol=1e-5)  # شويغو's passage, and only it
    assert searcher.index.lexical_candidates(query, 10)[1].max(initial=0) == 0  # BM25 alone had nothing
    # an Arabic query ranks exactly as without names
    arabic_query = "ماذا قال شويغو عن الاجتماع"
    without_ar = searcher.scores(arabic_query, "hybrid")[1]
    searcher.weights = shipped()
    assert np.array_equal(searcher.scores(arabic_query, "hybrid")[1], without_ar)
