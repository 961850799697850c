"""Readers by file type: the seed article as .md, .html, .docx, .jsonl and .csv gives the .txt's passages."""

from __future__ import annotations

import csv
import html
import json

import pytest

from jisr.corpus.files import read_corpus
from jisr.passages import chunk
from tests.conftest import SEEDS, word_counts

SEED = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
TITLE, *BODY = [line for line in SEED.split("\n")]


def _passages(folder, name):
    documents, skipped = read_corpus(folder)
    assert not skipped, skipped
    (document,) = [d for d in documents if d.id.startswith(name)]
    return document, [" ".join(p.text.split()) for p in chunk(document, word_counts)]


def _write_page(path, navigation=True):
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in BODY if line.strip())
    chrome = (
        (
            '<nav><a href="/">الرئيسية</a> <a href="/world">العالم</a> <a href="/sport">رياضة</a></nav>'
            '<header><div class="logo">موقع الأخبار العربية</div></header>'
        )
        if navigation
        else ""
    )
    footer = "<footer><p>جميع الحقوق محفوظة · اتصل بنا · سياسة الخصوصية</p></footer>" if navigation else ""
    path.write_text(
        f"<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'><title>{html.escape(TITLE)}"
        f"</title></head><body>{chrome}<main><article><h1>{html.escape(TITLE)}</h1>{paragraphs}</article>"
        f"</main>{footer}</body></html>",
        encoding="utf-8",
    )


def _write_docx(path):
    import docx

    word = docx.Document()
    word.core_properties.title = TITLE
    word.add_heading(TITLE, level=1)
    for line in BODY:
        if line.strip():
            word.add_paragraph(line)
    word.save(path)


def _write_markdown(path):
    path.write_text(f"# {TITLE}\n\n" + "\n\n".join(line for line in BODY if line.strip()) + "\n", encoding="utf-8")


def _write_jsonl(path):
    path.write_text(
        json.dumps({"id": "seed", "title": TITLE, "text": "\n".join(BODY)}, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _write_csv(path):
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "title", "text"], ["seed", TITLE, "\n".join(BODY)]])


@pytest.mark.parametrize(
    "name,write",
    [
        ("seed.md", _write_markdown),
        ("seed.html", _write_page),
        ("seed.docx", _write_docx),
        ("seed.jsonl", _write_jsonl),
        ("seed.csv", _write_csv),
    ],
)
def test_the_seed_article_in_each_format_gives_the_passages_of_the_txt(tmp_path, name, write):
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt" / "seed.txt").write_text(SEED, encoding="utf-8")
    (tmp_path / "other").mkdir()
    write(tmp_path / "other" / name)
    reference, expected = _passages(tmp_path / "txt", "seed.txt")
    document, got = _passages(tmp_path / "other", name)
    assert document.title == reference.title
    assert got == expected


def test_a_web_page_keeps_its_article_and_drops_menus_and_footer(tmp_path):
    _write_page(tmp_path / "page.htm")
    (document,), _ = read_corpus(tmp_path)
    assert document.title == TITLE and "فلاديمير بوتين" in document.text
    assert all(word not in document.text for word in ("الرئيسية", "رياضة", "جميع الحقوق", "موقع الأخبار العربية"))


def test_a_word_document_keeps_its_tables_and_a_damaged_one_is_skipped(tmp_path):
    import docx

    word = docx.Document()
    word.add_heading("جدول السكان", level=1)
    word.add_paragraph("فقرة قبل الجدول عن المدن السورية.")
    table = word.add_table(rows=2, cols=2)
    for r, row in enumerate([("المدينة", "السكان"), ("حلب", "مليونان")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    word.save(tmp_path / "table.docx")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    documents, skipped = read_corpus(tmp_path)
    assert [d.text.split("\n") for d in documents] == [
        ["جدول السكان", "فقرة قبل الجدول عن المدن السورية.", "المدينة | السكان", "حلب | مليونان"]
    ]
    assert [(s.path, "not a readable .docx" in s.reason) for s in skipped] == [("broken.docx", True)]


def test_a_short_page_keeps_its_one_paragraph_without_the_menu(tmp_path):
    (tmp_path / "short.html").write_text(
        "<html><head><title>صفحة</title></head><body><nav>الرئيسية</nav><article><p>افتتاح مكتبة عامة جديدة "
        "في حلب تضم آلاف الكتب العربية.</p></article><footer>حقوق</footer></body></html>",
        encoding="utf-8",
    )
    (document,), _ = read_corpus(tmp_path)
    assert document.text.split("\n") == ["صفحة", "افتتاح مكتبة عامة جديدة في حلب تضم آلاف الكتب العربية."]


def test_web_word_and_pdf_files_give_their_author_and_date_as_declared_fields(tmp_path):
    import datetime

    import docx
    from reportlab.pdfgen import canvas

    from jisr.corpus.readers import RecordFields

    page = (
        f"<html><head><meta charset='utf-8'><title>{html.escape(TITLE)}</title>"
        "<meta name='author' content='هيئة التحرير'>"
        "<meta property='article:published_time' content='2015-11-17'></head><body><article>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in BODY if line.strip())
        + "</article></body></html>"
    )
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    word = docx.Document()
    word.core_properties.author, word.core_properties.created = "مراسل", datetime.datetime(2016, 2, 3, 10, 0)
    word.add_paragraph(TITLE)
    word.add_paragraph(BODY[1] if BODY[1].strip() else BODY[2])
    word.save(tmp_path / "note.docx")
    drawn = canvas.Canvas(str(tmp_path / "report.pdf"))
    drawn.setAuthor("Reporter")
    drawn.drawString(72, 720, "A short report on the meeting in Moscow")
    drawn.save()
    declared = RecordFields(extra=(("author", "keyword"), ("date", "date")))
    documents, skipped = read_corpus(tmp_path, fields=declared)
    assert not skipped, skipped
    got = {d.id: d.fields for d in documents}
    assert got["page.html"] == {"author": "هيئة التحرير", "date": 20151117}
    assert got["note.docx"] == {"author": "مراسل", "date": 20160203}
    assert got["report.pdf"]["author"] == "Reporter" and got["report.pdf"]["date"] // 10000 >= 2026
    undeclared, _ = read_corpus(tmp_path)  # nothing is kept that the build did not declare
    assert all(d.fields == {} for d in undeclared)
