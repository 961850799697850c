"""PDF files as users have them: printed by a browser (logical order, presentation forms), from old
producers (visual order), scanned (no text layer) and damaged. Every PDF here is printed by headless
Chromium from HTML the test writes."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest

from jisr.corpus.files import read_corpus
from jisr.corpus.readers import Document, Skipped, pdf
from jisr.passages import chunk
from tests.conftest import SEEDS, print_to_pdf, word_counts

SEED = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
TITLE, *BODY = [line for line in SEED.split("\n") if line.strip()]
STYLE = "<style>body{font-family:'Noto Naskh Arabic','Noto Sans Arabic',serif;font-size:14pt}p{margin:1.5em 0}</style>"


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _read(folder) -> tuple[list[Document], list[Skipped]]:
    return read_corpus(folder)


@pytest.mark.browser
def test_the_seed_article_printed_to_pdf_gives_the_passages_of_the_txt_with_their_pages(tmp_path):
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt" / "seed.txt").write_text(SEED, encoding="utf-8")
    (tmp_path / "pdf").mkdir()
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in BODY)
    print_to_pdf(
        f"<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'><title>{html.escape(TITLE)}"
        f"</title>{STYLE}</head><body><h1>{html.escape(TITLE)}</h1>{paragraphs}</body></html>",
        tmp_path / "pdf" / "seed.pdf",
    )
    (reference,), _ = _read(tmp_path / "txt")
    (document,), skipped = _read(tmp_path / "pdf")
    assert not skipped
    raw = (tmp_path / "pdf" / "seed.pdf").read_bytes()
    assert re.search(rb"/ToUnicode", raw)  # a real text layer, which Chromium writes as presentation forms
    assert document.title == reference.title
    expected = [p.text for p in chunk(reference, word_counts)]
    got = chunk(document, word_counts)
    assert [squeezed(p.text) for p in got] == [squeezed(t) for t in expected]  # same text, up to whitespace
    assert not any("\ufb50" <= c <= "\ufeff" for c in document.text)  # presentation forms read as letters
    assert "(الأوروبية)" in squeezed(document.text)  # brackets of a right-to-left line face the right way
    assert "يوم الـ26 منه" in document.text  # a tatweel joined to digits stays joined
    pages = [p.locator["page"] for p in got]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] >= 2  # each passage knows its page


FORMS: dict[str, dict[str, str]] = {}
for _code in [*range(0xFB50, 0xFE00), *range(0xFE70, 0xFEFD)]:
    _parts = unicodedata.decomposition(chr(_code)).split()
    if len(_parts) == 2 and _parts[0] in ("<isolated>", "<final>", "<initial>", "<medial>"):
        FORMS.setdefault(chr(int(_parts[1], 16)), {}).setdefault(_parts[0].strip("<>"), chr(_code))


def shaped(text: str) -> str:
    """Letters -> the presentation form each takes among its neighbours, as an old producer stores them."""
    out = []
    for i, c in enumerate(text):
        forms = FORMS.get(c)
        if not forms:
            out.append(c)
            continue
        before, after = text[i - 1] if i else "", text[i + 1] if i + 1 < len(text) else ""
        joins_before = "initial" in FORMS.get(before, {})
        joins_after = after in FORMS and "initial" in forms
        form = {(True, True): "medial", (True, False): "final", (False, True): "initial"}.get(
            (joins_before, joins_after), "isolated"
        )
        out.append(forms.get(form, forms["isolated"]))
    return "".join(out)


def visual(*runs: str) -> str:
    """A right-to-left line as a visual-order producer stores it: runs from left to right, Arabic runs
    shaped and reversed (brackets drawn mirrored), runs of numbers and Latin as they are."""
    mirror = str.maketrans("()", ")(")
    return "".join(
        run if re.fullmatch(r"[0-9A-Za-z ]+", run) else shaped(run)[::-1].translate(mirror) for run in reversed(runs)
    )


def _draw(path, lines: list[str]):
    """A PDF as a producer without a text-shaping engine writes one: each line one run of glyphs, drawn left to
    right in the order given and right-aligned, in a font with Arabic and Latin (DejaVu Sans)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSans", DEJAVU))
    page = canvas.Canvas(str(path))
    page.setFont("DejaVuSans", 14)
    for i, line in enumerate(lines):
        page.drawRightString(560, 780 - 40 * i, line)
    page.save()


DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Debian's fonts-dejavu-core
MIXED = [
    ("زار الرئيس الفرنسي موسكو يوم ", "24", " من الشهر الحالي (الأوروبية)"),
    ("قال وزير الدفاع إن الطائرات أطلقت صواريخ على أهداف في سوريا",),
    ("وصل الوفد إلى مطار ", "Le Bourget", " في باريس بعد رحلة طويلة"),
]


