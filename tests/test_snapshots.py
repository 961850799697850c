"""Snapshots and restore (issue 48, item 2) on a real `jisr serve`: a snapshot taken while writes are committed
holds exactly the acknowledged ones, is hard links on the index's file system, passes `jisr check`; a restore
over a served index is what the server answers from next; retention keeps N; bad requests are refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import jisr
from jisr.corpus import submitted
from jisr.index import commit
from jisr.index.options import BuildOptions
from tests.conftest import HANG, ROOT, SEEDS, free_port, spawn, wait_http, wait_until
from tests.test_documents import TOKEN, call, doc, found
from tests.test_writer_lock import fill, small_disk

pytestmark = pytest.mark.slow  # real `jisr serve` processes and builds
needs_root = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root")


def jisr_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jisr.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=HANG,
    )


@pytest.fixture()
def index_dir(tmp_path, tiny_model) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    jisr.build(corpus, tmp_path / "index", tiny_model, BuildOptions(companion="none"))
    return tmp_path / "index"


class Server:
    """`jisr serve` over ``index`` with the document API on, stopped (and its output kept) at the end."""

    def __init__(self, index: Path, model_path: Path, token_file: Path, env: dict | None = None):
        token_file.write_text(TOKEN + "\n")
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.proc = spawn(
            [
                sys.executable,
                "-m",
                "jisr.cli",
                "serve",
                "--index",
                str(index),
                "--port",
                str(port),
                "--model",
                str(model_path),
                "--api-token-file",
                str(token_file),
                "--commit-interval",
                "0.1",
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )

    def __enter__(self) -> Server:
        wait_http(self.base + "/healthz", self.proc)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate(timeout=HANG)


def api_documents(snapshot: Path) -> tuple[set[str], set[str]]:
    """The documents sent over the API that a snapshot's commit holds, and those its documents folder holds."""
    manifest = json.loads(commit.current_commit(snapshot).read_text(encoding="utf-8"))
    stored = {json.loads(f.path.read_bytes())["id"] for f in submitted.files(snapshot)}
    return {d for d in manifest["files"] if d.startswith("w")}, stored


def test_a_snapshot_taken_while_a_server_commits_writes_holds_exactly_the_acknowledged_ones(
    index_dir, tmp_path, tiny_model_path
):
    acknowledged: dict[str, int] = {}  # document id -> the generation its 2xx named
    failures: list = []
    with Server(index_dir, tiny_model_path, tmp_path / "token", env={"JISR_SNAPSHOT_KEEP": "2"}) as server:
        status, body = call(server.base, "POST", "/api/snapshots", token=None)
        assert status == 401 and "Authorization" in body["message"]
        assert call(server.base, "GET", "/api/snapshots", token="wrong-token-wrong-token")[0] == 403

        def write() -> None:
            for i in range(24):
                status, body = call(server.base, "PUT", f"/api/documents/w{i:03d}", doc())
                if status != 201:
                    failures.append((status, body))
                    return
                acknowledged[f"w{i:03d}"] = body["generation"]

        writer = threading.Thread(target=write)
        writer.start()
        wait_until(lambda: len(acknowledged) >= 3 or failures, "three writes acknowledged", server.proc)
        taken = []
        for _ in range(2):
            status, body = call(server.base, "POST", "/api/snapshots")
            assert status == 201, body
            assert str(index_dir) not in json.dumps(body)  # names, not the server's paths
            taken.append(body["snapshot"])
        cli = jisr_cli("snapshot", "--index", str(index_dir), str(tmp_path / "by-cli"))
        assert cli.returncode == 0 and "snapshot of generation" in cli.stdout, cli.stderr
        status, body = call(server.base, "POST", "/api/snapshots")
        assert status == 201, body
        taken.append(body["snapshot"])
        writer.join(HANG)
        assert not failures, failures
        assert len(acknowledged) == 24

        status, body = call(server.base, "GET", "/api/snapshots")
        assert status == 200
        assert [s["name"] for s in body["snapshots"]] == [t["name"] for t in taken[-2:]]  # retention: the last 2
        assert not (index_dir / "snapshots" / taken[0]["name"]).exists()

    snapshots = [tmp_path / "by-cli"] + [index_dir / "snapshots" / t["name"] for t in taken[-2:]]
    generations = set()
    for snap in snapshots:
        gen = commit.generation(snap)
        generations.add(gen)
        expected = {doc_id for doc_id, g in acknowledged.items() if g <= gen}
        assert api_documents(snap) == (expected, expected), snap  # the commit and its documents agree
        checked = jisr_cli("check", "--index", str(snap))
        assert checked.returncode == 0 and "all ok" in checked.stdout, checked.stderr
    assert any(0 < len([g for g in acknowledged.values() if g <= gen]) < 24 for gen in generations), (
        generations,
        acknowledged,
    )  # one at least was taken between writes, not before or after them all

    snap = tmp_path / "by-cli"
    opened = jisr.Index.open(snap, str(tiny_model_path))
    try:
        held = {d for d, g in acknowledged.items() if g <= commit.generation(snap)}
        assert all(opened.document(d) for d in held)
        assert not any(opened.document(d) for d in set(acknowledged) - held)
    finally:
        opened.close()


