"""A damaged file of the index is named with what repairs it, never a stack trace (issue 48, item 4).

Four kinds of damage a disk, a copy or a person leaves: a truncated vector file, a FAISS file of random
bytes, a segment file deleted, a SQLite passages file of random bytes. Each is found when the index is
opened (`jisr search`, `jisr serve`, `jisr check`: one line, exit 1; a server made on the folder: 503
from /healthz) and the message names the file and the commands that repair it; the `jisr build` it
names does repair it. A file damaged in place (its size right) is found by `jisr check` only, and
its advice repairs it too.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import jisr
from jisr.answers.searcher import Searcher
from jisr.index.local import store
from jisr.index.options import BuildOptions, VectorIndexPolicy
from jisr.web import create_app
from tests.conftest import HANG, SEEDS, more_passages, serving
from tests.test_cli import jisr as run_jisr
from tests.test_security import one_line_error

pytestmark = pytest.mark.slow  # builds and `jisr` commands in child processes

OPTIONS = BuildOptions(index_type="pq", vector_index=VectorIndexPolicy(pq_min=16), companion="none")  # ann.faiss
QUERIES = ("بوتين", "Syria", "حاملة الطائرات")


@pytest.fixture(scope="module")
def built(tmp_path_factory, tiny_model) -> tuple[Path, Path]:
    """A corpus and its index, whose one segment has a FAISS file (PQ codes): (corpus, index)."""
    folder = tmp_path_factory.mktemp("damage")
    corpus = folder / "corpus"
    shutil.copytree(SEEDS, corpus)
    more_passages(corpus)  # PQ trains 16 centroids a sub-quantizer: more passages than the seeds have
    jisr.build(corpus, folder / "index", tiny_model, OPTIONS)
    return corpus, folder / "index"


def _results(index: Path, model) -> list:
    searcher = Searcher.open(index, model)
    try:
        return [searcher.search(q, k=5).hits for q in QUERIES]
    finally:
        searcher.close()


def _damage(kind: str, index: Path) -> Path:
    """Damage the one segment of ``index`` as ``kind`` says; the file damaged."""
    segment = next((index / "segments").iterdir())
    if kind == "truncated vectors":
        path = segment / "vectors.bin"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif kind == "random faiss":
        path = segment / "ann.faiss"
        path.write_bytes(os.urandom(path.stat().st_size))
    elif kind == "deleted file":
        path = segment / "sentences.bin"
        path.unlink()
    else:
        path = segment / "passages.sqlite"
        path.write_bytes(os.urandom(path.stat().st_size))
    return path


def _says_the_file_and_the_repair(message: str, path: Path, index: Path) -> None:
    assert str(path) in message, message
    assert "rebuild it with `jisr build " in message and f"--index {index}`" in message, message
    assert f"`jisr restore SNAPSHOT --index {index}`" in message, message


@pytest.mark.parametrize("kind", ["truncated vectors", "random faiss", "deleted file", "random sqlite"])
def test_a_damaged_segment_file_is_named_with_its_repair_and_the_build_it_names_repairs_it(
    kind, built, tmp_path, tiny_model, tiny_model_path
):
    corpus, clean = built
    index = tmp_path / "index"
    shutil.copytree(clean, index)
    path = _damage(kind, index)

    for command in (["search", "Syria", "--model", str(tiny_model_path)], ["check"]):
        message = one_line_error(run_jisr(*command, "--index", str(index), cwd=tmp_path))
        _says_the_file_and_the_repair(message, path, index)
    if kind == "random sqlite":
        message = one_line_error(
            run_jisr("serve", "--port", "0", "--index", str(index), "--model", str(tiny_model_path), cwd=tmp_path)
        )
        _says_the_file_and_the_repair(message, path, index)

    with serving(create_app({"INDEX": str(index), "MODEL": str(tiny_model_path)})) as base:  # a WSGI deployment
        with pytest.raises(urllib.error.HTTPError) as answered:
            urllib.request.urlopen(base + "/healthz", timeout=HANG)
        assert answered.value.code == 503
        _says_the_file_and_the_repair(json.load(answered.value)["message"], path, index)

    jisr.build(corpus, index, tiny_model, OPTIONS)  # the repair the message names
    assert store.load(index).verify() == []
    assert _results(index, tiny_model) == _results(clean, tiny_model)


def test_a_file_damaged_in_place_is_found_by_check_whose_advice_repairs_it(
    built, tmp_path, tiny_model, tiny_model_path
):
    corpus, clean = built
    index = tmp_path / "index"
    shutil.copytree(clean, index)
    segment = next((index / "segments").iterdir())
    data = bytearray((segment / "vectors.bin").read_bytes())
    data[10] ^= 0xFF  # the size is right: opening does not notice
    (segment / "vectors.bin").write_bytes(bytes(data))

    message = one_line_error(run_jisr("check", "--index", str(index), cwd=tmp_path))
    _says_the_file_and_the_repair(message, segment / "vectors.bin", index)
    assert f"remove the folder under {index / 'segments'} that holds each damaged file" in message

    shutil.rmtree(segment)  # as the message says
    jisr.build(corpus, index, tiny_model, OPTIONS)
    assert run_jisr("check", "--index", str(index), cwd=tmp_path).returncode == 0
    assert _results(index, tiny_model) == _results(clean, tiny_model)
