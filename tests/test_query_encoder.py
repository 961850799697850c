"""The query encoder: queries that wait are encoded together, and one failing query fails alone."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest

from jisr.answers.query_encoder import QueryEncoder


def test_a_batch_gives_each_query_its_own_vector_and_a_bad_query_fails_alone(tiny_model, monkeypatch):
    encoder = QueryEncoder(tiny_model, threads=1, tokens=96)
    alone = {q: encoder.read(q)[0] for q in ("بوتين", "Syria")}
    real = tiny_model.encode_query

    def encode(texts, **kwargs):
        if "boom" in texts:
            raise ValueError("this query cannot be encoded")
        return real(texts, **kwargs)

    monkeypatch.setattr(tiny_model, "encode_query", encode)
    work = [(q, Future()) for q in ("بوتين", "boom", "Syria")]
    encoder._encode(work)  # as the encoder thread does with queries that waited together
    with pytest.raises(ValueError, match="cannot be encoded"):
        work[1][1].result()
    for query, done in (work[0], work[2]):
        vector, text, tokens = done.result()
        assert text == query and tokens > 0 and np.allclose(vector, alone[query], atol=1e-5)
    assert encoder.read("Syria")[1] == "Syria"  # the thread goes on