def test_a_restore_over_a_served_index_is_what_the_server_answers_from_next(index_dir, tmp_path, tiny_model_path):
    with Server(index_dir, tiny_model_path, tmp_path / "token") as server:
        assert call(server.base, "PUT", "/api/documents/a", doc())[0] == 201
        status, body = call(server.base, "POST", "/api/snapshots")
        assert status == 201 and body["snapshot"]["linked"] == body["snapshot"]["files"] > 0, body
        assert body["snapshot"]["copied_bytes"] == 0
        snap = index_dir / "snapshots" / body["snapshot"]["name"]

        # on the index's own file system every file is a hard link: the same inode, not a copy
        for path in [p for p in snap.rglob("*") if p.is_file() and p.parent != snap]:  # all but CURRENT
            twin = index_dir / path.relative_to(snap)
            assert os.stat(path).st_ino == os.stat(twin).st_ino and os.stat(path).st_nlink >= 2, path
        assert list(snap.glob("documents/??/*.json"))  # the document sent over the API is in it

        assert call(server.base, "PUT", "/api/documents/b", doc())[0] == 201
        assert call(server.base, "DELETE", "/api/documents/a")[0] == 200
        assert found(server.base) == ["b"]
        before = commit.generation(index_dir)

        restored = jisr_cli("restore", str(snap), "--index", str(index_dir))
        assert restored.returncode == 0 and "restored" in restored.stdout, restored.stderr
        assert commit.generation(index_dir) == before + 1  # a new commit, above every earlier one
        wait_until(lambda: found(server.base) == ["a"], "the server answering from the restored commit", server.proc)
        assert call(server.base, "GET", "/api/documents/a", token=None)[0] == 200
        assert call(server.base, "GET", "/api/documents/b", token=None)[0] == 404

        # the documents came back with the commit: the next write keeps "a" and does not bring "b" back
        assert call(server.base, "PUT", "/api/documents/c", doc())[0] == 201
        assert found(server.base) == ["a", "c"]
    checked = jisr_cli("check", "--index", str(index_dir))
    assert checked.returncode == 0 and "all ok" in checked.stdout, checked.stderr


def test_a_restore_into_a_new_folder_is_an_index_of_the_snapshots_commit(index_dir, tmp_path, tiny_model_path):
    from jisr.index import snapshot

    submitted.apply(index_dir, {"x": submitted.from_json("x", doc())})  # as a write does, before its commit
    taken = snapshot.take(index_dir, tmp_path / "snap")
    assert taken.files == taken.linked and taken.copied_bytes == 0
    made = jisr_cli("restore", str(tmp_path / "snap"), "--index", str(tmp_path / "new"))
    assert made.returncode == 0, made.stderr
    assert commit.generation(tmp_path / "new") == taken.generation
    assert [json.loads(f.path.read_bytes())["id"] for f in submitted.files(tmp_path / "new")] == ["x"]
    checked = jisr_cli("check", "--index", str(tmp_path / "new"))
    assert checked.returncode == 0 and "all ok" in checked.stdout, checked.stderr