def test_a_pdf_in_visual_order_from_an_old_producer_is_read_in_reading_order(tmp_path):
    _draw(tmp_path / "old.pdf", [visual(*runs) for runs in MIXED])  # shaped, reversed, numbers and Latin kept
    (document,), skipped = _read(tmp_path)
    assert not skipped
    assert [squeezed(t) for t in document.text.split("\n")] == [squeezed("".join(runs)) for runs in MIXED]
    assert "مطار Le Bourget في" in document.text and "يوم 24 من" in document.text  # words of each script apart


def test_a_text_layer_that_reads_backwards_is_detected_and_turned_around(tmp_path):
    lines = [
        "قال وزير الدفاع إن الطائرات أطلقت صواريخ على أهداف في سوريا",
        "وصل الوفد إلى المطار في باريس بعد رحلة طويلة (الأوروبية)",
        "وأعلنت الرئاسة أن الرئيس سيسافر إلى واشنطن",
    ]
    # glyphs stored in reading order but drawn left to right: extracted as PDFs are read, the text comes out
    # reversed, each word's shapes (final form first) saying so
    _draw(tmp_path / "backwards.pdf", [shaped(line) for line in lines])
    assert pdf._reads_backwards([pdf._logical(line) for line in pdf._lines((tmp_path / "backwards.pdf").read_bytes())])
    (document,), skipped = _read(tmp_path)
    assert [squeezed(t) for t in document.text.split("\n")] == [squeezed(line) for line in lines]


def test_backwards_text_is_told_by_common_words_where_there_are_no_presentation_forms():
    def line(text):
        return pdf._Line(700.0, 12.0, 1, [(50.0, text)])

    forwards = [line("ذهب الوفد إلى المدينة في الصباح من أجل الاجتماع مع الوزير")]
    assert not pdf._reads_backwards([pdf._logical(t) for t in forwards])
    assert pdf._reads_backwards([pdf._logical(line(t.runs[0][1][::-1])) for t in forwards])


@pytest.mark.browser
def test_a_scanned_pdf_without_text_and_a_damaged_pdf_are_skipped_with_why(tmp_path):
    print_to_pdf(
        "<!doctype html><html><body><svg width='400' height='300'><rect width='300' height='200' "
        "fill='#345'/><circle cx='200' cy='150' r='80' fill='#e6c200'/></svg></body></html>",
        tmp_path / "scan.pdf",
    )
    good = print_to_pdf(
        f"<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'></head><body>"
        f"<p>{html.escape(BODY[2])}</p></body></html>",
        tmp_path / "good.pdf",
    )
    (tmp_path / "cut.pdf").write_bytes(good.read_bytes()[:300])
    (tmp_path / "fake.pdf").write_text("not a PDF at all", encoding="utf-8")
    documents, skipped = _read(tmp_path)
    assert [d.id for d in documents] == ["good.pdf"]
    reasons = {s.path: s.reason for s in skipped}
    assert set(reasons) == {"scan.pdf", "cut.pdf", "fake.pdf"}
    assert "no text layer" in reasons["scan.pdf"] and "OCR" in reasons["scan.pdf"]
    assert reasons["fake.pdf"].startswith("not a readable PDF") and reasons["cut.pdf"].startswith(("not a", "no text"))


@pytest.mark.browser
def test_a_browsers_running_header_and_footer_are_not_indexed(tmp_path):
    """Printed with Chromium's defaults (header: date and title; footer: the page's address and "1/2"), on
    two pages and on one: the title is the document's heading and no passage holds the margins."""
    for name, body in (("two-pages", BODY), ("one-page", BODY[:3])):
        folder = tmp_path / name
        folder.mkdir()
        paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in body)
        print_to_pdf(
            f"<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'><title>"
            f"{html.escape(TITLE)}</title>{STYLE}</head><body><h1>{html.escape(TITLE)}</h1>{paragraphs}"
            "</body></html>",
            folder / "page.pdf",
            header_footer=True,
        )
        (document,), skipped = _read(folder)
        assert not skipped
        assert document.title == TITLE, name
        texts = [p.text for p in chunk(document, word_counts)]
        assert not any(re.search(r"file:|\.html|\d+/\d+/\d+|\b\d/\d\b|[AP]M\b", t) for t in texts), (name, texts)
        (folder / "txt").mkdir()
        (folder / "txt" / "page.txt").write_text("\n".join([TITLE, *body]), encoding="utf-8")
        (reference,), _ = _read(folder / "txt")
        assert [squeezed(t) for t in texts] == [squeezed(p.text) for p in chunk(reference, word_counts)], name
