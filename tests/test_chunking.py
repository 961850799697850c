from pathlib import Path

import pytest

from jisr.corpus.files import Document, read_corpus
from jisr.passages import ChunkSettings, chunk, is_boilerplate, sentence_spans
from tests.conftest import word_counts

SEED = next((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))


def doc(text: str, name: str = "d.txt") -> Document:
    return Document(name, name, text.split("\n", 1)[0], text, "0")


def test_seed_article_passages_as_a_careful_reader_splits_it():
    text = SEED.read_text(encoding="utf-8")
    lines = text.split("\n")
    # 1-based line numbers of the source: line 1 is the title; 14 repeats the photo caption
    # of 13; 16 is a heading over 17; 23 is the source credit and 25 an advertisement marker.
    expected = [
        lines[2],
        lines[3],
        lines[4],
        lines[6],
        lines[8],
        lines[10],
        lines[12],
        lines[15] + "\n" + lines[16],
        lines[18],
        lines[20],
    ]
    documents, skipped = read_corpus(SEED.parent)
    assert skipped == []
    passages = chunk(documents[0], word_counts)
    assert [p.text for p in passages] == expected
    assert passages[7].text.startswith("تنسيق مشترك\nوفي السياق، ذكر الكرملين أن بوتين أجرى مباحثات عبر الهاتف")
    assert documents[0].title == "بوتين يأمر بالتنسيق مع فرنسا والعمل كحليفيْن"
    assert [p.lang for p in passages] == ["en"] + ["ar"] * 9
    assert [p.ordinal for p in passages] == list(range(10))
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.title == documents[0].title and p.doc_id == SEED.name
    assert all("إعلان" != p.text and not p.text.startswith("المصدر") for p in passages)


def test_sentences_of_a_passage():
    passages = chunk(doc(SEED.read_text(encoding="utf-8")), word_counts)
    assert passages[4].sentence_texts() == [
        "ودعا بوتين إلى التنسيق مع الفرنسيين، والعمل معهم كحليفيْن.",
        "وقال إن العمليات العسكرية الروسية في سوريا ضد تنظيم الدولة ستستمر وتتكثف "
        '"ليدرك المجرمون أنه لا مفر من العقاب".',
    ]
    assert passages[7].sentence_texts()[0] == "تنسيق مشترك"


@pytest.mark.parametrize("limit", [12, 20, 40])
def test_long_paragraph_split_at_sentence_ends_under_the_window_losing_nothing(limit):
    sentences = [f"جملة رقم {i} فيها كلمات كثيرة عن الموضوع." for i in range(30)] + ["Is this English? Yes!"]
    paragraph = " ".join(sentences)
    text = "العنوان\n" + paragraph + "\n"
    passages = chunk(doc(text), word_counts, ChunkSettings(max_tokens=limit))
    assert len(passages) > 1
    assert all(n <= limit for n in word_counts([p.text for p in passages]))
    assert " ".join(p.text for p in passages) == paragraph  # every character kept, in order
    assert all(p.text.endswith((".", "!", "?")) for p in passages)  # cut at sentence ends
    for p in passages:
        assert text[p.start : p.end] == p.text


def test_a_sentence_longer_than_the_window_is_split_at_spaces():
    paragraph = " ".join(f"كلمة{i}" for i in range(50))
    passages = chunk(doc("t\n" + paragraph), word_counts, ChunkSettings(max_tokens=10))
    assert all(n <= 10 for n in word_counts([p.text for p in passages]))
    assert " ".join(p.text for p in passages) == paragraph


def test_sentence_ends_arabic_and_latin():
    text = "هل جاء؟ نعم جاء؛ ثم ذهب. Really? Yes! The value is 3.5 today."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "هل جاء؟",
        "نعم جاء؛",
        "ثم ذهب.",
        "Really?",
        "Yes!",
        "The value is 3.5 today.",
    ]


@pytest.mark.parametrize(
    "line,expected",
    [
        ("إعلان", True),
        ("Advertisement", True),
        ("المصدر : الجزيرة + وكالات", True),
        ("Source: Reuters", True),
        ("المصدر الرئيسي للطاقة هو الشمس.", False),
        ("تنسيق مشترك", False),
    ],
)
def test_boilerplate(line, expected):
    assert is_boilerplate(line) is expected


def test_heading_joins_following_paragraph_and_duplicates_drop():
    text = "Title\n\n## Background\n\nFirst paragraph here.\nFirst paragraph here.\nSecond one.\n"
    passages = chunk(doc(text, "a.md"), word_counts)
    assert [p.text for p in passages] == ["## Background\n\nFirst paragraph here.", "Second one."]


