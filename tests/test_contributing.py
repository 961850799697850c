"""CONTRIBUTING.md says what the checkout does: its markers are the registered ones, its folder map is the one
pyproject.toml installs, its setup pins the torch the README pins, and every marker but slow implies slow."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, SLOW_MARKERS

GUIDE = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
PYTEST = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
REGISTERED = {line.split(":")[0] for line in PYTEST["markers"]}


def table(header: str) -> list[list[str]]:
    """The rows of the guide's table whose first header cell is ``header``, as cells without their backticks."""
    lines = GUIDE[GUIDE.index(f"| {header} ") :].split("\n\n")[0].splitlines()[2:]
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines]


def test_the_marker_table_names_the_registered_markers():
    assert {row[0] for row in table("marker")} == REGISTERED


def test_every_marker_but_slow_makes_a_test_slow():
    assert set(SLOW_MARKERS) == REGISTERED - {"slow"}


def test_the_commands_select_only_registered_markers():
    expressions = re.findall(r'pytest -m (?:"([^"]+)"|(\w+))', GUIDE)
    assert expressions, "the guide shows no -m selection"
    for quoted, bare in expressions:
        names = set(re.findall(r"\w+", quoted or bare)) - {"not", "and", "or"}
        assert names <= REGISTERED, names - REGISTERED


def test_nothing_in_pyproject_deselects_a_test_in_ci():
    """CI runs `python -m pytest`: the full suite only if addopts selects no marker and no keyword."""
    assert not re.search(r"(^|\s)(-m|-k)(\s|$)", " ".join(PYTEST.get("addopts", []))), PYTEST.get("addopts")


@pytest.mark.parametrize("row", table("folder"), ids=lambda row: row[0])
def test_the_folder_map_is_where_each_import_name_is_installed_from(row):
    folder, name = ROOT / row[0], row[1]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, name
    origin = Path(spec.origin)
    assert origin == (folder / "__init__.py" if folder.is_dir() else folder), (name, origin)


def test_the_setup_pins_the_torch_the_readme_and_ci_pin():
    pins = [
        set(re.findall(r"torch==[\d.]+", (ROOT / path).read_text(encoding="utf-8")))
        for path in ("CONTRIBUTING.md", "README.md", ".ci/run")
    ]
    assert len(pins[0]) == 1 and pins[0] == pins[1] == pins[2], pins
