"""Phrase evidence: runs of an Arabic query's words in order, added to hybrid for Arabic queries only."""

from __future__ import annotations

import numpy as np

from jisr.answers import phrase
from jisr.answers.searcher import Searcher
from jisr.index.build import build
from jisr.index.options import BuildOptions
from jisr.weights import shipped

PHRASE = "من ستر مسلما ستره الله يوم القيامة"


def test_the_longest_run_is_of_consecutive_words_in_the_querys_order():
    assert phrase.longest_run("a b c d".split(), "x a b c y a b c d z".split()) == 4
    assert phrase.longest_run("a b c".split(), "c b a".split()) == 1  # the same words, not in order
    assert phrase.longest_run("a a a".split(), "a a".split()) == 2
    assert phrase.longest_run([], "a".split()) == 0 and phrase.longest_run("a".split(), []) == 0


def test_shares_count_runs_of_min_run_words_read_as_bm25_reads_them():
    vocalized = "مَنْ سَتَرَ مُسْلِمًا سَتَرَهُ اللَّهُ يَوْمَ الْقِيَامَةِ"  # marks and all: the same words
    min_run = shipped().phrase_min_run
    got = phrase.shares(PHRASE, [vocalized, "ستر الله مسلما من", "قال من ستر مسلما في الدنيا"], min_run)
    assert np.allclose(got, [1.0, 0.0, 3 / 7])  # two words in order are no phrase (MIN_RUN = 3)
    assert not phrase.shares("ستر مسلما", [PHRASE], min_run).any()  # a query shorter than a phrase


def test_hybrid_adds_phrase_evidence_to_arabic_queries_only(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    words = PHRASE.split()
    for i in range(8):  # the phrase's words in every document, in order in one only
        backwards = words[::-1]
        shuffled = words if i == 5 else backwards[i % 4 :] + backwards[: i % 4]  # never two words in order
        (corpus / f"d{i}.txt").write_text(f"باب {i}\nقال {' '.join(shuffled)} والحديث رقم {i}.\n", encoding="utf-8")
    build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    searcher = Searcher.open(tmp_path / "index", tiny_model)
    ids, with_phrases, _ = searcher.scores(PHRASE, "hybrid")
    searcher.weights = shipped().but(phrase=0.0)
    same_ids, without, _ = searcher.scores(PHRASE, "hybrid")
    assert np.array_equal(ids, same_ids)
    added = (with_phrases - without) / shipped().phrase
    texts = [p.text for p in searcher.index.passages(ids)]
    expected = phrase.shares(PHRASE, texts, shipped().phrase_min_run)
    assert np.allclose(added, expected) and np.allclose(added, [PHRASE in t for t in texts])
    searcher.weights = shipped()
    assert searcher.search(PHRASE, k=1).to_json()["results"][0]["doc_id"] == "d5.txt"
    # more Latin letters than Arabic ones: an English query, though it quotes the phrase
    quoting = f"Whoever covers the faults of a Muslim, Allah will cover his faults: «{PHRASE}»"
    assert phrase.shares(quoting, texts, shipped().phrase_min_run).max() > 0
    default = searcher.scores(quoting, "hybrid")[1]
    searcher.weights = shipped().but(phrase=0.0)
    assert np.array_equal(searcher.scores(quoting, "hybrid")[1], default)
