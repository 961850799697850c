"""The `jisr` command as a user runs it."""
import json
import os
import subprocess
import sys

from tests.conftest import ROOT, SEEDS


def jisr(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "search.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=600)


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
    bad_corpus = jisr("build", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i"),
                      "--model", str(tiny_model_path))
    assert bad_corpus.returncode == 1 and "corpus folder not found" in bad_corpus.stderr
    bad_model = jisr("build", "--index", str(tmp_path / "i"), "--model", str(tmp_path / "no-model"))
    assert bad_model.returncode == 1 and "cannot load model" in bad_model.stderr
    assert "Traceback" not in bad_model.stderr + bad_corpus.stderr
    usage = jisr("search")
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_search_with_a_different_model_is_refused(tmp_path, tiny_model_path):
    from tests.conftest import build_tiny_model

    jisr("build", "--corpus", str(SEEDS), "--index", str(tmp_path / "index"), "--model", str(tiny_model_path))
    other = build_tiny_model(tmp_path / "other")
    refused = jisr("search", "x", "--index", str(tmp_path / "index"), "--model", str(other))
    assert refused.returncode == 1 and "built with model" in refused.stderr


def test_bad_k_is_refused(seed_index, model_cache):
    out = jisr("search", "Putin", "--index", str(seed_index), "-k", "0", env={"JISR_MODEL_CACHE": model_cache})
    assert out.returncode == 1 and "k must be" in out.stderr
