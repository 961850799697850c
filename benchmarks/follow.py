"""How soon a serving index searches a build's commit, and what following costs, from 10k to 100k passages.

Per size: a corpus as benchmarks/scale.py writes it (real Arabic sentences recombined, the STAND-IN
encoder), built; then an index opened as `jisr serve` opens it (following its commits) answers hybrid
queries without pause on one thread while, ``--rounds`` times, one file is added (or the last one
added is removed) and the folder rebuilt by another process, as `jisr build` would. It prints and
writes (benchmarks/results/follow/follow.{md,json}):
- the delay from the build's commit (CURRENT replaced) to the first query answered from it;
- query p50/p99 with nothing else running, and while the builds run (a ratio, same process);
- failed queries (must be 0), resident memory before and after the rounds, and files of removed
  segments still held open once the rounds are over (must be 0).
Usage:
    python -m benchmarks.follow [--sizes 10000 100000] [--rounds 6] [--work /tmp/jisr-scale] [--out DIR [--quick]]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.contention import cpu
from benchmarks.quick import RESULTS, parse
from benchmarks.scale import BUILD, PARAGRAPHS_PER_DOC, STAND_IN, child, questions, sentences, write_corpus

_encoder: dict = {}
exec(STAND_IN, _encoder)  # the stand-in's query vectors: the same as the build's passage vectors


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def deleted_files_open() -> int:
    """Files this process holds open that have been removed (a replaced segment not yet released)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").endswith(" (deleted)")
        except OSError:
            pass
    return count


def measure(size: int, rounds: int, work: Path, pool: list[str], queries: list[str]) -> dict:
    from jisr.answers.following import Following
    from jisr.answers.searcher import Searcher
    from jisr.index import commit
    from jisr.index.local import store

    corpus, index_dir = work / f"corpus-{size}", work / f"follow-index-{size}"
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.rmtree(corpus / "extra", ignore_errors=True)
    if not corpus.exists():
        write_corpus(corpus, size, pool)
    built = child(BUILD, str(corpus), str(index_dir))
    vectors = _encoder["stand_in"](queries)
    gen = commit.generation(index_dir)
    following = Following(Searcher(store.load(index_dir), None, warm=True), gen)
    following.current.warmup.wait()

    answered: list[tuple[float, float, int]] = []  # (when, ms, generation)
    failures: list[str] = []
    stop = threading.Event()

    def ask() -> None:
        i = 0
        while not stop.is_set():
            q, v = queries[i % len(queries)], vectors[i % len(vectors)]
            i += 1
            t = time.perf_counter()
            try:
                with following.lease() as searcher:
                    searcher.rank(q, "hybrid", lang="any", vector=v)
                    g = int(searcher.index.manifest["generation"])
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))
                continue
            answered.append((time.time(), (time.perf_counter() - t) * 1000, g))

    before_mb = rss_mb()
    asker = threading.Thread(target=ask)
    asker.start()
    time.sleep(5)  # quiet
    quiet = [ms for _, ms, _ in answered]
    delays, build_seconds, busy_from = [], [], len(answered)
    extra = corpus / "extra"
    for r in range(rounds):
        if r % 2 == 0:
            write_corpus(extra, PARAGRAPHS_PER_DOC, pool, seed=size + r)
        else:
            shutil.rmtree(extra)
        started = time.perf_counter()
        child(BUILD, str(corpus), str(index_dir))
        build_seconds.append(time.perf_counter() - started)
        new_gen = commit.generation(index_dir)
        committed_at = (index_dir / commit.CURRENT).stat().st_mtime
        deadline = time.time() + 60
        while time.time() < deadline and not any(g == new_gen for _, _, g in answered[-50:]):
            time.sleep(0.01)
        first = min((when for when, _, g in answered if g == new_gen), default=None)
        delays.append(None if first is None else first - committed_at)
    busy = [ms for _, ms, _ in answered[busy_from:]]
    stop.set()
    asker.join()
    shutil.rmtree(extra, ignore_errors=True)
    after_mb = rss_mb()
    following.close()
    held = deleted_files_open()
    done = [d for d in delays if d is not None]
    return {
        "size": built["passages"],
        "segments": built["segments"],
        "rounds": rounds,
        "swap_delay_s": {
            "max": max(done) if done else None,
            "median": float(np.median(done)) if done else None,
            "missed": len(delays) - len(done),
        },
        "build_s": float(np.median(build_seconds)),
        "quiet": {"p50": float(np.percentile(quiet, 50)), "p99": float(np.percentile(quiet, 99)), "n": len(quiet)},
        "during_builds": {"p50": float(np.percentile(busy, 50)), "p99": float(np.percentile(busy, 99)), "n": len(busy)},
        "failed_queries": len(failures),
        "swaps": following.swaps,
        "rss_mb": [before_mb, after_mb],
        "removed_files_still_open": held,
    }


def markdown(rows: list[dict], environment: str) -> str:
    lines = [
        "# Following commits while serving (benchmarks/follow.py)",
        "",
        environment,
        "",
        "A build in another process adds or removes one 10-passage file per round; one thread queries "
        "(hybrid, the stand-in's query vectors) without pause.",
        "",
        "| passages | segments | swaps | commit -> searched, median / max | build | query p50 / p99 quiet | "
        "during builds | ratio p50 | failed | RSS before -> after | removed files held |",
        "|" + "---|" * 11,
    ]
    for r in rows:
        d = r["swap_delay_s"]
        delay = "missed" if d["median"] is None else f"{d['median'] * 1000:.0f} / {d['max'] * 1000:.0f} ms"
        lines.append(
            f"| {r['size']:,} | {r['segments']} | {r['swaps']} | "
            f"{delay}{' (' + str(d['missed']) + ' missed)' if d['missed'] else ''} | "
            f"{r['build_s']:.1f} s | {r['quiet']['p50']:.1f} / {r['quiet']['p99']:.1f} ms | "
            f"{r['during_builds']['p50']:.1f} / {r['during_builds']['p99']:.1f} ms | "
            f"{r['during_builds']['p50'] / r['quiet']['p50']:.2f}x | {r['failed_queries']} | "
            f"{r['rss_mb'][0]:.0f} -> {r['rss_mb'][1]:.0f} MB | {r['removed_files_still_open']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--work", type=Path, default=Path("/tmp/jisr-scale"))
    args = parse(parser, RESULTS / "follow", sizes=[500], rounds=2)
    args.work.mkdir(parents=True, exist_ok=True)
    pool, queries = sentences(), questions()[:300]
    environment = f"CPU: {cpu()}"
    rows = []
    for size in args.sizes:
        print(f"{size} passages", flush=True)
        rows.append(measure(size, args.rounds, args.work, pool, queries))
        print(json.dumps(rows[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "follow.json").write_text(json.dumps({"environment": environment, "rows": rows}, indent=1))
    table = markdown(rows, environment)
    (args.out / "follow.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