def test_bad_snapshots_and_restores_are_refused_with_one_line(index_dir, tmp_path):
    def refused(result: subprocess.CompletedProcess, says: str) -> None:
        lines = [line for line in result.stderr.splitlines() if line.startswith("jisr: error:")]
        assert result.returncode == 1 and len(lines) == 1 and says in lines[0], result.stderr
        assert "Traceback" not in result.stderr

    refused(jisr_cli("snapshot", "--index", str(tmp_path / "nothing"), str(tmp_path / "s")), "no index at")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    refused(jisr_cli("snapshot", "--index", str(index_dir), str(tmp_path / "full")), "exists already")
    assert jisr_cli("snapshot", "--index", str(index_dir), str(tmp_path / "s")).returncode == 0

    refused(jisr_cli("restore", str(tmp_path / "s"), "--index", str(tmp_path / "full")), "holds no index")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    refused(jisr_cli("restore", str(tmp_path / "full"), "--index", str(tmp_path / "new")), "is not a snapshot")

    linked = tmp_path / "linked"
    shutil.copytree(tmp_path / "s", linked)
    vectors = next(linked.glob("segments/*/vectors.bin"))
    vectors.unlink()
    vectors.symlink_to(next((tmp_path / "s").glob("segments/*/vectors.bin")))  # the same bytes, through a link
    refused(jisr_cli("restore", str(linked), "--index", str(tmp_path / "new")), "is a symbolic link")
    assert not (tmp_path / "new").exists()

    damaged = tmp_path / "damaged"
    shutil.copytree(tmp_path / "s", damaged)  # copies: damaging hard links would damage the index itself
    vectors = next(damaged.glob("segments/*/vectors.bin"))
    data = bytearray(vectors.read_bytes())
    data[0] ^= 0xFF
    vectors.write_bytes(bytes(data))
    gen = commit.generation(index_dir)
    refused(jisr_cli("restore", str(damaged), "--index", str(index_dir)), "fails `jisr check`")
    assert commit.generation(index_dir) == gen and not (tmp_path / "new").exists()


def test_a_snapshot_of_an_index_on_milvus_holds_its_manifest_and_documents_and_is_not_restored(index_dir, tmp_path):
    """The collection is Milvus's: the snapshot says so and names Milvus's own backup tool; restore refuses it."""
    manifest = commit.readable(index_dir)
    on_milvus = tmp_path / "on-milvus"
    on_milvus.mkdir()
    commit.write_commit(
        on_milvus,
        1,
        {
            **manifest,
            "segments": [],
            "companion": None,
            "store": {"kind": "milvus", "uri": "http://milvus:19530", "collection": "jisr"},
        },
    )
    submitted.apply(on_milvus, {"x": submitted.from_json("x", doc())})
    taken = jisr_cli("snapshot", "--index", str(on_milvus), str(tmp_path / "s"))
    assert taken.returncode == 0, taken.stderr
    assert "milvus-backup" in taken.stderr and "'jisr'" in taken.stderr
    assert commit.generation(tmp_path / "s") == 1 and len(submitted.files(tmp_path / "s")) == 1
    restored = jisr_cli("restore", str(tmp_path / "s"), "--index", str(tmp_path / "new"))
    assert restored.returncode == 1 and "milvus-backup" in restored.stderr and "Traceback" not in restored.stderr
    assert not (tmp_path / "new").exists()


