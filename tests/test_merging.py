"""A query read as Arabizi is searched as its reading and as typed, merged (jisr.answers.merging)."""

import numpy as np

from jisr.answers.match import Lines
from jisr.answers.merging import Ranking, merged

ARABIC = Lines(weak=2.0, strong=2.1)  # an Arabic query's passages score higher than an English query's
OTHER = Lines(weak=1.6, strong=1.7)


def ranking(ids, scores, lines) -> Ranking:
    return Ranking(np.array(ids), np.array(scores, dtype=np.float32), np.arange(len(ids)), lines)


def test_a_strong_result_of_the_text_as_typed_beats_a_weak_one_of_the_reading_with_higher_raw_scores():
    reading = ranking([1, 2, 3], [2.05, 2.04, 2.03], ARABIC)  # weak under Arabic lines, raw scores higher
    typed = ranking([7, 8, 2], [1.9, 1.5, 1.4], OTHER)  # 7: strong under the English lines
    ids, scores, rows, levels = merged(reading, typed, 10)
    assert ids.tolist()[0] == 7 and levels[0] == "strong" and scores[0] == np.float32(1.9)
    assert set(ids.tolist()) == {1, 2, 3, 7, 8} and len(ids) == 5  # passage 2 once, where it placed best
    assert levels[ids.tolist().index(2)] == "weak" and rows[ids.tolist().index(2)] == 1  # the reading's row


def test_levels_fall_in_rank_order_so_the_matches_come_first():
    reading = ranking([1, 2, 3, 4], [2.3, 2.05, 1.0, 0.5], ARABIC)
    typed = ranking([5, 6, 7], [1.8, 1.65, 0.2], OTHER)
    _, _, _, levels = merged(reading, typed, 10)
    order = {"strong": 0, "weak": 1, "none": 2}
    assert [order[x] for x in levels] == sorted(order[x] for x in levels)
    assert levels.count("none") >= 3


def test_without_lines_the_text_as_typed_follows_the_reading_and_the_limit_holds():
    ids, scores, _, levels = merged(ranking([1, 2], [0.9, 0.1], None), ranking([3, 1], [0.5, 0.95], OTHER), 3)
    assert ids.tolist() == [1, 2, 3] and levels is None and scores.tolist() == [np.float32(0.9), np.float32(0.1), 0.5]
    assert merged(ranking([1, 2], [0.9, 0.1], None), ranking([3], [0.5], None), 2)[0].tolist() == [1, 2]


def test_a_weak_result_of_the_text_as_typed_follows_the_readings_weak_ones():
    reading = ranking([1, 2], [2.09, 2.01], ARABIC)  # both weak
    typed = ranking([5, 6], [1.69, 1.2], OTHER)  # weak (near the strong line), none
    ids, _, _, levels = merged(reading, typed, 10)
    assert ids.tolist() == [1, 2, 5, 6] and levels == ["weak", "weak", "weak", "none"]


def test_a_tie_keeps_the_reading_first():
    ids, _, _, _ = merged(ranking([1], [0.5], None), ranking([2], [0.5], None), 10)
    assert ids.tolist() == [1, 2]
