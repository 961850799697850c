"""Uploads and ids on a real `jisr serve` (issue 48): a zip bomb is refused with memory bounded, an upload
with no text is a 422 and never a 201, and a document id is one name in NFC and NFD, never a U+FFFD."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import unicodedata
import urllib.parse
import zipfile
import zlib
from pathlib import Path

import pytest

import jisr
from jisr.corpus import submitted
from jisr.corpus.readers import Document, Skipped, read_file
from jisr.corpus.readers.archives import InflationLimits
from jisr.index.options import BuildOptions
from tests.conftest import HANG, ROOT, SEEDS, free_port, spawn, wait_http
from tests.test_documents import TOKEN, WORD, call, doc, found

pytestmark = pytest.mark.slow  # real `jisr serve` processes

BOUNDARY = "jisr-upload-boundary"
BOMB_BYTES = 200 * 2**20  # what the bomb's document.xml inflates to


def docx(text: str, padding: int = 0, filler: bytes = b" ") -> bytes:
    """A real .docx holding ``text`` (none: an empty document), its document.xml padded with ``padding`` bytes of
    ``filler``: a zip bomb when they are many blanks, since blanks compress about a thousand to one."""
    import docx as python_docx

    word = python_docx.Document()
    if text:
        word.add_paragraph(text)
    saved = io.BytesIO()
    word.save(saved)
    if not padding:
        return saved.getvalue()
    plain, bomb = zipfile.ZipFile(saved), io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in plain.infolist():
            data = plain.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", (filler * (padding // len(filler) + 1))[:padding] + b"</w:body>")
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return bomb.getvalue()


def blank_pdf() -> bytes:
    """A valid PDF of one page with no text on it."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_bomb() -> bytes:
    """A PDF of one page whose content stream inflates to 200 MB of blanks."""
    content = zlib.compress(b"BT /F1 12 Tf 72 712 Td (bomb) Tj ET\n" + b" " * BOMB_BYTES, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)


