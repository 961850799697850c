"""The README's commands are tests: the first command serves the default corpus from nothing, the curl
examples (the README's and the docs' JSON API, docs/searching.md) answer as the samples printed under
them, CI runs its test command, and the synopsis (docs/command-line.md) names every option the command
line knows."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

import pytest

from tests import readme
from tests.conftest import ROOT


def shape(value):
    """A JSON value's fields, nested: what a client reads, without the values that vary from run to run."""
    if isinstance(value, dict):
        return {key: shape(v) for key, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


@pytest.mark.default_model
def test_the_first_command_serves_the_default_corpus_and_answers_the_readmes_examples(model_cache):
    examples = readme.curl_examples()
    assert len(examples) >= 2  # an English and an Arabic query
    with readme.first_command(model_cache) as (base, folder, printed):
        assert any(line.startswith("no index at index: building it from seeds first") for line in printed), printed
        assert (folder / "index" / "CURRENT").is_file()  # built where the first command says: ./index
        for command, sample, _ in examples:
            real, expected = json.loads(readme.curl(command, base)), json.loads(sample)
            assert shape(real) == shape(expected), f"the fields of {command} drifted from the README's sample"
            assert real["query"] == expected["query"] and real["model"] == expected["model"]
            assert [(r["doc_id"], r["ordinal"]) for r in real["results"]] == [
                (r["doc_id"], r["ordinal"]) for r in expected["results"]
            ], f"the top results of {command} drifted"
            for got, want in zip(real["results"], expected["results"]):  # bfloat16 and float32 CPUs agree to ~1e-3
                assert got["score"] == pytest.approx(want["score"], abs=0.02), command
                assert got["text"] == want["text"] and got["highlight"] == want["highlight"]
        with urllib.request.urlopen(base + "/", timeout=60) as page:  # the page the README says to open
            assert page.status == 200 and b"<form" in page.read()


def test_the_readmes_curl_commands_are_among_the_examples_run_against_a_server():
    run = {command for command, _, _ in readme.curl_examples()}
    curls = readme.readme_curls()
    assert curls and set(curls) <= run, set(curls) - run


def test_ci_runs_the_readmes_test_command():
    _, test = readme.two_commands()
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_first_command_installs_the_project_and_ends_in_jisr_serve():
    serve, _ = readme.two_commands()
    assert "pip install torch==2.13.0 -e ." in serve  # a CPU torch: an unpinned one pulls CUDA
    assert readme.jisr_step(serve)[0] == "serve"


def _commands() -> dict[str, argparse.ArgumentParser]:
    from jisr.cli import _parser

    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_the_synopsis_names_every_option_of_every_command():
    synopsis = readme.synopsis()
    commands = _commands()
    assert set(synopsis) == set(commands)
    for name, parser in commands.items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            names = action.option_strings or [action.metavar or action.dest.upper()]
            assert any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", synopsis[name]) for n in names), (
                f"the docs' synopsis of `jisr {name}` lacks {names[0]}"
            )


@pytest.mark.default_model
def test_the_python_example_runs_as_written(tmp_path, model_cache):
    """The README's Python API example, run as a program in a folder whose my-docs is the default corpus."""
    (example,) = [body for lang, body in readme.blocks(readme.section("Python API")) if lang == "python"]
    shutil.copytree(ROOT / "seeds", tmp_path / "my-docs")
    out = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "JISR_MODEL_CACHE": model_cache},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "بوتين" in out.stdout  # the top result's title, then its document's first passage
    assert (tmp_path / "my-index" / "CURRENT").is_file()
