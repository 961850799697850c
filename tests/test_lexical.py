"""BM25 over normalized Arabic words: saved postings, global IDF across segments, agreement with bm25s."""
import numpy as np
import pytest

from search import lexical

TEXTS = [
    "أمر الرئيسُ الروسيّ فلاديمير بوتين البحرية بالتنسيق مع حاملة الطائرات",
    "ضربت صواريخ كروز أهدافا في سوريا عام 2015",
    "الطقس معتدل في موسكو هذا الأسبوع",
    "",
    "بوتين بوتين في موسكو مع الرئيس الفرنسي",
]


def postings(tmp_path, texts, name="seg"):
    lexical.write(tmp_path / name, texts)
    return lexical.Postings(tmp_path / name, len(texts))


def dense(result, size):
    (rows, scores), = result
    out = np.zeros(size, np.float32)
    out[rows] = scores
    return out


def test_scores_equal_bm25s_on_one_segment(tmp_path):
    import bm25s

    reference = bm25s.BM25()
    reference.index([lexical.terms(t) or [""] for t in TEXTS], show_progress=False)
    segment = postings(tmp_path, TEXTS)
    for query in ("الرئيس بوتين", "في موسكو", "صواريخ 2015 2015", "بوتين"):
        known = [t for t in lexical.terms(query) if t in reference.vocab_dict]
        expected = reference.get_scores(known)
        result, _ = lexical.scores([segment], query)
        np.testing.assert_allclose(dense(result, len(TEXTS)), expected, rtol=1e-5, atol=1e-6)
        assert expected.any()


def test_a_passage_scores_the_same_whichever_segment_holds_it(tmp_path):
    whole = postings(tmp_path, TEXTS, "whole")
    parts = [postings(tmp_path, TEXTS[:2], "a"), postings(tmp_path, TEXTS[2:], "b")]
    for query in ("الرئيس بوتين", "موسكو الطقس"):
        one, _ = lexical.scores([whole], query)
        two, _ = lexical.scores(parts, query)
        split = np.zeros(len(TEXTS), np.float32)
        split[two[0][0]] = two[0][1]
        split[two[1][0] + 2] = two[1][1]
        # the IDF is shared; only the average length differs per segment, so the order of passages holds
        assert np.argsort(-dense(one, len(TEXTS)), kind="stable")[:2].tolist() == \
            np.argsort(-split, kind="stable")[:2].tolist()
        assert (split > 0).tolist() == (dense(one, len(TEXTS)) > 0).tolist()


def test_coverage_is_the_share_of_query_words_the_texts_hold_weighted_by_idf(tmp_path):
    segment = postings(tmp_path, TEXTS)
    result, coverage = lexical.scores([segment], "Putin ordered بوتين موسكو")
    unknown, known = lexical.idf(0, len(TEXTS)), lexical.idf(2, len(TEXTS))  # بوتين and موسكو: 2 texts each
    assert coverage == pytest.approx(2 * known / (2 * unknown + 2 * known))
    assert 0 < coverage < 0.5  # by count it would be half; the words the texts lack weigh more
    scores = dense(result, len(TEXTS))
    assert scores[0] > 0 and scores[2] > 0 and scores[1] == 0


def test_words_that_every_text_has_give_an_english_query_almost_no_coverage(tmp_path):
    # English hadith translations write "ﷺ", which reads as four Arabic words that every hadith has
    hadiths = [f"قال رسول الله صلى الله عليه وسلم {w}" for w in ("الصلاة", "الصيام", "الزكاة", "الحج", "الصدقة")]
    _, coverage = lexical.scores([postings(tmp_path, hadiths)], "The Messenger of Allah ﷺ said: fasting is a shield")
    assert coverage < 0.05  # counted by words, it was 4 of 12
    _, arabic = lexical.scores([postings(tmp_path, hadiths, "again")], "رسول الله الصيام")
    assert arabic == 1.0


@pytest.mark.parametrize("query", ["Which carrier?", "", "!!!"])
def test_a_query_with_no_known_word_scores_nothing(tmp_path, query):
    result, coverage = lexical.scores([postings(tmp_path, TEXTS)], query)
    assert coverage == 0.0 and len(result[0][0]) == 0


def test_postings_are_memory_mapped_and_files_that_disagree_are_refused(tmp_path):
    segment = postings(tmp_path, TEXTS)
    assert isinstance(segment.rows, np.memmap)
    np.save(tmp_path / "seg" / "starts.npy", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="disagree"):
        lexical.Postings(tmp_path / "seg", len(TEXTS))
