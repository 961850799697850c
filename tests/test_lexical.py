"""BM25 over normalized Arabic words: saved postings, global IDF across segments, agreement with bm25s."""

import numpy as np
import pytest

from jisr.index import lexical

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
    ((rows, scores),) = result
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
        assert (
            np.argsort(-dense(one, len(TEXTS)), kind="stable")[:2].tolist()
            == np.argsort(-split, kind="stable")[:2].tolist()
        )
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
    assert isinstance(segment.rows.base, np.memmap) and not segment.rows.flags.writeable  # a view of the file
    np.save(tmp_path / "seg" / "starts.npy", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="disagree"):
        lexical.Postings(tmp_path / "seg", len(TEXTS))


def test_best_keeps_each_segments_n_best_live_passages_and_they_hold_the_n_best_of_all(tmp_path):
    rng = np.random.default_rng(3)
    words = ["بوتين", "موسكو", "في", "من", "الرئيس", "سوريا", "صواريخ", "الطقس", "حاملة", "البحرية"]
    texts = [" ".join(rng.choice(words, rng.integers(3, 12))) for _ in range(300)]
    for row in (5, 7, 130, 260):  # a rare word: few postings are added up sparsely
        texts[row] += " فريد"
    parts = [postings(tmp_path, texts[a:b], f"p{a}") for a, b in ((0, 120), (120, 250), (250, 300))]
    deleted = [rng.random(p.size) < 0.2 for p in parts]
    bases = [0, 120, 250]
    for query in ("الرئيس بوتين في موسكو", "في من", "صواريخ سوريا", "فريد", "فريد في", "Putin"):
        full, coverage = lexical.scores(parts, query)
        kept, same = lexical.best(parts, query, 15, deleted)
        assert same == coverage
        live = [(r[~d[r]] + b, s[~d[r]]) for (r, s), d, b in zip(full, deleted, bases)]
        ids, scores = np.concatenate([i for i, _ in live]), np.concatenate([s for _, s in live])
        found_ids = np.concatenate([r + b for (r, _), b in zip(kept, bases)])
        found_scores = np.concatenate([s for _, s in kept])
        assert not np.isin(found_ids, np.concatenate([np.flatnonzero(d) + b for d, b in zip(deleted, bases)])).any()
        assert all(len(r) <= 15 for r, _ in kept)
        expected = np.sort(lexical.top(ids, scores, 15)[1])
        np.testing.assert_allclose(np.sort(lexical.top(found_ids, found_scores, 15)[1]), expected, rtol=1e-6)


@pytest.mark.parametrize("words", [3, 40])  # few words: thousands of passages tie; many: few do
def test_best_of_a_large_segment_holds_its_n_best_scores_ties_and_deletes_included(tmp_path, words):
    rng = np.random.default_rng(words)
    vocabulary = [f"كلمة{i}" for i in range(words)]
    texts = [" ".join(rng.choice(vocabulary, rng.integers(1, 6))) for _ in range(5000)]
    segment = postings(tmp_path, texts)
    deleted = rng.random(len(texts)) < 0.3
    for query in (vocabulary[0], " ".join(vocabulary[:3]), vocabulary[-1] + " " + vocabulary[1]):
        ((all_rows, all_scores),) = lexical.scores([segment], query)[0]
        live = ~deleted[all_rows]
        for n in (1, 15, 200, 4000):
            ((rows, scores),) = lexical.best([segment], query, n, [deleted])[0]
            assert len(rows) == min(n, live.sum()) and np.all(np.diff(rows) > 0) and not deleted[rows].any()
            expected = np.sort(all_scores[live])[::-1][:n]
            np.testing.assert_array_equal(np.sort(scores)[::-1], expected)


