"""Every real text file read: UTF-8 (with or without BOM), UTF-16 with a BOM, Windows-1256, ISO-8859-6."""

from __future__ import annotations

import time

import pytest

from jisr.corpus.decoding import Undecodable, decode
from jisr.corpus.files import read_corpus
from jisr.index.build import build
from jisr.index.local import store
from tests.conftest import SEEDS

SEED_TEXT = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
ENCODINGS = {  # how the file is written -> the name decode() reports
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "utf-16-be-bom": "utf-16",
    "cp1256": "cp1256",
    "iso-8859-6": "iso8859_6",
}


def _encode(text: str, how: str) -> bytes:
    if how == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(how, errors="replace" if how == "iso-8859-6" else "strict")


@pytest.mark.parametrize("how", ENCODINGS)
def test_the_seed_article_reads_the_same_in_every_encoding(how):
    raw = _encode(SEED_TEXT, how)
    text, encoding = decode(raw)
    assert encoding == ENCODINGS[how]
    assert text == raw.decode("utf-16" if how == "utf-16-be-bom" else how, errors="replace")
    assert text.split("\n", 1)[0] == SEED_TEXT.split("\n", 1)[0]  # the Arabic title, letter for letter


def test_a_utf8_bom_is_kept_in_the_text_so_offsets_do_not_move():
    assert decode(b"\xef\xbb\xbf" + SEED_TEXT.encode()) == ("\ufeff" + SEED_TEXT, "utf-8")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),  # an image named .txt
        bytes(range(256)) * 8,
        b"\xff\xfe\x00",  # a UTF-16 mark, then half a character
    ],
)
def test_binary_bytes_are_refused_with_a_reason(raw):
    with pytest.raises(Undecodable, match="binary|not UTF-16"):
        decode(raw)


def test_a_corpus_in_mixed_encodings_is_indexed_with_each_files_encoding(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for how in ENCODINGS:
        (corpus / f"{how}.txt").write_bytes(_encode(SEED_TEXT.replace("بوتين", f"بوتين {how}"), how))
    (corpus / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    documents, skipped = read_corpus(corpus)
    assert {d.id: d.encoding for d in documents} == {f"{how}.txt": name for how, name in ENCODINGS.items()}
    assert [(s.path, "binary" in s.reason) for s in skipped] == [("picture.txt", True)]

    report = build(corpus, tmp_path / "index", tiny_model)
    assert report.documents == len(ENCODINGS) and [s.path for s in report.skipped] == ["picture.txt"]
    index = store.load(tmp_path / "index")
    files = index.manifest["files"]
    assert {doc: f["encoding"] for doc, f in files.items()} == {f"{how}.txt": n for how, n in ENCODINGS.items()}
    cp1256 = [p for p in index.passages(index.ids()) if p.source == "cp1256.txt"]
    assert len(cp1256) == 10 and any("بوتين" in p.text for p in cp1256)
    # a passage's offsets point into the decoded text of its file
    text, _ = decode((corpus / "cp1256.txt").read_bytes())
    assert all(text[p.start : p.end] == p.text for p in cp1256)


@pytest.mark.slow  # encodes thousands of passages
def test_a_5_mb_single_line_file_is_built(tmp_path, tiny_model):
    """Time budget: the chunking of a 5 MB line, with spaces or without, takes seconds and grows linearly
    (benchmarks/long_line.py measures it); before, the build did not finish in 10 minutes. This checks that
    the whole line is indexed, in passages that fit the window, without asserting a time."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    line = " ".join(f"كلمة{i % 997}" for i in range(5_000_000 // 7))
    (corpus / "huge.txt").write_text("عنوان\n" + line[:5_000_000], encoding="utf-8")
    started = time.monotonic()
    report = build(corpus, tmp_path / "index", tiny_model)
    index = store.load(tmp_path / "index")
    passages = index.passages(index.ids())
    assert report.passages == len(passages) > 100
    assert "".join(p.text for p in passages).replace(" ", "") == line[:5_000_000].replace(" ", "")
    print(f"5 MB line built in {time.monotonic() - started:.1f} s, {len(passages)} passages")