def upload(base: str, doc_id: str, name: str, content: bytes) -> tuple[int, dict]:
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return call(
        base,
        "PUT",
        "/api/documents/" + urllib.parse.quote(doc_id),
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def stored(index: Path) -> list[str]:
    """The ids of the documents sent over the API that the index folder holds."""
    return sorted(json.loads(p.read_text(encoding="utf-8"))["id"] for p in (index / "documents").glob("??/*.json"))


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_model, tiny_model_path):
    """`jisr serve` with the document API, its own process: (its URL, its pid, its index folder)."""
    folder = tmp_path_factory.mktemp("uploads")
    shutil.copytree(SEEDS, folder / "corpus")
    jisr.build(folder / "corpus", folder / "index", tiny_model, BuildOptions(companion="none"))
    (folder / "token").write_text(TOKEN + "\n")
    port = free_port()
    proc = spawn(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "serve",
            "--index",
            str(folder / "index"),
            "--port",
            str(port),
            "--model",
            str(tiny_model_path),
            "--api-token-file",
            str(folder / "token"),
            "--commit-interval",
            "0.2",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz", proc)
        yield base, proc.pid, folder / "index"
    finally:
        proc.terminate()
        proc.communicate(timeout=HANG)


def _memory(pid: int, field: str) -> int:
    """A field of /proc/PID/status (VmRSS, VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def test_a_docx_zip_bomb_is_a_413_naming_the_limit_with_memory_bounded_and_nothing_stored(served):
    base, pid, index = served
    bomb = docx(f"تقرير عن {WORD}", padding=BOMB_BYTES)
    assert len(bomb) < BOMB_BYTES // 500  # about 200 KB, under every body limit
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the server's peak resident memory starts again from now
    before = _memory(pid, "VmRSS")
    status, body = upload(base, "bomb", "bomb.docx", bomb)
    assert status == 413, body
    assert "max_inflation_ratio" in body["message"] and "100 times" in body["message"], body
    assert "word/document.xml" in body["message"] and "nothing was stored" in body["message"], body
    assert _memory(pid, "VmHWM") - before < BOMB_BYTES // 4  # streamed through, never inflated whole
    assert call(base, "GET", "/api/documents/bomb", token=None)[0] == 404
    assert "bomb" not in stored(index)

    status, body = upload(base, "word/report", "report.docx", docx(f"تقرير عن {WORD} والتجارة"))
    assert status == 201, body  # a .docx within the limits is read and searched as before
    assert "word/report" in found(base)


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.pdf", b"", "not a readable PDF"),
        ("damaged.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", "not a readable PDF"),
        ("blank.pdf", "blank", "no text layer"),
        ("empty.docx", "empty docx", "no text in the document"),
        ("blank.txt", b"  \n\t \n", "empty"),
        ("bomb.pdf", "pdf bomb", "a stream of it inflates past the limit pypdf sets on one stream"),
    ],
)
def test_an_upload_with_no_text_is_a_422_naming_why_and_nothing_is_stored(served, name, content, reason):
    base, _, index = served
    if isinstance(content, str):
        content = {"blank": blank_pdf, "empty docx": lambda: docx(""), "pdf bomb": pdf_bomb}[content]()
    status, body = upload(base, "nothing/" + name, name, content)
    assert status == 422 and body["error"] == "no_text", body
    assert name in body["message"] and reason in body["message"], body
    assert "nothing/" + name not in stored(index)
    assert call(base, "GET", "/api/documents/nothing/" + name, token=None)[0] == 404


def test_ids_in_nfc_and_nfd_are_one_document(served):
    base, _, index = served
    composed = "أحمد"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed  # the hamza above the alef as a character of its own
    status, body = call(base, "PUT", "/api/documents/" + urllib.parse.quote(decomposed), doc())
    assert (status, body["result"], body["id"]) == (201, "created", composed), body
    status, body = call(base, "PUT", "/api/documents/" + urllib.parse.quote(composed), doc(f"نص آخر عن {WORD}."))
    assert (status, body["result"]) == (200, "replaced"), body
    for name in (composed, decomposed):
        status, body = call(base, "GET", "/api/documents/" + urllib.parse.quote(name), token=None)
        assert status == 200 and "نص آخر" in body["passages"][0]["text"], body
    assert stored(index).count(composed) == 1 and decomposed not in stored(index)
    assert found(base).count(composed) == 1

    lines = [json.dumps({"id": decomposed + "/2", "text": f"ثالث عن {WORD}"}, ensure_ascii=False)]
    status, body = call(base, "POST", "/api/documents", "\n".join(lines).encode(), content_type="application/x-ndjson")
    assert status == 200 and body["loaded"] == 1, body
    assert composed + "/2" in stored(index) and decomposed + "/2" not in stored(index)
    status, body = call(base, "DELETE", "/api/documents/" + urllib.parse.quote(decomposed))
    assert (status, body["result"], body["id"]) == (200, "deleted", composed), body


def test_an_id_that_is_not_utf8_is_a_400_never_a_replacement_character(served):
    base, _, index = served
    for method, body in (("PUT", doc()), ("DELETE", None), ("GET", None)):
        status, answer = call(base, method, "/api/documents/bad%FFid", body)
        assert status == 400 and "UTF-8" in answer["message"] and "0xff" in answer["message"], (method, answer)
    lines = [
        b'{"id": "bulk/bad\xff", "text": "x"}',
        b'{"id": "bulk/half\\ud800", "text": "x"}',
        json.dumps({"id": "bulk/good", "text": f"نص عن {WORD}"}, ensure_ascii=False).encode(),
    ]
    status, body = call(base, "POST", "/api/documents", b"\n".join(lines), content_type="application/x-ndjson")
    assert status == 200 and body["loaded"] == 1, body
    assert [e["line"] for e in body["errors"]] == [1, 2] and all("UTF-8" in e["message"] for e in body["errors"])
    assert "0xff" in body["errors"][0]["message"] and "surrogate" in body["errors"][1]["message"]
    status, body = call(base, "POST", "/api/documents", lines[0], content_type="application/x-ndjson")
    assert status == 400 and "UTF-8" in body["errors"][0]["message"], body
    assert not [d for d in stored(index) if "\ufffd" in d or d.startswith(("bulk/bad", "bulk/half"))]


def test_an_id_with_a_line_break_reaches_the_endpoint_and_is_told_why(served):
    """Werkzeug's path converter stops at a line break: such an id got "no API endpoint" (404, undocumented for a
    PUT; schemathesis found it). It reaches the document endpoints now, and a write is a 400 naming the rule."""
    base, _, index = served
    for method, body in (("PUT", doc()), ("DELETE", None)):
        status, answer = call(base, method, "/api/documents/line%0Abreak", body)
        assert status == 400 and "control characters" in answer["message"], (method, status, answer)
    status, answer = call(base, "GET", "/api/documents/line%0Abreak", None)
    assert status == 404 and "no API endpoint" not in answer["message"], answer
    assert not [d for d in stored(index) if "\n" in d]


def test_archives_are_measured_before_a_reader_holds_them():
    """Both limits, by the reader every build and upload goes through: a file over one is skipped, named."""
    text = " ".join(f"كلمة{i}" for i in range(200_000))  # about 2 MB that compress well under 100 to 1
    big = docx(text)
    skipped = list(read_file("big.docx", big, limits=InflationLimits(max_bytes=2**20, max_ratio=100)))
    assert [type(s) for s in skipped] == [Skipped] and "the max_inflated_bytes setting" in skipped[0].reason
    assert "1048576 bytes" in skipped[0].reason
    assert isinstance(next(read_file("big.docx", big)), Document)  # within the default limits
    bomb = list(read_file("bomb.docx", docx("x", padding=8 * 2**20)))
    assert [type(s) for s in bomb] == [Skipped] and "the max_inflation_ratio setting" in bomb[0].reason
    assert "not a readable .docx" in next(read_file("cut.docx", big[: len(big) // 2])).reason
    long_node = docx("x", padding=11 * 2**20, filler=base64.b64encode(os.urandom(2**20)))
    assert next(read_file("node.docx", long_node)).reason == "not a readable .docx file (XMLSyntaxError)"
    with pytest.raises(submitted.NoText, match="no text to index in 'e.docx'"):
        submitted.from_upload("e", "e.docx", docx(""))


def test_jisr_build_skips_an_archive_over_the_limit_with_one_line_naming_it(tmp_path, tiny_model_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "bomb.docx").write_bytes(docx("x", padding=16 * 2**20))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "ix"),
            "--model",
            str(tiny_model_path),
            "--companion",
            "none",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
        env={**os.environ, "JISR_MAX_INFLATION_RATIO": "50"},
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "bomb.docx" in line]
    assert len(lines) == 1 and lines[0].startswith("skipped bomb.docx: word/document.xml inflates past 50 times")
    assert "Traceback" not in result.stderr


def test_the_openapi_document_says_what_an_upload_may_be_answered(served):
    base, _, _ = served
    status, spec = call(base, "GET", "/openapi.json", token=None)
    put = spec["paths"]["/api/documents/{doc_id}"]["put"]["responses"]
    assert status == 200 and "max_inflation_ratio" in put["413"]["description"]
    assert "no text" in put["422"]["description"]
    assert "UTF-8" in spec["paths"]["/api/documents/{doc_id}"]["get"]["responses"]["400"]["description"]
