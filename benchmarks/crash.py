"""Power loss at random moments: acknowledged writes lost and commits unopenable (both must be 0), by phase.

Runs the real commands on the power-loss file system of tests/powerloss.py (a FUSE mount that keeps what
was fsynced; root and apt fuse3 needed) and, at seeded random moments, takes the crash state: what the
disk would hold after a power cut then. Phases:
- build: `jisr build` of a fresh corpus into small segments (sealing);
- merge: a second `jisr build` after files are added, segments small enough that it merges;
- API commit: `jisr serve` under PUT, DELETE and bulk POST from three clients;
- watch: `jisr serve --watch` while files are added to the corpus folder (a file counts as acknowledged
  once a search finds it).
Each state is opened as a restart would (the commit read, every file verified as `jisr check` does) and
searched for every write acknowledged before its moment; deleted ones must be gone. Each phase ends with a
real cut (the processes killed, the mount rolled back) and a restart that must take the next write. It
writes benchmarks/results/crash.md. Usage:
    python -m benchmarks.crash [--points 200] [--seed 48] [--model PATH] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, model_argument, parse
from tests.conftest import free_port, more_passages, wait_http
from tests.powerloss import PowerLoss
from tests.test_documents import TOKEN, call
from tests.test_power_loss import Writes

ROOT = Path(__file__).resolve().parents[1]

SMALL_SEGMENTS = {"JISR_SEGMENT_PASSAGES": "8", "JISR_MAX_SMALL_SEGMENTS": "2"}


def verify(state: Path, present: dict[str, str], absent: tuple[str, ...]) -> dict:
    """One crash state's index: whether it opens (None: no commit yet, before the first), seconds to open and
    verify it, and how many acknowledged writes it lost (missing or partial, or deleted yet there)."""
    from jisr.index import commit
    from jisr.index.stores import open_index

    index_dir = state / "index"
    if not commit.exists(index_dir):
        return {"opens": None, "seconds": 0.0, "lost": len(present)}
    started = time.perf_counter()
    try:
        commit.readable(index_dir)
        index = open_index(index_dir)
    except Exception as exc:  # noqa: BLE001 - counted: an unopenable commit
        return {"opens": False, "seconds": time.perf_counter() - started, "lost": len(present), "why": repr(exc)}
    try:
        problems = index.verify()
        seconds = time.perf_counter() - started
        lost = sum(
            1 for doc_id, word in present.items() if word not in " ".join(p.text for p in index.document(doc_id))
        )
        lost += sum(1 for doc_id in absent if index.document(doc_id))
    finally:
        index.close()
    return {"opens": not problems, "seconds": seconds, "lost": lost, **({"why": problems[:2]} if problems else {})}


class States:
    """Crash states taken at random gaps by a thread while a phase runs."""

    def __init__(self, pl: PowerLoss, folder: Path, rng: random.Random, spread: float):
        self.pl, self.folder, self.rng, self.spread = pl, folder, rng, spread
        self.taken: list[tuple[float, Path]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(self.rng.uniform(0, self.spread)):
            dest = self.folder / f"state{len(self.taken):04d}"
            at = time.monotonic()
            self.pl.image(dest)
            self.taken.append((at, dest))

    def end(self) -> list[tuple[float, Path]]:
        self.stop.set()
        self.thread.join()
        return self.taken


def serve(index_dir: Path, model: str, port: int, token_file: Path, *more: str) -> subprocess.Popen:
    return subprocess.Popen(
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
            model,
            "--api-token-file",
            str(token_file),
            "--commit-interval",
            "0.2",
            *more,
        ],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **SMALL_SEGMENTS},
    )


def phase_build(pl: PowerLoss, work: Path, model: str, rng: random.Random, points: int, merge: bool) -> dict:
    corpus = work / ("corpus-merge" if merge else "corpus-build")
    index_dir = pl.mountpoint / ("index-merge" if merge else "index-build")
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(ROOT / "seeds", corpus)
    more_passages(corpus, files=12)
    build = [
        sys.executable,
        "-m",
        "jisr.cli",
        "build",
        "--corpus",
        str(corpus),
        "--model",
        model,
        "--companion",
        "none",
        "--index",
        str(index_dir),
    ]
    env = {**os.environ, **SMALL_SEGMENTS}
    if merge:
        subprocess.run(build, cwd=ROOT, env=env, check=True, capture_output=True)
        more_passages(corpus, files=6, paragraphs=20)
    rows, built = [], time.monotonic() if merge else None  # when a build was first acknowledged (exit 0)
    while len(rows) < points:
        if not merge:  # each run a fresh build into a new folder
            index_dir = pl.mountpoint / f"index-build-{len(rows)}"
            build[-1] = str(index_dir)
            built = None
        states = States(pl, work / f"states-{'merge' if merge else 'build'}-{len(rows)}", rng, 0.4)
        proc = subprocess.Popen(build, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.wait()
        if proc.returncode == 0 and built is None:
            built = time.monotonic()
        taken = states.end()
        for at, state in taken:
            if (state / index_dir.name).exists():
                (state / index_dir.name).rename(state / "index")
            result = verify(state, {}, ())
            if result["opens"] is None and built is not None and at > built:
                result["lost"] = 1  # a build acknowledged (exited 0), yet no commit after the cut
            rows.append(result)
            shutil.rmtree(state)
        if merge:
            (corpus / f"extra{len(rows) % 6}.txt").write_text(f"نص جديد رقم {len(rows)}", encoding="utf-8")
    return {"phase": "merge" if merge else "build", "rows": rows[:points]}


def phase_api(pl: PowerLoss, work: Path, model: str, rng: random.Random, points: int, watch: bool) -> dict:
    import jisr
    from jisr.embeddings import load_model
    from jisr.index.options import BuildOptions

    name = "watch" if watch else "api"
    corpus = work / f"corpus-{name}"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(ROOT / "seeds", corpus)
    index_dir = pl.mountpoint / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    jisr.build(corpus, index_dir, load_model(model), BuildOptions(companion="none"))
    token_file = work / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(index_dir, model, port, token_file, *(["--watch"] if watch else []))
    wait_http(base + "/healthz", proc)
    writes, stop = Writes(base, rng, 0), threading.Event()
    if watch:
        workers = [threading.Thread(target=watch_files, args=(base, corpus, writes, stop), daemon=True)]
    else:
        workers = [threading.Thread(target=writes.run, args=(w, stop), daemon=True) for w in range(3)]
    for w in workers:
        w.start()
    states = States(pl, work / f"states-{name}", rng, 0.3)
    while len(states.taken) < points and proc.poll() is None:
        time.sleep(0.2)
    taken = states.end()
    stop.set()
    moment = time.monotonic()
    started = time.perf_counter()
    pl.crash(also=[proc.pid])
    for w in workers:
        w.join(60)
    rows = []
    for at, state in taken:
        rows.append(verify(state, *writes.before(at)))
        shutil.rmtree(state)
    pl.mount()
    proc = serve(index_dir, model, port, token_file)
    try:
        wait_http(base + "/healthz", proc)
        reopen = time.perf_counter() - started
        after = verify(pl.mountpoint, *writes.before(moment))
        status, _ = call(base, "PUT", "/api/documents/after-the-cut", {"title": "t", "text": "نص بعد الانقطاع."})
    finally:
        proc.terminate()
        proc.wait(60)
    after["lost"] += 0 if status == 201 else 1
    return {
        "phase": "API commit" if not watch else "watch",
        "rows": rows + [after],
        "restart": reopen,
        "acknowledged": len(writes.acked),
    }


def watch_files(base: str, corpus: Path, writes: Writes, stop: threading.Event) -> None:
    """Add files to the watched corpus one after another; each counts as acknowledged once a search finds it."""
    n = 0
    while not stop.is_set():
        n += 1
        word = f"ملفجديد{n}"
        sent = time.monotonic()
        (corpus / "news").mkdir(exist_ok=True)
        (corpus / "news" / f"f{n}.txt").write_text(f"خبر\nتقرير عن {word} فقط.", encoding="utf-8")
        deadline = sent + 30
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                status, body = call(
                    base,
                    "GET",
                    "/api/search?" + urllib.parse.urlencode({"q": word, "mode": "lexical", "k": 3}),
                    token=None,
                )
            except (OSError, ValueError):
                return
            if status == 200 and any(r["doc_id"] == f"news/f{n}.txt" for r in body["results"]):
                with writes.lock:
                    writes.acked.append((sent, time.monotonic(), f"news/f{n}.txt", word))
                break
            time.sleep(0.1)


def markdown(phases: list[dict], environment: str, seed: int, seconds: float, model: str) -> str:
    lines = [
        "# Power loss at random moments",
        "",
        f"Crash states taken at seeded random moments (seed {seed}) on the power-loss file system of "
        "tests/powerloss.py, each opened and checked as a restart would; each API phase ends with a real cut "
        "and a restart. Model: "
        f"{model} (a small one: what is measured is the commit protocol, not the encoder). "
        f"`python -m benchmarks.crash`; {environment}; {seconds:.0f} s in all.",
        "",
        "| phase | crash points | before the first commit | acknowledged writes lost | commits unopenable "
        "| reopen p50 ms | reopen max ms | restart after the real cut s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in phases:
        rows = p["rows"]
        opened = [r["seconds"] * 1000 for r in rows if r["opens"]]
        restart = f"{p['restart']:.1f}" if "restart" in p else "-"
        lines.append(
            f"| {p['phase']} | {len(rows)} | {sum(r['opens'] is None for r in rows)} "
            f"| {sum(r['lost'] for r in rows)} | {sum(r['opens'] is False for r in rows)} "
            f"| {statistics.median(opened) if opened else 0:.0f} | {max(opened, default=0):.0f} | {restart} |"
        )
    why = sorted({str(r.get("why")) for p in phases for r in p["rows"] if r.get("why")})
    if why:
        lines += ["", "Unopenable: " + "; ".join(why[:5])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200, help="crash points in all, shared by the four phases")
    parser.add_argument("--seed", type=int, default=48)
    model_argument(parser)
    args = parse(parser, RESULTS / "crash.md", points=8)
    if not args.model:
        parser.error("give --model: a small sentence-transformers folder keeps 200 crash points to minutes")
    rng = random.Random(args.seed)
    share = max(2, args.points // 4)
    started = time.perf_counter()
    phases = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with PowerLoss(work / "disk", work / "mnt") as pl:
            for run in (
                lambda: phase_build(pl, work, args.model, rng, share, merge=False),
                lambda: phase_build(pl, work, args.model, rng, share, merge=True),
                lambda: phase_api(pl, work, args.model, rng, share, watch=False),
                lambda: phase_api(pl, work, args.model, rng, share, watch=True),
            ):
                phases.append(run())
                print(json.dumps({k: v for k, v in phases[-1].items() if k != "rows"}), flush=True)
    environment = f"CPU: {cpu()}; {os.cpu_count()} cores"
    table = markdown(phases, environment, args.seed, time.perf_counter() - started, args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
