"""BM25 over normalized Arabic words, on texts the test writes."""
import numpy as np

from search.lexical import LexicalIndex

TEXTS = [
    "أمر الرئيسُ الروسيّ فلاديمير بوتين البحرية بالتنسيق مع حاملة الطائرات",
    "ضربت صواريخ كروز أهدافا في سوريا عام 2015",
    "الطقس معتدل في موسكو هذا الأسبوع",
]


def test_scores_follow_the_texts_order_and_match_across_spelling_variants():
    index = LexicalIndex(TEXTS)
    scores, coverage = index.scores("الرئيس بوتين")  # no diacritics in the query, some in the text
    assert scores.shape == (3,)
    assert int(np.argmax(scores)) == 0 and scores[1] == scores[2] == 0
    assert coverage == 1.0
    scores, _ = index.scores("صواريخ 2015")
    assert int(np.argmax(scores)) == 1


def test_coverage_is_the_share_of_query_words_the_texts_hold():
    index = LexicalIndex(TEXTS)
    scores, coverage = index.scores("Putin ordered بوتين موسكو")
    assert coverage == 0.5
    assert scores[0] > 0 and scores[2] > 0 and scores[1] == 0


def test_a_query_with_no_known_word_scores_nothing():
    index = LexicalIndex(TEXTS)
    for query in ("Which carrier?", "", "!!!"):
        scores, coverage = index.scores(query)
        assert coverage == 0.0 and not scores.any() and scores.shape == (3,)
