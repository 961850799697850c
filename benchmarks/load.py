"""`jisr serve` under load: 1, 4 and 16 locust clients for 60 s each, then 16 again for memory growth.

Starts `jisr serve` on a seeds index (built into a temporary folder) on 127.0.0.1, drives it with
benchmarks/locustfile.py (mixed valid and invalid, English and Arabic, 1 in 11 requests a 999-character
query), and reports per level: requests/s, p50/p99 per kind, 2xx/4xx/503/other 5xx/unanswered counts,
the 503 share of valid searches, and the server's RSS. With --busy, one more 16-client run has a
CPU-bound process (an encoder loop, what `jisr build` does) beside the server. Checks the targets of
the reliability issue and writes benchmarks/results/load.{md,json}. Usage:
    pip install -e '.[bench]'
    python -m benchmarks.load [--seconds 60] [--levels 1 4 16] [--busy --xquad ../shared/data/xquad]
        [--out STEM [--quick]]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.contention import ROOT, busy, cpu
from benchmarks.quick import RESULTS, parse

KINDS = ("valid en", "valid ar", "valid long", "invalid")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float | None:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None


def run_locust(url: str, users: int, seconds: int, work: Path) -> list[tuple[str, int, float]]:
    samples = work / f"samples-{users}-{time.monotonic_ns()}.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "benchmarks" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--host",
            url,
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "70",
        ],
        env={**os.environ, "JISR_LOAD_SAMPLES": str(samples)},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=(work / "locust.log").open("a"),
    )
    return [tuple(s) for s in json.loads(samples.read_text())]


def summarize(samples, seconds: float, wait_s: float) -> dict:
    row = {"requests": len(samples), "requests_per_s": round(len(samples) / seconds, 1)}
    for kind in KINDS:
        got = [s for s in samples if s[0] == kind]
        answered = [t for _, status, t in got if status == 200 or 400 <= status < 500]
        row[kind] = {"n": len(got), "p50_ms": pct(answered, 0.5), "p99_ms": pct(answered, 0.99)}
    statuses = [s[1] for s in samples]
    valid = [s for s in samples if s[0] != "invalid"]
    refused = [t for _, status, t in valid if status == 503]
    row.update(
        {
            "2xx": sum(200 <= s < 300 for s in statuses),
            "4xx": sum(400 <= s < 500 for s in statuses),
            "503": sum(s == 503 for s in statuses),
            "other_5xx": sum(s >= 500 and s != 503 for s in statuses),
            "unanswered": sum(s == 0 for s in statuses),
            "share_503": round(len(refused) / len(valid), 3) if valid else 0.0,
            "p99_503_ms": pct(refused, 0.99),
            "invalid_answered_not_400": sum(1 for k, s, _ in samples if k == "invalid" and s != 400 and s != 413),
            "valid_200_max_ms": round(max((t for k, s, t in valid if s == 200), default=0.0), 1),
        }
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--busy", action="store_true", help="one more run at the top level beside a CPU-bound process")
    ap.add_argument(
        "--xquad",
        default=str(ROOT.parent / "shared" / "data" / "xquad"),
        help="folder with xquad.ar.json, for --busy's encoder loop",
    )
    args = parse(ap, RESULTS / "load", seconds=3, levels=[2])

    work = Path(tempfile.mkdtemp(prefix="jisr-load-"))
    with seed_server(work) as (url, server):
        health = wait_ready(url, server)
        wait_s = health["queue"]["wait_s"]
        rows, rss = [], [rss_mb(server.pid)]
        plan = [(users, "quiet") for users in args.levels] + [(args.levels[-1], "quiet, again (memory growth)")]
        if args.busy:
            plan.append((args.levels[-1], "beside a CPU-bound encoder loop"))
        for users, note in plan:
            with busy(args.xquad, settle=0) if note.startswith("beside") else contextlib.nullcontext():
                started = time.monotonic()
                samples = run_locust(url, users, args.seconds, work)
                elapsed = time.monotonic() - started
            rss.append(rss_mb(server.pid))
            row = {
                "clients": users,
                "run": note,
                **summarize(samples, min(elapsed, args.seconds), wait_s),
                "rss_mb": round(rss[-1], 1),
            }
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    report(rows, rss, health, args)


@contextlib.contextmanager
def seed_server(work: Path):
    """`jisr serve` on 127.0.0.1 over an index of seeds/ built into ``work``: (url, process); stopped after."""
    index = work / "index"
    subprocess.run(
        [sys.executable, "-m", "jisr.cli", "build", "--corpus", str(ROOT / "seeds"), "--index", str(index)],
        cwd=ROOT,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jisr.cli", "serve", "--index", str(index), "--port", str(port)],
        cwd=ROOT,
        stderr=(work / "server.log").open("w"),
    )
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.wait(30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen) -> dict:
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"jisr serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            time.sleep(0.5)
    raise SystemExit("jisr serve did not become ready in 300 s")


def report(rows: list[dict], rss: list[float], health: dict, args) -> None:
    top = [r for r in rows if r["clients"] == args.levels[-1]]
    growth = (rss[len(args.levels) + 1] - rss[len(args.levels)]) / rss[len(args.levels)]
    targets = {
        "no 5xx other than 503, at every level": all(r["other_5xx"] == 0 for r in rows),
        "no unanswered request, at every level": all(r["unanswered"] == 0 for r in rows),
        f"invalid p99 <= 50 ms with {args.levels[-1]} clients": all((r["invalid"]["p99_ms"] or 0) <= 50 for r in top),
        "503s within the queue wait": all(
            (r["p99_503_ms"] or 0) <= 1000 * health["queue"]["wait_s"] + 250 for r in rows
        ),
        "RSS growth over the second top-level run <= 5%": growth <= 0.05,
    }
    lines = [
        f"# `jisr serve` under load ({time.strftime('%Y-%m-%d')})",
        "",
        f"CPU: {cpu()}; {os.cpu_count()} cores as the OS reports them.",
        "",
        f"`python -m benchmarks.load --seconds {args.seconds} --levels {' '.join(map(str, args.levels))}"
        f"{' --busy' if args.busy else ''}`: seeds index ({health['passages']} passages), queue "
        f"{json.dumps(health['queue'])}; closed-loop locust clients, each sending its next request when "
        "answered: 4/11 English, 4/11 Arabic, 1/11 a 999-character query, 2/11 invalid.",
        "",
        "| clients | run | req/s | en p50/p99 ms | ar p50/p99 | long p50/p99 | invalid p50/p99 | 2xx | 4xx | 503 "
        "| other 5xx | unanswered | 503 share of valid | 503 p99 ms | RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        k = {
            kind: f"{r[kind]['p50_ms']}/{r[kind]['p99_ms']}"
            for kind in ("valid en", "valid ar", "valid long", "invalid")
        }
        lines.append(
            f"| {r['clients']} | {r['run']} | {r['requests_per_s']} | {k['valid en']} | {k['valid ar']} | "
            f"{k['valid long']} | {k['invalid']} | {r['2xx']} | {r['4xx']} | {r['503']} | {r['other_5xx']} | "
            f"{r['unanswered']} | {r['share_503']:.1%} | {r['p99_503_ms']} | {r['rss_mb']} |"
        )
    lines += [
        "",
        f"RSS: {rss[0]:.1f} MB when ready; growth over the second top-level run: {growth:+.2%}.",
        "",
        "Targets:",
        "",
    ] + [f"- {'met' if ok else 'NOT met'}: {name}" for name, ok in targets.items()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(
        json.dumps({"cpu": cpu(), "rows": rows, "rss_mb": rss, "targets": targets}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
