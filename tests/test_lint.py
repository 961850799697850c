"""ruff, as configured in pyproject.toml, passes on the whole tree: CI runs the suite, so CI runs the linter.

`ruff check --fix . && ruff format .` puts a change in shape; these tests say which files do not pass and
why, with ruff's own messages. Planted examples show that the configuration's rules can fail."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """``ruff ARGS`` from the repository root, so pyproject.toml's [tool.ruff] is the configuration."""
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]' installs it")
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=300
    )


def test_ruff_check_finds_nothing():
    run = ruff("check", "--output-format", "concise", ".")
    assert run.returncode == 0, f"ruff check . (fix with ruff check --fix .):\n{run.stdout}{run.stderr}"


def test_ruff_format_would_change_nothing():
    run = ruff("format", "--check", "--output-format", "concise", ".")
    assert run.returncode == 0, f"ruff format --check . (fix with ruff format .):\n{run.stdout}{run.stderr}"


@pytest.mark.parametrize(
    "source, rule",
    [
        ("import os\n", "F401"),  # an unused import
        ("import sys\nimport os\n\nprint(os, sys)\n", "I001"),  # imports out of order
        (f'TEXT = "{"a" * 120}"\n', "E501"),  # a line over 120 characters
        ("try:\n    print()\nexcept Exception:\n    pass\n", "BLE001"),  # a blind except that says no reason
        ("from typing import List\n\n\ndef f(x: List[int]) -> None:\n    return None\n", "UP035"),  # old typing
    ],
)
def test_the_configured_rules_flag_a_planted_finding(source, rule):
    run = ruff("check", "--output-format", "concise", "--stdin-filename", "tests/planted.py", "-", stdin=source)
    assert run.returncode == 1 and f" {rule} " in run.stdout, run.stdout + run.stderr


def test_format_check_flags_a_planted_file_and_passes_a_formatted_one():
    planted = "x = ( 1,2 )\n"
    assert ruff("format", "--check", "--stdin-filename", "tests/planted.py", "-", stdin=planted).returncode == 1
    assert ruff("format", "--check", "--stdin-filename", "tests/planted.py", "-", stdin="x = (1, 2)\n").returncode == 0