def test_unreadable_files_are_reported_and_skipped(tmp_path):
    (tmp_path / "good.txt").write_text("عنوان\nفقرة.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))  # an image
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.md").write_text("# Notes\nA paragraph.", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    documents, skipped = read_corpus(tmp_path)
    assert [d.id for d in documents] == ["good.txt", "sub/notes.md"]
    assert documents[1].title == "Notes"
    assert len(skipped) == 1 and skipped[0].path.endswith("bad.txt") and "binary" in skipped[0].reason


def _greedy(units: list[str], limit: int) -> list[str]:
    """The packing rule stated simply: grow a piece one unit at a time while it fits."""
    pieces: list[str] = []
    for unit in units:
        if pieces and word_counts([pieces[-1] + " " + unit])[0] <= limit:
            pieces[-1] += " " + unit
        else:
            pieces.append(unit)
    return pieces


@pytest.mark.parametrize("limit", [9, 12, 20, 40])
def test_packing_by_galloping_gives_the_same_pieces_as_growing_one_sentence_at_a_time(limit):
    sentences = [("كلمة " * (1 + (i * 7) % 6)).strip() + "." for i in range(60)]
    passages = chunk(doc("t\n" + " ".join(sentences)), word_counts, ChunkSettings(max_tokens=limit))
    assert [p.text for p in passages] == _greedy(sentences, limit)


class Counting:
    """A token counter that tallies how many characters it was asked to count."""

    def __init__(self):
        self.chars = 0

    def __call__(self, texts):
        self.chars += sum(len(t) for t in texts)
        return [len(t.split()) + len(t) // 40 + 2 for t in texts]  # long words cost tokens too


@pytest.mark.parametrize(
    "make",
    [
        lambda n: " ".join(f"كلمة{i % 97}" for i in range(n // 7)),  # one huge line of words, no sentence end
        lambda n: "ب" * n,  # one huge line with no space at all
    ],
)
def test_a_huge_single_line_costs_token_counts_linear_in_its_length(make):
    """Chunking work, counted in characters handed to the tokenizer, stays about 4-6x the line at any
    length. The old packing re-counted a growing piece for every word (or character): 57x (2,500x with
    no spaces) at this 128-token window, more at 512, and a 5 MB line did not finish in 10 minutes.
    Wall time is measured by benchmarks/long_line.py, not asserted here."""
    per_char = []
    for n in (20_000, 200_000):
        counter, line = Counting(), make(n)
        passages = chunk(doc("t\n" + line), counter, ChunkSettings(max_tokens=128))
        assert all(n <= 128 for n in counter([p.text for p in passages]))
        assert "".join(p.text for p in passages).replace(" ", "") == line.replace(" ", "")  # nothing lost
        per_char.append(counter.chars / len(line))
    assert per_char[1] < 1.5 * per_char[0] and per_char[1] < 10, per_char


def test_markdown_is_indexed_as_the_text_a_reader_sees(tmp_path):
    (tmp_path / "guide.md").write_text(
        "---\nlayout: post\n---\n# دليل القراءة\n\nفقرة فيها [رابط](http://example.com/x) و**نص عريض**\n"
        "تكمل على سطر ثان.\n\n## خلفية\n\n- بند أول فيه ![صورة الخريطة](map.png)\n\n```python\nprint('code')\n```\n\n"
        "<div>html</div>\n\n| المدينة | السكان |\n|---|---|\n| حلب | كثير |\n",
        encoding="utf-8",
    )
    (tmp_path / "only-code.md").write_text("```\nx = 1\n```\n", encoding="utf-8")
    documents, skipped = read_corpus(tmp_path)
    assert [(d.id, d.title) for d in documents] == [("guide.md", "دليل القراءة")]
    assert documents[0].text.split("\n") == [
        "دليل القراءة",
        "فقرة فيها رابط ونص عريض تكمل على سطر ثان.",
        "خلفية",
        "بند أول فيه صورة الخريطة",
        "المدينة | السكان",
        "حلب | كثير",
    ]
    assert [(s.path, "no text" in s.reason) for s in skipped] == [("only-code.md", True)]
    passages = chunk(documents[0], word_counts)
    assert all("http" not in p.text and "**" not in p.text and "print" not in p.text for p in passages)
    assert passages[0].text == "فقرة فيها رابط ونص عريض تكمل على سطر ثان."
