"""Where each passage came from (page, heading path, record id), through a build of a folder that mixes
every format, to the API, the page and an index built before locators existed."""

from __future__ import annotations

import csv
import html
import json
import sqlite3

import pytest

from jisr.answers.searcher import Searcher
from jisr.api import Index
from jisr.corpus.files import read_corpus
from jisr.index.build import build
from jisr.index.local import store
from jisr.index.local.segment import META
from jisr.passages import chunk
from jisr.web import create_app
from tests.conftest import SEEDS, print_to_pdf, word_counts

PARAGRAPHS = list(
    dict.fromkeys(  # the seed repeats a caption: each paragraph once
        line for line in next(SEEDS.glob("*.txt")).read_text(encoding="utf-8").split("\n") if len(line) > 80
    )
)


def _places(folder, name):
    documents, skipped = read_corpus(folder)
    assert not skipped, skipped
    (document,) = [d for d in documents if d.id == name]
    return {p.text.split("\n")[-1][:30]: p.locator for p in chunk(document, word_counts)}


@pytest.mark.browser
def test_markdown_html_and_word_give_each_passage_its_heading_path(tmp_path):
    (tmp_path / "a.md").write_text(
        f"# التقرير\n\n{PARAGRAPHS[0]}\n\n## الموقف الروسي\n\n{PARAGRAPHS[1]}\n\n### التفاصيل\n\n{PARAGRAPHS[2]}\n\n"
        f"## الموقف الفرنسي\n\n{PARAGRAPHS[3]}\n",
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text(
        f"<html><head><title>التقرير</title></head><body><nav>الرئيسية</nav><article><h1>التقرير</h1>"
        f"<p>{PARAGRAPHS[0]}</p><h2>الموقف الروسي</h2><p>{PARAGRAPHS[1]}</p><h3>التفاصيل</h3><p>{PARAGRAPHS[2]}</p>"
        f"<h2>الموقف الفرنسي</h2><p>{PARAGRAPHS[3]}</p></article><footer>حقوق</footer></body></html>",
        encoding="utf-8",
    )
    import docx

    word = docx.Document()
    word.add_heading("التقرير", level=0)
    word.add_paragraph(PARAGRAPHS[0])
    word.add_heading("الموقف الروسي", level=1)
    word.add_paragraph(PARAGRAPHS[1])
    word.add_heading("التفاصيل", level=2)
    word.add_paragraph(PARAGRAPHS[2])
    word.add_heading("الموقف الفرنسي", level=1)
    word.add_paragraph(PARAGRAPHS[3])
    word.save(tmp_path / "c.docx")
    expected = {
        PARAGRAPHS[0][:30]: {},
        PARAGRAPHS[1][:30]: {"section": ["الموقف الروسي"]},
        PARAGRAPHS[2][:30]: {"section": ["الموقف الروسي", "التفاصيل"]},
        PARAGRAPHS[3][:30]: {"section": ["الموقف الفرنسي"]},
    }
    for name in ("a.md", "b.html"):  # the title heading is the document's title, left out of the path
        assert _places(tmp_path, name) == expected, name
    # in Word the title is style "Title", outside the numbered headings
    assert _places(tmp_path, "c.docx") == expected


def _mixed_corpus(folder):
    folder.mkdir()
    (folder / "plain.txt").write_text(f"خبر\n{PARAGRAPHS[0]}\n", encoding="utf-8")
    (folder / "notes.md").write_text(f"# ملاحظات\n\n## قسم\n\n{PARAGRAPHS[1]}\n", encoding="utf-8")
    (folder / "page.html").write_text(
        f"<html><head><title>صفحة</title></head><body><article><h1>صفحة</h1>"
        f"<h2>فرع</h2><p>{PARAGRAPHS[2]}</p></article></body></html>",
        encoding="utf-8",
    )
    import docx

    word = docx.Document()
    word.add_heading("مستند", level=0)
    word.add_heading("باب", level=1)
    word.add_paragraph(PARAGRAPHS[3])
    word.save(folder / "report.docx")
    (folder / "news.jsonl").write_text(
        json.dumps({"id": "r7", "title": "سجل", "text": PARAGRAPHS[4]}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with open(folder / "table.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "title", "text"], ["c1", "صف", PARAGRAPHS[5]]])
    print_to_pdf(
        "<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'></head><body>"
        f"<h1>كتاب</h1><p>{html.escape(PARAGRAPHS[6])}</p><p style='break-before:page'>"
        f"{html.escape(PARAGRAPHS[7])}</p></body></html>",
        folder / "book.pdf",
    )


def test_a_folder_mixing_every_format_builds_one_index_that_shows_where_each_passage_lies(tmp_path, tiny_model):
    _mixed_corpus(tmp_path / "corpus")
    report = build(tmp_path / "corpus", tmp_path / "index", tiny_model)
    assert report.documents == 7 and not report.skipped
    searcher = Searcher(store.load(tmp_path / "index"), tiny_model)
    found = {}
    for i in range(8):
        (hit,) = searcher.search(PARAGRAPHS[i][:70], k=1, lang="any").to_json()["results"]
        assert "".join(hit["text"].split("\n")[-1].split()) == "".join(PARAGRAPHS[i].split())  # PDF: up to spaces
        found[hit["source"]] = found.get(hit["source"], []) + [hit["locator"]]
    assert found == {
        "plain.txt": [{}],
        "notes.md": [{"section": ["قسم"]}],
        "page.html": [{"section": ["فرع"]}],
        "report.docx": [{"section": ["باب"]}],
        "news.jsonl#r7": [{"record": "r7"}],
        "table.csv#c1": [{"record": "c1"}],
        "book.pdf": [{"page": 1}, {"page": 2}],
    }

    app = create_app({"INDEX": Index(searcher), "TESTING": True})
    client = app.test_client()
    doc = client.get("/api/doc/book.pdf").get_json()
    assert [p["locator"] for p in doc["passages"]] == [{"page": 1}, {"page": 2}]
    page = client.get("/doc/book.pdf").get_data(as_text=True)
    assert (
        page.index('class="place" dir="auto">page 1<')
        < page.index(html.escape(PARAGRAPHS[6][:20]))
        < page.index('class="place" dir="auto">page 2<')
        < page.index(html.escape(PARAGRAPHS[7][:20]))
    )
    results = client.get("/?q=" + PARAGRAPHS[4][:60] + "&lang=any&k=1").get_data(as_text=True)
    assert '<span class="place" dir="auto">record r7</span>' in results


def test_an_index_built_before_locators_still_opens_and_answers_without_them(tmp_path, tiny_model):
    _mixed_corpus(tmp_path / "corpus")
    build(tmp_path / "corpus", tmp_path / "index", tiny_model)
    for folder in (tmp_path / "index" / "segments").iterdir():  # the passages table as the last version wrote it
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        with sqlite3.connect(folder / "passages.sqlite") as db:
            db.execute("ALTER TABLE passages DROP COLUMN locator")
        sqlite3.connect(folder / "passages.sqlite").execute("VACUUM").connection.close()
        entry = meta["files"]["passages.sqlite"]
        entry["bytes"] = (folder / "passages.sqlite").stat().st_size
        (folder / META).write_text(json.dumps(meta), encoding="utf-8")
        with sqlite3.connect(folder / "passages.sqlite") as db:
            assert "locator" not in {row[1] for row in db.execute("PRAGMA table_info(passages)")}
    searcher = Searcher(store.load(tmp_path / "index"), tiny_model)
    (hit,) = searcher.search(PARAGRAPHS[6][:70], k=1, lang="any").to_json()["results"]
    assert hit["source"] == "book.pdf" and hit["locator"] == {}