@pytest.mark.root
@needs_root
def test_a_snapshot_on_another_file_system_is_a_copy_and_a_full_disk_there_is_said_in_one_line(index_dir, tmp_path):
    with small_disk(tmp_path / "disk", "64m") as disk:
        made = jisr_cli("snapshot", "--index", str(index_dir), str(disk / "snap"))
        assert made.returncode == 0 and "(0 hard links" in made.stdout, made.stderr
        for path in [p for p in (disk / "snap").rglob("*") if p.is_file() and p.parent != disk / "snap"]:
            twin = index_dir / path.relative_to(disk / "snap")
            assert os.stat(path).st_dev != os.stat(twin).st_dev and path.read_bytes() == twin.read_bytes(), path
            assert os.stat(path).st_mtime_ns == os.stat(twin).st_mtime_ns  # a build trusts a file by size and time
        assert not list(index_dir.glob(".snapshot-*"))  # the links gathered beside the index are gone
        checked = jisr_cli("check", "--index", str(disk / "snap"))
        assert checked.returncode == 0 and "all ok" in checked.stdout, checked.stderr
        restored = jisr_cli("restore", str(disk / "snap"), "--index", str(tmp_path / "new"))
        assert restored.returncode == 0 and "(0 hard links" in restored.stdout, restored.stderr
        assert commit.generation(tmp_path / "new") == commit.generation(index_dir)

    with small_disk(tmp_path / "full", "1m") as full:
        fill(full)
        result = jisr_cli("snapshot", "--index", str(index_dir), str(full / "snap"))
        lines = [line for line in result.stderr.splitlines() if line.startswith("jisr: error:")]
        assert result.returncode == 1 and len(lines) == 1 and "the disk is full" in lines[0], result.stderr
        assert sorted(p.name for p in full.iterdir()) == ["filler"]  # no half snapshot left
    assert not list(index_dir.glob(".snapshot-*"))


def test_a_snapshot_waits_for_a_build_in_progress_and_holds_none_of_its_uncommitted_documents(
    index_dir, tmp_path, tiny_model
):
    """A write's documents are stored before its commit, under the writer lock: a snapshot taken meanwhile waits for
    the lock, so it never holds a document its commit lacks; past its wait it is refused (503 busy on a server)."""
    from jisr.errors import IndexBusy
    from jisr.index import snapshot
    from jisr.index.lock import WriterLock
    from jisr.web import create_app
    from tests.conftest import serving

    done = threading.Event()
    with WriterLock(index_dir):  # a build between storing a write's document and its commit
        undo = submitted.apply(index_dir, {"y": submitted.from_json("y", doc())})
        waiting = threading.Thread(target=lambda: (snapshot.take(index_dir, tmp_path / "snap", 60), done.set()))
        waiting.start()
        assert not done.wait(1.0)  # it waits for the lock ...
        with pytest.raises(IndexBusy, match="held the index's lock for the 0 s a snapshot waits"):
            snapshot.take(index_dir, tmp_path / "other", lock_wait=0.2)
        with serving(
            create_app(
                {
                    "INDEX": jisr.Index.open(index_dir, tiny_model, follow=True),
                    "API_TOKEN": TOKEN,
                    "WRITER_LOCK_WAIT": 0.2,
                }
            )
        ) as base:
            status, body = call(base, "POST", "/api/snapshots")
            assert status == 503 and body["error"] == "busy" and str(index_dir) not in body["message"], body
        undo()  # ... the build fails: its document is taken back before the lock is released
    waiting.join(HANG)
    assert done.is_set() and not (tmp_path / "other").exists()
    assert api_documents(tmp_path / "snap") == (set(), set())


def test_a_restore_from_a_copy_replaces_a_damaged_file_of_a_segment_the_index_shares(index_dir, tmp_path):
    from jisr.index import snapshot

    snapshot.take(index_dir, tmp_path / "snap")
    shutil.copytree(tmp_path / "snap", tmp_path / "copy")  # a backup of its own: no inode shared with the index
    vectors = next(index_dir.glob("segments/*/vectors.bin"))
    with open(vectors, "r+b") as f:  # the disk damages a byte in place
        first = f.read(1)
        f.seek(0)
        f.write(bytes([first[0] ^ 0xFF]))
    damaged = jisr_cli("check", "--index", str(index_dir))
    assert damaged.returncode == 1 and "vectors.bin is damaged" in damaged.stderr
    restored = jisr_cli("restore", str(tmp_path / "copy"), "--index", str(index_dir))
    assert restored.returncode == 0 and ": 1 files" in restored.stdout, restored.stderr  # that file alone
    assert os.path.samefile(vectors, tmp_path / "copy" / vectors.relative_to(index_dir))
    checked = jisr_cli("check", "--index", str(index_dir))
    assert checked.returncode == 0 and "all ok" in checked.stdout, checked.stderr