def test_common_terms_dense_columns_score_as_their_postings_and_segments_without_them_still_answer(tmp_path):
    rng = np.random.default_rng(5)
    common, rare = ["في", "من", "على"], ["بوتين", "موسكو", "سوريا", "صواريخ", "الطقس", "حاملة", "البحرية"]
    texts = [" ".join(list(rng.choice(common, rng.integers(1, 4))) + list(rng.choice(rare, 2))) for _ in range(400)]
    texts[17] += " فريد"
    with_columns = postings(tmp_path, texts, "new")
    df = np.diff(np.asarray(with_columns.starts))
    assert set(with_columns.column) == set(np.flatnonzero(df * lexical.DENSE_SHARE >= len(texts)).tolist())
    assert {with_columns.lookup(lexical.terms(w)[0]) for w in common} <= set(with_columns.column)
    assert with_columns.lookup(lexical.terms("فريد")[0]) not in with_columns.column
    postings(tmp_path, texts, "old")
    for name in lexical.DENSE_FILES:  # as a segment written before the columns existed
        (tmp_path / "old" / name).unlink()
    without = lexical.Postings(tmp_path / "old", len(texts))
    assert not without.column
    assert with_columns.dense.dtype == np.uint8  # a term count a passage
    assert (tmp_path / "new" / "dense.npy").stat().st_size < len(with_columns.column) * len(texts) + 200
    postings(tmp_path, texts, "floats")  # as a segment written when the columns held the saturation as floats
    counts = np.load(tmp_path / "floats" / "dense.npy")
    np.save(tmp_path / "floats" / "dense.npy", lexical.saturate(counts, np.load(tmp_path / "floats" / "norms.npy")))
    floats = lexical.Postings(tmp_path / "floats", len(texts))
    assert floats.dense.dtype == np.float32 and set(floats.column) == set(with_columns.column)
    deleted = rng.random(len(texts)) < 0.1
    for query in ("في موسكو", "من على في", "فريد في", "صواريخ سوريا", "Putin"):
        ((rows, scores),) = lexical.scores([with_columns], query)[0]
        for other in (without, floats):
            ((same_rows, same_scores),) = lexical.scores([other], query)[0]
            assert np.array_equal(rows, same_rows) and np.array_equal(scores, same_scores)
        ((rows, scores),) = lexical.best([with_columns], query, 20, [deleted])[0]
        for other in (without, floats):
            ((same_rows, same_scores),) = lexical.best([other], query, 20, [deleted])[0]
            assert np.array_equal(np.sort(scores), np.sort(same_scores)) and not deleted[rows].any()
    np.save(tmp_path / "new" / "dense.npy", np.zeros((len(with_columns.column), len(texts) - 1), np.float32))
    with pytest.raises(ValueError, match="disagree"):
        lexical.Postings(tmp_path / "new", len(texts))


def test_postings_keep_term_counts_and_row_norms_and_segments_with_saturated_weights_answer_the_same(tmp_path):
    rng = np.random.default_rng(8)
    words = ["في", "من", "بوتين", "موسكو", "سوريا", "صواريخ", "الطقس", "حاملة", "البحرية"]
    texts = [" ".join(rng.choice(words, rng.integers(1, 30))) for _ in range(300)] + [" ".join(["موسكو"] * 300)]
    new = postings(tmp_path, texts, "new")
    assert new.weights is None and new.tf.dtype == np.uint8 and new.tf.max() == lexical.MAX_TF  # 300 counts as 255
    assert (tmp_path / "new" / "tf.npy").stat().st_size < (tmp_path / "new" / "rows.npy").stat().st_size / 3
    postings(tmp_path, texts, "old")  # as a segment written before counts: the saturation, float32
    old_tf, old_norms = np.load(tmp_path / "old" / "tf.npy"), np.load(tmp_path / "old" / "norms.npy")
    np.save(
        tmp_path / "old" / "weights.npy", lexical.saturate(old_tf, old_norms[np.load(tmp_path / "old" / "rows.npy")])
    )
    np.save(tmp_path / "old" / "dense.npy", lexical.saturate(np.load(tmp_path / "old" / "dense.npy"), old_norms))
    for name in lexical.COUNTS:
        (tmp_path / "old" / name).unlink()
    old = lexical.Postings(tmp_path / "old", len(texts))
    assert old.weights is not None
    for query in ("في موسكو", "بوتين", "صواريخ سوريا الطقس", "موسكو"):
        ((rows, scores),) = lexical.scores([new], query)[0]
        ((same_rows, same_scores),) = lexical.scores([old], query)[0]
        assert np.array_equal(rows, same_rows) and np.array_equal(scores, same_scores) and scores.any()
    np.save(tmp_path / "new" / "norms.npy", np.ones(len(texts) - 1, np.float32))
    with pytest.raises(ValueError, match="disagree"):
        lexical.Postings(tmp_path / "new", len(texts))
