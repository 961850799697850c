"""jisr reads a text's tokens without changing the tokenizer that encoding sets (jisr.embeddings.reading)."""

from __future__ import annotations

import threading
import time

import pytest
from transformers import AutoTokenizer

from jisr.answers.query import cut
from jisr.embeddings import load_model, reading
from jisr.embeddings.batching import document_lengths
from tests.conftest import build_tiny_model

TEXT = "قال الرئيس الروسي فلاديمير بوتين إن الحرب الكبرى قد بدأت في الشرق"
TEXTS = [TEXT * k for k in (1, 3, 9)] + ["بوتين", "x"]


@pytest.fixture(scope="module", params=[False, True], ids=["transformer", "windowed"])
def short_model(request, tmp_path_factory):
    """A model whose encode cuts at 16 tokens (plain) or reads 16-token windows (windowed): both leave padding
    and, for the plain one, truncation set on the tokenizer after an encode."""
    path = build_tiny_model(
        tmp_path_factory.mktemp("short"), prompts={"document": "d: "}, max_seq_length=16, windowed=request.param
    )
    return load_model(str(path)), AutoTokenizer.from_pretrained(str(path.parent / "hf"))


def test_counts_and_spans_are_the_whole_texts_and_leave_the_state_as_encode_set_it(short_model):
    model, fresh = short_model
    model.encode_document(TEXTS, batch_size=8)
    backend = model.tokenizer.backend_tokenizer
    state = (backend.padding, backend.truncation)
    assert state[0] is not None  # the encode padded its batch: what a count must neither undo nor count

    assert document_lengths(model, TEXTS) == [len(fresh("d: " + t)["input_ids"]) for t in TEXTS]
    assert reading.token_counts(model.tokenizer, TEXTS, special=False) == [
        len(fresh(t, add_special_tokens=False)["input_ids"]) for t in TEXTS
    ]
    for text in TEXTS:
        want = fresh(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, spans = reading.tokens(model.tokenizer, text)
        assert ids == want["input_ids"] and spans == [tuple(s) for s in want["offset_mapping"]]
        assert reading.tokens(model.tokenizer, text, special=True)[0] == fresh(text)["input_ids"]
    long = TEXT * 9
    read, count = cut(model.tokenizer, long, 20)
    whole = fresh(long, add_special_tokens=False, return_offsets_mapping=True)
    assert count == len(whole["input_ids"]) > 20
    assert read == long[: whole["offset_mapping"][19][1]].strip()
    assert (backend.padding, backend.truncation) == state


def test_a_search_reading_a_query_while_a_build_encodes_breaks_neither(short_model):
    """The live server's case: queries cut and counted on request threads while its intake thread encodes
    documents with the same model. A count that set the tokenizer's padding made the batch ragged."""
    model, _ = short_model
    failures, stop = [], threading.Event()

    def encoding():
        while not stop.is_set():
            try:
                model.encode_document(TEXTS * 4, batch_size=16)
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))

    def reading_queries():
        while not stop.is_set():
            try:
                cut(model.tokenizer, TEXT * 3, 8)
                document_lengths(model, TEXTS)
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))

    threads = [
        threading.Thread(target=encoding),
        threading.Thread(target=reading_queries),
        threading.Thread(target=reading_queries),
    ]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
