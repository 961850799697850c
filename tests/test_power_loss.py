"""Power loss, simulated: what `jisr build` and `jisr serve` acknowledged survives losing every unsynced byte.

A SIGKILL keeps the page cache; a power cut does not. These tests run the real commands at full speed on a
FUSE mount (tests/powerloss.py) that knows what was fsynced, take crash states at seeded random moments
(what the disk would hold after a power cut then) and cut the power for real once per run, then check
each state: the index opens at a commit, `jisr check` passes, every write acknowledged before the moment
is there, whole, and after a real cut the next write succeeds. An fsync that fails (EIO) is never
acknowledged and never searched.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import HANG, ROOT, SEEDS, free_port, more_passages, spawn, wait_http, wait_until
from tests.test_documents import TOKEN, call, doc

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        os.geteuid() != 0 or not shutil.which("fusermount3") or not os.path.exists("/dev/fuse"),
        reason="the power-loss file system needs root, /dev/fuse and fusermount3 (apt fuse3)",
    ),
]

SMALL_SEGMENTS = {"JISR_SEGMENT_PASSAGES": "8", "JISR_MAX_SMALL_SEGMENTS": "2"}  # a build that seals and merges


def powerloss(tmp_path: Path):
    from tests.powerloss import PowerLoss

    return PowerLoss(tmp_path / "disk", tmp_path / "mnt")


def check_state(state: Path, present: dict[str, str] | None = None, absent: tuple[str, ...] = ()) -> int | None:
    """The checks of one crash state's index: None if it has no commit yet, else its generation, after asserting
    that it opens, verifies (what `jisr check` runs), and holds each of ``present`` (id -> a word of its text)
    whole and none of ``absent``."""
    present = present or {}
    from jisr.index import commit
    from jisr.index.stores import open_index

    index_dir = state / "index"
    if not commit.exists(index_dir):
        assert not present, f"{state}: no commit, yet {sorted(present)[:3]} were acknowledged"
        return None
    commit.readable(index_dir)
    index = open_index(index_dir)
    try:
        assert index.verify() == [], state
        for doc_id, word in present.items():
            passages = index.document(doc_id)
            assert passages and word in " ".join(p.text for p in passages), f"{state}: {doc_id} lost or partial"
        for doc_id in absent:
            assert not index.document(doc_id), f"{state}: {doc_id} deleted, yet searched"
        return index.manifest["generation"]
    finally:
        index.close()


def jisr_check(index_dir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "jisr.cli", "check", "--index", str(index_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert out.returncode == 0 and "all ok" in out.stdout, out.stderr


def take_states(
    pl,
    folder: Path,
    rng: random.Random,
    count: int,
    spread: float,
    stop: threading.Event,
    taken: list[tuple[float, Path]],
) -> threading.Thread:
    """A thread that takes up to ``count`` crash states, at random gaps of up to ``spread`` seconds, until
    ``stop``: each recorded as (the moment before it was taken, its folder)."""

    def run():
        for i in range(count):
            if stop.wait(rng.uniform(0, spread)):
                return
            dest = folder / f"state{i:02d}"
            at = time.monotonic()
            pl.image(dest)
            taken.append((at, dest))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_power_loss_during_a_build_with_merges_leaves_an_index_that_opens_and_checks(
    tmp_path, tiny_model_path, tiny_model
):
    import jisr
    from jisr.index.options import BuildOptions, SegmentPolicy

    options = BuildOptions(companion="none", segments=SegmentPolicy(8, 2))
    rng = random.Random(48)
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    more_passages(corpus, files=12)
    env = {**os.environ, **SMALL_SEGMENTS}
    build = [
        sys.executable,
        "-m",
        "jisr.cli",
        "build",
        "--corpus",
        str(corpus),
        "--model",
        str(tiny_model_path),
        "--companion",
        "none",
    ]
    with powerloss(tmp_path) as pl:
        index_dir = pl.mountpoint / "index"
        jisr.build(corpus, index_dir, tiny_model, options)
        more_passages(corpus, files=4, paragraphs=20)  # what the second build adds: sealed, merged
        (corpus / "extra0.txt").unlink()
        stop, states = threading.Event(), []
        sealed = set(os.listdir(index_dir / "segments"))
        proc = spawn([*build, "--index", str(index_dir)], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        wait_until(
            lambda: proc.poll() is not None or set(os.listdir(index_dir / "segments")) - sealed,
            "the build's first new segment",
        )  # from then on it seals, merges and commits
        taker = take_states(pl, tmp_path / "states", rng, 12, 0.3, stop, states)
        deadline = time.monotonic() + rng.uniform(0.5, 4)
        while proc.poll() is None and time.monotonic() < deadline or len(states) < 3:
            time.sleep(0.05)  # (states after the build's exit are crash points too: its commit must be in them)
        finished = proc.poll() == 0
        stop.set()
        taker.join()
        pl.crash(also=[proc.pid])
        assert len(states) >= 3, "too few crash states were taken"
        generations = [check_state(state) for _, state in states]
        assert all(g is not None and g >= 1 for g in generations), generations  # the first build's, or later
        with pl:  # remounted as the cut left it
            jisr_check(index_dir)
            generation = check_state(pl.mountpoint)
            assert generation >= (2 if finished else 1)  # a build that exited 0 acknowledged its commit
            jisr.build(corpus, index_dir, tiny_model, options)  # the next build succeeds where the cut one stopped
            jisr_check(index_dir)


def _serve(index_dir: Path, model: Path, port: int, token_file: Path) -> subprocess.Popen:
    return spawn(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "serve",
            "--index",
            str(index_dir),
            "--port",
            str(port),
            "--model",
            str(model),
            "--api-token-file",
            str(token_file),
            "--commit-interval",
            "0.2",
        ],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **SMALL_SEGMENTS, "PYTHONUNBUFFERED": "1"},
    )


class Writes:
    """API writes from a few threads (PUT, DELETE, bulk POST), each acknowledged one recorded with the moments
    it was sent and acknowledged."""

    def __init__(self, base: str, rng: random.Random, round_: int):
        self.base, self.rng, self.round = base, rng, round_
        self.acked: list[tuple[float, float, str, str | None]] = []  # (sent, 2xx, id, word or None: deleted)
        self.refused: list[tuple[float, int, dict]] = []
        self.lock = threading.Lock()

    def run(self, worker: int, stop: threading.Event) -> None:
        n, live = 0, []  # this worker's documents PUT and not deleted since
        while not stop.is_set():
            n += 1
            kind = self.rng.choice(["put", "put", "bulk", "delete"])
            key = f"{self.round}w{worker}n{n}"
            sent = time.monotonic()
            try:
                if kind == "put":
                    word = f"كلمة{key}"
                    status, body = call(self.base, "PUT", f"/api/documents/p/{key}", doc(f"نص عن {word} وحده."))
                    done = [(f"p/{key}", word)] if status in (200, 201) else []
                    live += [doc_id for doc_id, _ in done]
                elif kind == "bulk":
                    lines = [{"id": f"b/{key}/{i}", "text": f"سطر عن كلمة{key}i{i} فقط."} for i in range(5)]
                    status, body = call(
                        self.base,
                        "POST",
                        "/api/documents",
                        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode(),
                    )
                    done = [(x["id"], x["text"].split()[2]) for x in lines] if status in (200, 201) else []
                else:
                    if not live:
                        continue
                    victim = live.pop(self.rng.randrange(len(live)))
                    status, body = call(self.base, "DELETE", f"/api/documents/{victim}")
                    done = [(victim, None)] if status == 200 else []
            except (OSError, ValueError):  # the power went while this write waited: never acknowledged
                return
            at = time.monotonic()
            with self.lock:
                if done:
                    self.acked.extend((sent, at, doc_id, word) for doc_id, word in done)
                else:
                    self.refused.append((at, status, body))

    def before(self, moment: float) -> tuple[dict[str, str], tuple[str, ...]]:
        """What was acknowledged before ``moment``: (present id -> word, deleted ids); a document with a write
        sent before it and acknowledged after may be either way, and is in neither."""
        present: dict[str, str] = {}
        deleted, open_ = set(), set()
        for sent, at, doc_id, word in sorted(self.acked, key=lambda a: a[1]):
            if at >= moment:
                if sent < moment:
                    open_.add(doc_id)
                continue
            if word is None:
                present.pop(doc_id, None)
                deleted.add(doc_id)
            else:
                present[doc_id] = word
                deleted.discard(doc_id)
        return {k: v for k, v in present.items() if k not in open_}, tuple(sorted(deleted - open_))


def test_power_loss_under_api_writes_keeps_every_acknowledged_write(tmp_path, tiny_model_path, tiny_model):
    import jisr
    from jisr.index.options import BuildOptions

    rng = random.Random(4848)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with powerloss(tmp_path) as pl:
        index_dir = pl.mountpoint / "index"
        jisr.build(SEEDS, index_dir, tiny_model, BuildOptions(companion="none"))
        for cut in range(2):  # two real cuts, each after a run of writes with crash states taken
            proc = _serve(index_dir, tiny_model_path, port, token_file)
            wait_http(base + "/healthz", proc)
            writes, stop, states = Writes(base, rng, cut), threading.Event(), []
            workers = [threading.Thread(target=writes.run, args=(w, stop), daemon=True) for w in range(3)]
            for w in workers:
                w.start()
            taker = take_states(pl, tmp_path / f"states{cut}", rng, 10, 1.0, stop, states)
            wait_until(lambda w=writes, s=states: len(w.acked) >= 8 and len(s) >= 5, "eight writes, five states", proc)
            time.sleep(rng.uniform(0, 2))
            stop.set()
            taker.join()
            moment = time.monotonic()
            pl.crash(also=[proc.pid])
            for w in workers:
                w.join(HANG)
            refused = [r for r in writes.refused if r[0] < moment]  # the cut itself fails those in flight
            assert refused == [], refused[:3]
            assert len(states) >= 3
            for at, state in states:
                present, deleted = writes.before(at)
                assert check_state(state, present, deleted) is not None
            pl.mount()
            jisr_check(index_dir)
            proc = _serve(index_dir, tiny_model_path, port, token_file)
            try:
                wait_http(base + "/healthz", proc)
                present, deleted = writes.before(moment)
                assert check_state(pl.mountpoint, present, deleted) is not None
                status, body = call(base, "PUT", f"/api/documents/after{cut}", doc("نص بعد انقطاع الكهرباء."))
                assert status == 201, body  # the next write succeeds
            finally:
                proc.terminate()
                proc.wait(HANG)
            pl.unmount()
            pl.mount()


def test_crash_an_fsync_error_on_a_commit_is_never_acknowledged_nor_searched(tmp_path, tiny_model_path, tiny_model):
    import jisr
    from jisr.index.options import BuildOptions

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with powerloss(tmp_path) as pl:
        index_dir = pl.mountpoint / "index"
        jisr.build(SEEDS, index_dir, tiny_model, BuildOptions(companion="none"))
        proc = _serve(index_dir, tiny_model_path, port, token_file)
        try:
            wait_http(base + "/healthz", proc)
            before = call(base, "GET", "/healthz", token=None)[1]["generation"]
            pl.inject_eio("index/commits/*.json", op="fsync")
            status, body = call(base, "PUT", "/api/documents/unsynced", doc("نص عن كلمةضائعة فقط."))
            assert 500 <= status < 600 and body.get("message"), (status, body)
            assert "Traceback" not in json.dumps(body)
            assert pl.stats()["eio"] >= 1
            assert call(base, "GET", "/healthz", token=None)[1]["generation"] == before
            status, body = call(base, "GET", "/api/documents/unsynced")
            assert status == 404, body  # not searched: its commit was never made durable
            pl.clear_faults()
            status, body = call(base, "PUT", "/api/documents/synced", doc("نص عن كلمةباقية فقط."))
            assert status == 201, body
            committed = call(base, "GET", "/healthz", token=None)[1]["generation"]
            assert committed > before

            # the index folder's sync after the swap fails (its first sync, of the stored document, passes):
            # CURRENT is put back, and the commit it named a moment is kept until then, never left dangling
            pl.inject_eio("index", op="fsync", after=1)
            status, body = call(base, "PUT", "/api/documents/unswapped", doc("نص عن كلمةمعلقة فقط."))
            assert 500 <= status < 600 and body.get("message"), (status, body)
            pl.clear_faults()
            assert call(base, "GET", "/api/documents/unswapped")[0] == 404
            assert call(base, "GET", "/healthz", token=None)[1]["generation"] == committed
            jisr_check(index_dir)
            status, body = call(base, "PUT", "/api/documents/last", doc("نص أخير عن كلمةأخيرة فقط."))
            assert status == 201, body
            assert call(base, "GET", "/api/documents/synced")[0] == 200
        finally:
            proc.terminate()
            proc.wait(HANG)
