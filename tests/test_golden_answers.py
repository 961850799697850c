"""The search answer's JSON, field for field, against a recording: what the JSON API, `jisr search --json`
and the Python API say must not change when the code that builds it does (issue 47: a typed answer).

tests/golden_answers.json was recorded on this test's index before the answer became a type. Keys and
their order must match, strings and whole numbers exactly, scores to 1e-4; ``took_ms`` is not compared.
Run with JISR_RECORD_GOLDEN=1 to record it again, only for a change meant to alter answers.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import jisr
from jisr.answers.cache import ResultCache
from jisr.answers.match import Lines
from jisr.corpus.readers import RecordFields
from jisr.web import create_app
from tests.conftest import ROOT, SEEDS

GOLDEN = ROOT / "tests" / "golden_answers.json"
WORD = "الأخبار"
AUTHORS = ["الطبري", "ابن كثير", "الطبراني"]
LONG = " ".join(f"{WORD} {i} السياسة" for i in range(45))  # past the query token budget: "truncated"

# name -> the search, as the Python API's keyword arguments (the JSON API gets the same as a JSON body)
CASES: dict[str, dict] = {
    "plain": {"query": "بوتين", "k": 3},
    "lang_any": {"query": "Putin Kremlin meeting", "k": 3, "lang": "any"},
    "mode_dense": {"query": WORD, "k": 3, "lang": "any", "mode": "dense"},
    "mode_sentence": {"query": WORD, "k": 3, "lang": "any", "mode": "sentence"},
    "mode_lexical": {"query": WORD, "k": 3, "lang": "any", "mode": "lexical"},
    "mode_hybrid": {"query": WORD, "k": 3, "lang": "any", "mode": "hybrid"},
    "offset_page": {"query": WORD, "k": 3, "lang": "any", "offset": 3},
    "last_page": {"query": WORD, "k": 5, "lang": "any", "offset": 195},
    "grouped": {"query": WORD, "k": 3, "lang": "any", "group": "document", "per_document": 1},
    "grouped_none_more": {"query": WORD, "k": 2, "lang": "any", "group": "document", "per_document": 0},
    "filter": {"query": WORD, "k": 3, "lang": "any", "filter": {"collection": "hadith"}},
    "filter_declared": {"query": WORD, "k": 3, "lang": "any", "filter": {"year": {"gte": 2005}}},
    "facets": {"query": WORD, "k": 3, "lang": "any", "facets": ["collection", "lang", "author", "year"]},
    "grouped_facets": {
        "query": WORD,
        "k": 2,
        "lang": "any",
        "group": "document",
        "facets": ["collection"],
        "filter": {"any": [{"collection": "hadith"}, {"author": AUTHORS[0]}]},
    },
    "no_match": {"query": WORD, "k": 3, "filter": {"doc_id": "no-such-document.txt"}},
    "truncated": {"query": LONG, "k": 2, "lang": "any", "mode": "lexical"},
    "cached_repeat": {"query": "بوتين", "k": 3},  # "plain" again: answered from the result cache
}
# the JSON API by query string: its values are text
GETS: dict[str, dict] = {
    "get_plain": {"q": "بوتين", "k": "3"},
    "get_facets_filter": {
        "q": WORD,
        "k": "2",
        "lang": "any",
        "facets": "collection,author",
        "filter": json.dumps({"collection": "news"}),
    },
}
LINES = {
    mode: {group: Lines(weak=low, strong=high, spread=0.5) for group in ("ar", "other")}
    for mode, (low, high) in {
        "dense": (0.2, 0.6),
        "sentence": (0.2, 0.6),
        "lexical": (0.1, 4.0),
        "hybrid": (1.7, 1.88),
    }.items()
}
CLI = [
    "search",
    WORD,
    "-k",
    "2",
    "--lang",
    "any",
    "--group",
    "document",
    "--facet",
    "collection",
    "--filter",
    '{"collection": "hadith"}',
    "--json",
]


def golden_model(path: Path) -> Path:
    """A tiny model that is the same on every run: the conftest's has a trained tokenizer, whose training is
    not repeatable, so this one has a word-level tokenizer of the corpus's words, sorted (the rest unknown)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    split = pre_tokenizers.Whitespace()
    texts = [f.read_text("utf-8") for f in path.parent.glob("corpus/**/*.*")]
    words = sorted({w for text in texts for w, _ in split.pre_tokenize_str(text)})
    vocab = {w: i for i, w in enumerate(["<s>", "<pad>", "</s>", "<unk>", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = split
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    hf_dir = path / "hf"
    PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        model_max_length=512,
    ).save_pretrained(hf_dir)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        pad_token_id=1,
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(hf_dir)
    model = SentenceTransformer(
        modules=[Transformer(str(hf_dir)), Pooling(32, pooling_mode="mean"), Normalize()], device="cpu"
    )
    model.save(str(path / "st"))
    return path / "st"


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """(the index, the model's folder, the model loaded)."""
    from jisr.embeddings import load_model

    work = tmp_path_factory.mktemp("golden")
    corpus = work / "corpus"
    shutil.copytree(SEEDS, corpus)
    for folder, count in (("news", 6), ("hadith", 3)):
        (corpus / folder).mkdir()
        for i in range(count):
            (corpus / folder / f"{i}.txt").write_text(
                f"عنوان {i}\n"
                + "\n\n".join(
                    f"فقرة {j} من {folder} {i} عن {WORD} والسياسة. جملة ثانية عن التاريخ {j}." for j in range(3)
                ),
                encoding="utf-8",
            )
    rows = [
        {
            "id": i,
            "title": f"خبر {i}",
            "text": f"فقرة {i} عن {WORD} والتاريخ في عام {2000 + i}",
            "author": AUTHORS[i % 3],
            "year": 2000 + i,
        }
        for i in range(12)
    ]
    (corpus / "books.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    model_path = golden_model(work / "model")
    model = load_model(str(model_path))
    jisr.build(
        corpus,
        work / "index",
        model,
        jisr.BuildOptions(companion="none", fields=RecordFields(extra=(("author", "keyword"), ("year", "number")))),
    )
    return work / "index", model_path, model


def answers(index_path, model, model_path, capsys) -> dict:
    """Every case's answer now: from the JSON API, the Python API and `jisr search --json`."""
    from jisr import cli

    out: dict[str, dict] = {}
    web_index = jisr.Index.open(index_path, model)
    python_index = jisr.Index.open(index_path, model)
    python_index.cache = ResultCache()
    for index in (web_index, python_index):  # lines of our own, so that "match" and "total" have values
        index.searcher.lines = LINES
    try:
        client = create_app({"INDEX": web_index}).test_client()
        for name, case in CASES.items():
            body = {("q" if key == "query" else key): value for key, value in case.items()}
            response = client.post("/api/search", json=body)
            assert response.status_code == 200, (name, response.get_data(as_text=True))
            out[f"web/{name}"] = json.loads(response.get_data(as_text=True))
            out[f"python/{name}"] = _plain(python_index.search(**case))
        for name, params in GETS.items():
            response = client.get("/api/search", query_string=params)
            assert response.status_code == 200, (name, response.get_data(as_text=True))
            out[f"web/{name}"] = json.loads(response.get_data(as_text=True))
    finally:
        web_index.close(), python_index.close()
    capsys.readouterr()
    assert cli.main([*CLI, "--index", str(index_path), "--model", str(model_path)]) == 0
    out["cli/json"] = json.loads(capsys.readouterr().out)
    for answer in out.values():  # the model is named by its folder, a new one each run
        assert answer["model"] == str(model_path)
        answer["model"] = "tiny"
    return out


def _plain(answer) -> dict:
    """The Python API's answer as JSON would carry it, keys in their order."""
    return json.loads(json.dumps(answer.to_json(), ensure_ascii=False))


def same(got, want, at: str = "answer") -> None:
    """``got`` is ``want``: the same keys in the same order, equal strings, whole numbers, None and booleans,
    floats within 1e-4; ``took_ms`` is left out."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{at}: {got!r} is not an object"
        assert list(got) == list(want), f"{at}: keys {list(got)} != {list(want)}"
        for key in want:
            if key != "took_ms":
                same(got[key], want[key], f"{at}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{at}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f"{at}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - want) <= 1e-4, (
            f"{at}: {got!r} != {want!r}"
        )
    else:
        assert type(got) is type(want) and got == want, f"{at}: {got!r} != {want!r}"


def test_answers_are_as_recorded(golden, capsys):
    index_path, model_path, model = golden
    got = answers(index_path, model, model_path, capsys)
    if os.environ.get("JISR_RECORD_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert list(got) == list(want)
    for name in want:
        same(got[name], want[name], name)
    # what the recording shows, so that it cannot be a recording of nothing
    assert want["web/cached_repeat"]["cached"] is True and "cached" not in want["web/plain"]
    assert want["web/no_match"]["results"] == [] and want["web/truncated"]["truncated"]["read"] != LONG
    assert [r["rank"] for r in want["python/offset_page"]["results"]] == [4, 5, 6]
    assert all("more" in r for r in want["python/grouped"]["results"])
    assert want["python/facets"]["facets"]["author"] and want["python/filter"]["filter"] == {"collection": "hadith"}
    assert {r["source"].split("/")[0] for r in want["cli/json"]["results"]} == {"hadith"}
