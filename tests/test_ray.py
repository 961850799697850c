"""`jisr build --ray`: the encoder on a real local Ray cluster (two workers on 127.0.0.1), same vectors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from jisr.index.build import build
from jisr.index.local import store
from tests.conftest import ROOT, SEEDS, cli_imports
from tests.test_cli import jisr
from tests.test_security import one_line_error

pytestmark = pytest.mark.ray


def everything(index: Path) -> dict[str, tuple]:
    """Each passage's text with its vector and its sentences' vectors, by document and position, and the
    step of each stored row (0 where a kind is stored as floats)."""
    found = {}
    for seg in store.load(index).segments:
        for row, p in enumerate(seg.passages(np.arange(seg.size))):
            a, b = seg.sentence_offsets[row], seg.sentence_offsets[row + 1]
            found[(p.doc_id, p.text)] = (
                np.asarray(seg.vectors[row], np.float32),
                np.asarray(seg.sentence_vectors[a:b], np.float32),
                _steps(seg.vectors, slice(row, row + 1)),
                _steps(seg.sentence_vectors, slice(a, b)),
            )
    return found


def _steps(rows, which: slice) -> np.ndarray:
    """The quantization step of rows ``which`` (a column: one a row), 0 for float rows."""
    scales = getattr(rows, "scales", None)
    count = which.stop - which.start
    return np.zeros((count, 1), np.float32) if scales is None else np.asarray(scales[which], np.float32)[:, None]


def assert_same_vectors(ray_index: Path, local_index: Path) -> None:
    from jisr.embeddings.precision import native_bfloat16

    # Ray's workers batch texts otherwise than one process does; under bfloat16 (the default model on a
    # CPU that has it) another padding moves a vector by ~3e-4, in float32 by ~1e-7. Each build then
    # rounds its values to steps of its row's scale (int6 sentence vectors: ~0.003): two values that
    # straddle a rounding boundary differ by up to half a step of each row, beyond the encoder's drift
    drift = 2e-3 if native_bfloat16() else 1e-5
    ray_rows, local_rows = everything(ray_index), everything(local_index)
    assert ray_rows.keys() == local_rows.keys()
    for key, (vector, sentences, step, sentence_steps) in local_rows.items():
        theirs, their_sentences, their_step, their_sentence_steps = ray_rows[key]
        assert np.all(np.abs(theirs - vector) <= drift + (step + their_step) / 2), key
        assert their_sentences.shape == sentences.shape, key
        assert np.all(np.abs(their_sentences - sentences) <= drift + (sentence_steps + their_sentence_steps) / 2), key


def _listeners() -> set[tuple[str, int]]:
    """TCP sockets listening on this machine, as (hex address, port), from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A":
                address, port = local.split(":")
                found.add((address, int(port, 16)))
    return found


def _loopback(address: str) -> bool:
    if len(address) == 8:  # IPv4, little-endian: 0100007F is 127.0.0.1
        return address.endswith("7F")
    return address in ("00000000000000000000000001000000", "0000000000000000FFFF00000100007F")


def test_a_ray_build_gives_the_vectors_of_a_local_build_and_binds_only_loopback(tmp_path, tiny_model, tiny_model_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        for n in range(6):  # several documents, so both workers get batches
            (corpus / f"{i}-{n}.txt").write_text(text.replace("\n\n", f"\n\nنسخة {n}.\n\n", n + 1), encoding="utf-8")
    before = _listeners()
    seen, done = set(), threading.Event()

    def watch():
        while not done.wait(0.2):
            seen.update(_listeners() - before)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        built = jisr(
            "build",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "ray"),
            "--model",
            str(tiny_model_path),
            "--ray",
            "--ray-workers",
            "2",
        )
    finally:
        done.set()
        watcher.join()
    assert built.returncode == 0, built.stderr
    assert "indexed 6 documents" in built.stdout
    assert seen, "no Ray server was seen listening: the watcher saw nothing"
    assert all(_loopback(address) for address, _ in seen), sorted(seen)
    build(corpus, tmp_path / "local", tiny_model)
    assert_same_vectors(tmp_path / "ray", tmp_path / "local")


_WORKER_TITLE = b"ray::MapWorker"


def _kill_first_worker(killed: list[int], stop: threading.Event) -> None:
    """SIGKILL the first Ray Data encoder worker that appears (while it loads the model or encodes)."""
    while not stop.wait(0.05):
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(_WORKER_TITLE):
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))
                return


@pytest.mark.slow
def test_the_default_model_through_ray_survives_a_dying_worker(tmp_path, seed_index, model_cache):
    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_first_worker, args=(killed, stop))
    killer.start()
    try:
        built = jisr(
            "build",
            "--corpus",
            str(SEEDS),
            "--index",
            str(tmp_path / "ray"),
            "--ray",
            "--ray-workers",
            "2",
            "--model-cache",
            model_cache,
        )
    finally:
        stop.set()
        killer.join()
    assert built.returncode == 0, built.stderr
    assert killed, "no Ray worker was seen: nothing was killed"
    assert_same_vectors(tmp_path / "ray", seed_index)


def test_an_unreachable_cluster_is_one_clear_error_in_seconds(tmp_path, tiny_model_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result, heavy, code = cli_imports(
        [
            "build",
            "--corpus",
            str(SEEDS),
            "--index",
            str(tmp_path / "index"),
            "--model",
            str(tiny_model_path),
            "--ray",
            f"127.0.0.1:{port}",
        ]
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("jisr: error:")]
    assert code == 1 and len(errors) == 1 and "cannot reach a Ray cluster" in errors[0], result.stderr
    assert "ray" not in heavy  # refused before Ray was imported: Ray's own retries would take minutes
    assert not (tmp_path / "index" / "CURRENT").exists()
    alone = jisr("build", "--corpus", str(SEEDS), "--index", str(tmp_path / "index"), "--ray-workers", "2")
    assert "--ray-workers needs --ray" in one_line_error(alone)


_WRONG_MODEL = """
import sys
from jisr.embeddings.ray_encoding import ClusterError, ModelSpec, RayEncoder
try:
    with RayEncoder(ModelSpec(sys.argv[1]), "0123456789abcdef", 32, workers=1) as encoder:
        encoder(["نص", "text"])
except ClusterError as exc:
    print(exc)
"""


def test_a_worker_with_another_model_fails_the_build(tiny_model_path):
    result = subprocess.run(
        [sys.executable, "-c", _WRONG_MODEL, str(tiny_model_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert "ModelError" in result.stdout and "fingerprint" in result.stdout, result.stdout + result.stderr


def test_a_build_without_ray_imports_nothing_of_ray(tmp_path, tiny_model_path):
    script = (
        "import sys; from jisr import cli; "
        "assert cli.main(['build', '--corpus', sys.argv[1], '--index', sys.argv[2], '--model', sys.argv[3]]) == 0; "
        "assert not [m for m in sys.modules if m == 'ray' or m.startswith('ray.')], 'ray was imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(SEEDS), str(tmp_path / "index"), str(tiny_model_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_without_the_ray_extra_the_build_says_how_to_install_it(tmp_path, tiny_model_path):
    script = (
        "import sys; sys.modules['ray'] = None; from jisr import cli; "  # as if ray were not installed
        "sys.exit(cli.main(['build', '--corpus', sys.argv[1], '--index', sys.argv[2], '--model', sys.argv[3], "
        "'--ray']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(SEEDS), str(tmp_path / "index"), str(tiny_model_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 1 and "pip install 'jisr[ray]'" in one_line_error(result)
    assert not (tmp_path / "index" / "CURRENT").exists()
