"""Comments say why; measured figures live in benchmarks/results/.

A timing or speed-up written in a package comment or docstring ("51.9 -> 45.9 ms", "1.6x faster") goes
stale with the next change and nobody reruns it there. Comments name the results file instead
(benchmarks/results/decisions.md for figures that no benchmark table holds). Comments are read with
``tokenize`` and docstrings with ``ast``, so a figure in code (a limit, a default) is never flagged."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from tests.conftest import ROOT

FOLDERS = ("search", "embeddings", "web")

FIGURE = re.compile(
    r"\b\d[\d,]*(\.\d+)? ?(ms|µs|us)\b"  # a time: "17.3 ms", "9 us"
    r"|(?<!default )\b\d[\d,]*(\.\d+)? s\b"  # seconds: "0.9 s", "31 of 34.5 s" (not "bm25s", "default 120 s")
    r"|\b\d[\d,]*(\.\d+)?x\b(?! ?\d)"  # a speed-up or ratio: "1.6x faster", "57x the" (not "16x128")
    r"|\d*\.\d+ ?(->|→) ?\d*\.\d+"  # a before/after pair of decimals: "0.894 -> 0.910"
    r"|\b\d[\d,]*(\.\d+)? ?(KB|MB|GB|GiB|MiB)\b"  # memory or disk as measured: "11 GB"
)


def figures(text: str) -> list[str]:
    """The timings, speed-ups, sizes and before/after pairs that ``text`` holds, outside ``literals`` (the syntax
    of a value, such as a size setting's ``4GB``, is not a measurement)."""
    return [m.group(0) for m in FIGURE.finditer(re.sub(r"``[^`]*``", "", text))]


def prose(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comment and docstring of a module's ``source``."""
    out = [
        (tok.start[0], tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                out.append((node.body[0].lineno, doc))
    return out


def figures_in(source: str) -> list[tuple[int, str]]:
    return [(line, figure) for line, text in prose(source) for figure in figures(text)]


def package_files() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def test_no_package_comment_or_docstring_holds_a_measured_figure():
    found = [
        (str(p.relative_to(ROOT)), line, figure)
        for p in package_files()
        for line, figure in figures_in(p.read_text(encoding="utf-8"))
    ]
    assert found == [], f"move these figures to benchmarks/results/ and name the file instead: {found}"


def test_figures_are_caught_in_comments_and_docstrings_only():
    """The check can fail: timings, speed-ups and before/after pairs are found in comments and docstrings,
    and limits and defaults in code, or a word like bm25s, are not."""
    source = '''"""Module: one query took 43-49 ms, 23 ms through ONNX Runtime."""
LIMIT = 2.5  # about 1.6x faster than batches of 32
SIZE = 2 ** 20  # bytes a block; as in bm25s


def f(x: float = 0.5) -> str:
    """MRR@10 from 0.894 -> 0.910; the first call took 0.9 s and 11 GB."""
    return "12 ms"  # a string in code, not a comment: 57x the text
'''
    got = [figure for _, figure in figures_in(source)]
    assert sorted(got) == sorted(["49 ms", "23 ms", "1.6x", "0.894 -> 0.910", "0.9 s", "11 GB", "57x"])
    assert figures_in("WAIT = 120.0  # waitress's default 120 s; 16x128 tokens a batch; in 4 bytes\n") == []
    assert figures_in('def size(text):\n    """Bytes of a size such as ``4GB`` or ``512MiB``."""\n') == []
