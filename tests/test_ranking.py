"""Ranking as composition: the table of modes, the signals, the weights in one file."""

from __future__ import annotations

import json

import numpy as np

from jisr import weights
from jisr.answers import query, ranking


def evidence(arabic: bool, calls: list[str], w=None) -> ranking.Evidence:
    def seen(name, value):
        return lambda *a: calls.append(name) or value

    return ranking.Evidence(
        query="q",
        arabic=arabic,
        candidates=np.arange(3),
        passage_cos=seen("passage", np.float32([0.5, 0.2, 0.1])),
        sentence_cos=seen("sentence", np.float32([0.1, 0.6, 0.0])),
        bm25=np.float32([0.0, 2.0, 4.0]),
        coverage=0.5,
        companion_cos=seen("companion", np.float32([0.4, 0.0, 0.0])),
        texts=seen("texts", ["a", "b", "c"]),
        weights=w or weights.shipped(),
    )


def test_the_table_names_the_modes_requests_may_ask_for():
    assert tuple(ranking.MODES) == query.MODES
    assert all(signal in ranking.SIGNALS for steps in ranking.MODES.values() for signal, _ in steps)


def test_hybrid_is_the_sum_of_its_weighted_signals():
    w = weights.shipped()
    calls: list[str] = []
    english = ranking.score("hybrid", evidence(False, calls))
    expected = (
        np.float32([0.5, 0.2, 0.1])
        + np.float32([0.1, 0.6, 0.0])
        + w.lexical * 0.5 * np.float32([0, 0.5, 1])
        + w.companion * np.float32([0.4, 0, 0])
    )
    assert np.allclose(english, expected) and "texts" not in calls  # no phrase evidence for English
    calls.clear()
    ranking.score("hybrid", evidence(True, calls))
    assert "companion" not in calls and "texts" in calls  # Arabic: phrases, never the companion
    calls.clear()
    ranking.score("hybrid", evidence(False, calls, w.but(companion=0.0)))
    assert "companion" not in calls  # a weight of 0 is not computed
    assert np.allclose(ranking.score("sentence", evidence(False, [])), [0.6, 0.8, 0.1])
    assert np.allclose(ranking.score("lexical", evidence(False, [])), [0, 2, 4])


def test_a_fit_writes_its_weight_and_leaves_the_others(tmp_path):
    file = tmp_path / "weights.json"
    weights.write("benchmarks/fit_lexical_weight.py", file, lexical=0.3)
    table = json.loads(file.read_text(encoding="utf-8"))
    assert table["lexical"] == {"value": 0.3, "chosen_by": "benchmarks/fit_lexical_weight.py"}
    assert table["phrase"]["value"] == weights.shipped().phrase  # the others as they were
