"""The `jisr` command as a user runs it."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SEEDS, cli_imports


def jisr(*args, env=None, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "jisr.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.mark.slow  # jisr build and search in child processes
def test_build_then_search_with_the_tiny_model(tmp_path, tiny_model_path):
    index = tmp_path / "index"
    built = jisr("build", "--corpus", str(SEEDS), "--index", str(index), "--model", str(tiny_model_path))
    assert built.returncode == 0, built.stderr
    assert "indexed 1 documents into 10 passages" in built.stdout
    again = jisr("build", "--corpus", str(SEEDS), "--index", str(index), "--model", str(tiny_model_path))
    assert "0 texts embedded" in again.stdout

    found = jisr("search", "بوتين", "--index", str(index), "-k", "3", "--json")
    assert found.returncode == 0, found.stderr
    body = json.loads(found.stdout)
    assert len(body["results"]) == 3 and body["model"] == str(tiny_model_path)
    readable = jisr("search", "بوتين", "--index", str(index), "-k", "2")
    assert readable.returncode == 0 and " 1. [" in readable.stdout and "«" in readable.stdout


def test_errors_are_one_line_and_nonzero(tmp_path, tiny_model_path):
    missing = jisr("search", "x", "--index", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no index" in missing.stderr and "Traceback" not in missing.stderr
    bad_corpus = jisr(
        "build", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i"), "--model", str(tiny_model_path)
    )
    assert bad_corpus.returncode == 1 and "corpus folder not found" in bad_corpus.stderr
    bad_model = jisr("build", "--index", str(tmp_path / "i"), "--model", str(tmp_path / "no-model"))
    assert bad_model.returncode == 1 and "cannot load model" in bad_model.stderr
    assert "Traceback" not in bad_model.stderr + bad_corpus.stderr
    usage = jisr("search")
    assert usage.returncode == 2 and "usage" in usage.stderr


@pytest.mark.slow  # jisr build and search in child processes
def test_search_with_a_different_model_is_refused(tmp_path, tiny_model_path):
    from tests.conftest import build_tiny_model

    jisr("build", "--corpus", str(SEEDS), "--index", str(tmp_path / "index"), "--model", str(tiny_model_path))
    other = build_tiny_model(tmp_path / "other")
    refused = jisr("search", "x", "--index", str(tmp_path / "index"), "--model", str(other))
    assert refused.returncode == 1 and "built with model" in refused.stderr


@pytest.mark.slow  # jisr search in child processes
def test_search_says_did_you_mean(seed_index, model_cache):
    env = {"JISR_MODEL_CACHE": model_cache}
    typo = jisr("search", "حاملة الطائرت شارل ديغول", "--index", str(seed_index), "-k", "1", env=env)
    assert typo.returncode == 0 and "note: did you mean: حاملة الطائرات شارل ديغول" in typo.stderr
    body = json.loads(jisr("search", "حاملة الطائرت شارل ديغول", "--index", str(seed_index), "--json", env=env).stdout)
    assert body["suggest"] == "حاملة الطائرات شارل ديغول"
    alone = jisr("search", "الطائرت", "--index", str(seed_index), "-k", "1", env=env)
    assert "note: showing results for الطائرات; search instead for الطائرت with --as-typed" in alone.stderr
    typed = jisr("search", "الطائرت", "--index", str(seed_index), "-k", "1", "--as-typed", "--json", env=env)
    assert typed.returncode == 0 and "suggest" not in json.loads(typed.stdout) and "did you mean" not in typed.stderr


def test_bad_k_is_refused(seed_index, model_cache):
    out = jisr("search", "Putin", "--index", str(seed_index), "-k", "0", env={"JISR_MODEL_CACHE": model_cache})
    assert out.returncode == 1 and "k must be" in out.stderr


def _bad_index(kind: str, tmp_path, tiny_index):
    import shutil

    path = tmp_path / kind
    if kind == "missing":
        return path
    if kind == "a-file":
        path.write_text("not an index")
        return path
    shutil.copytree(tiny_index, path)
    if kind == "damaged-current":
        (path / "CURRENT").write_text("../../etc/passwd\n")
    elif kind == "another-version":
        commit = next((path / "commits").iterdir())
        commit.write_text(commit.read_text().replace('"format": 3', '"format": 99'))
    return path


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, tiny_model_path):
    index = tmp_path_factory.mktemp("tiny-index") / "index"
    built = jisr(
        "build", "--corpus", str(SEEDS), "--index", str(index), "--model", str(tiny_model_path), "--companion", "none"
    )
    assert built.returncode == 0, built.stderr
    return index


_BAD = [
    ("missing", "no index at"),
    ("a-file", "is a file, not an index folder"),
    ("damaged-current", "damaged"),
    ("another-version", "format 99"),
]


@pytest.mark.parametrize(
    "command,kind,says",
    [
        (command, kind, says)
        for command in (["search", "Putin"], ["serve", "--port", "0"], ["check"])
        for kind, says in _BAD
        if not (kind == "missing" and command[0] == "serve")
    ],
)  # serve builds a missing one
def test_a_bad_index_is_said_before_any_model_library_loads(command, kind, says, tmp_path, tiny_index):
    index = _bad_index(kind, tmp_path, tiny_index)
    out, heavy, code = cli_imports([*command, "--index", str(index)], cwd=tmp_path)
    assert code == 1 and heavy == [], out.stderr  # torch, the model and FAISS never loaded
    error = [line for line in out.stderr.splitlines() if line.startswith("jisr: error:")]
    assert len(error) == 1 and says in error[0] and "Traceback" not in out.stderr, out.stderr
    if kind == "a-file":
        assert "jisr build" not in error[0]  # building at a file's path is refused: it is not suggested


@pytest.mark.default_model
def test_the_suggested_build_command_works(tmp_path, model_cache):
    import shlex
    import shutil

    shutil.copytree(SEEDS, tmp_path / "seeds")
    env = {"JISR_MODEL_CACHE": model_cache}
    missing = jisr("search", "Putin", cwd=tmp_path, env=env)
    assert missing.returncode == 1
    suggested = re.search(r"`(jisr build[^`]*)`", missing.stderr).group(1)
    assert suggested == "jisr build --index index"
    built = jisr(*shlex.split(suggested)[1:], cwd=tmp_path, env=env)
    assert built.returncode == 0, built.stderr
    found = jisr("search", "Putin", "-k", "1", "--json", cwd=tmp_path, env=env)
    assert found.returncode == 0 and json.loads(found.stdout)["results"], found.stderr
    elsewhere = jisr("search", "Putin", "--index", str(tmp_path / "none"), cwd=tmp_path / "seeds", env=env)
    assert "`jisr build --corpus FOLDER --index" in elsewhere.stderr  # no seeds here: the user names a folder


def test_cli_messages_name_arguments_not_api_fields(tmp_path, tiny_index):
    empty = jisr("search", "", "--index", str(tiny_index))
    assert empty.returncode == 1 and "the QUERY argument" in empty.stderr and " in q" not in empty.stderr
    big_k = jisr("search", "x", "-k", "1000", "--index", str(tiny_index))
    assert big_k.returncode == 1 and "-k must be from 1 to 100" in big_k.stderr


def test_every_command_that_builds_has_every_build_option(tmp_path):
    """serve's build-if-missing and eval go through the one build path: a parser that lacks an option it
    reads fails here (AttributeError), not on a new user's first run."""
    from jisr import cli
    from jisr.index.preflight import BuildError

    for argv in (["build"], ["serve"], ["eval"]):
        args = cli._parser().parse_args(argv)
        with pytest.raises(BuildError, match="corpus folder not found"):  # every option read, then the corpus
            cli._build_index(args, tmp_path / "no-corpus", tmp_path / "index")
