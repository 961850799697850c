"""JSONL and CSV exports: one document per record, bad records skipped by line number, the rest kept."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from jisr.answers.searcher import Searcher
from jisr.corpus.files import read_corpus
from jisr.corpus.readers import RecordFields
from jisr.index.build import build
from jisr.index.local import store
from tests.conftest import ROOT, SEEDS

PARAGRAPHS = [line for line in next(SEEDS.glob("*.txt")).read_text(encoding="utf-8").split("\n") if len(line) > 80]


def _jsonl(path, lines) -> None:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
        encoding="utf-8",
    )


def test_a_jsonl_file_gives_a_document_per_record_and_skips_bad_lines_by_number(tmp_path):
    _jsonl(
        tmp_path / "news.jsonl",
        [
            {"id": 7, "title": "بوتين وفرنسا", "text": PARAGRAPHS[0]},
            '{"id": 8, "title": "broken", "text": "unterminated',  # line 2
            {"id": 9, "title": "no text"},  # line 3
            [1, 2, 3],  # line 4
            {"title": "بلا رقم", "text": PARAGRAPHS[1] + "\n" + PARAGRAPHS[2]},  # line 5: no id, so its line
            {"id": 7, "text": "a repeated id"},  # line 6
        ],
    )
    documents, skipped = read_corpus(tmp_path)
    assert [(d.id, d.title) for d in documents] == [("news.jsonl#7", "بوتين وفرنسا"), ("news.jsonl#5", "بلا رقم")]
    assert documents[1].text == "بلا رقم\n" + PARAGRAPHS[1] + "\n" + PARAGRAPHS[2]
    reasons = {s.path: s.reason for s in skipped}
    assert set(reasons) == {"news.jsonl:2", "news.jsonl:3", "news.jsonl:4", "news.jsonl:6"}
    assert "not valid JSON" in reasons["news.jsonl:2"] and "no text in field 'text'" in reasons["news.jsonl:3"]
    assert "not a JSON object" in reasons["news.jsonl:4"] and "repeats the record id '7'" in reasons["news.jsonl:6"]


def test_a_csv_with_quoted_fields_and_arabic_commas_and_other_field_names(tmp_path):
    with open(tmp_path / "articles.csv", "w", encoding="cp1256", newline="") as f:  # an older Arabic export
        writer = csv.writer(f)
        writer.writerow(["nid", "headline", "body"])
        writer.writerow(["a1", 'بوتين، "فرنسا"، وسوريا', PARAGRAPHS[0] + "\n" + PARAGRAPHS[1]])  # quotes, newline
        writer.writerow(["a2", "الطقس, اليوم", PARAGRAPHS[2]])  # a Latin comma inside a quoted field
        writer.writerow(["a3", "فارغ", ""])
    documents, skipped = read_corpus(tmp_path, fields=RecordFields(text="body", title="headline", id="nid"))
    assert [(d.id, d.title, d.encoding) for d in documents] == [
        ("articles.csv#a1", 'بوتين، "فرنسا"، وسوريا', "cp1256"),
        ("articles.csv#a2", "الطقس, اليوم", "cp1256"),
    ]
    assert documents[0].text.split("\n")[1:] == PARAGRAPHS[:2]
    assert [(s.path, "no text" in s.reason) for s in skipped] == [("articles.csv:5", True)]
    _, skipped = read_corpus(tmp_path)  # the default field names are not there: said once, for the file
    assert len(skipped) == 1 and "no column 'text'" in skipped[0].reason and "--text-field" in skipped[0].reason


def test_records_are_indexed_searched_and_rebuilt_one_record_at_a_time(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [{"id": i, "title": f"خبر {i}", "text": PARAGRAPHS[i]} for i in range(4)]
    _jsonl(corpus / "news.jsonl", records)
    first = build(corpus, tmp_path / "index", tiny_model)
    assert first.documents == 4 and first.passages == 4
    index = store.load(tmp_path / "index")
    assert {p.source for p in index.passages(index.ids())} == {f"news.jsonl#{i}" for i in range(4)}
    assert index.manifest["record_fields"] == {"text": "text", "title": "title", "id": "id", "extra": []}
    hit = Searcher(index, tiny_model).search(PARAGRAPHS[2][:60], k=1, lang="any").to_json()["results"][0]
    assert hit["source"] == "news.jsonl#2" and hit["text"] == PARAGRAPHS[2]

    records[1]["text"] = PARAGRAPHS[5]
    _jsonl(corpus / "news.jsonl", records)
    second = build(corpus, tmp_path / "index", tiny_model)
    assert second.passages == 4 and 0 < second.embedded <= 3  # one record's passage and its sentences
    index = store.load(tmp_path / "index")
    texts = {p.source: p.text for p in index.passages(index.ids())}
    assert texts["news.jsonl#1"] == PARAGRAPHS[5] and texts["news.jsonl#0"] == PARAGRAPHS[0]


@pytest.mark.slow  # jisr build and search in child processes
def test_the_cli_takes_field_names(tmp_path, tiny_model_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _jsonl(corpus / "a.jsonl", [{"key": "x", "body": PARAGRAPHS[0]}])
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "index"),
            "--model",
            str(tiny_model_path),
            "--text-field",
            "body",
            "--id-field",
            "key",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "indexed 1 documents" in out.stdout + out.stderr
    index = store.load(tmp_path / "index")
    assert [p.source for p in index.passages(index.ids())] == ["a.jsonl#x"]
