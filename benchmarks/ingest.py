"""Documents through the API while it serves: documents/s and texts/s, and what the load costs searches.

Starts `jisr serve` over an index of seeds/ (the default model and companion, as a user gets them)
with the document API on, and in one run per writer priority:
- query p50/p99 over HTTP with nothing else running (one client, each question asked once: the
  result cache never answers);
- the same during a bulk load: XQuAD's 240 Arabic paragraphs POSTed as JSONL, ``--batch`` documents a
  request, one request after another, as a feeding program sends them; documents/s and texts/s
  (passages and sentences the server embedded, from /metrics) over the load's wall time;
- a repeated query's server time (``took_ms``), from the result cache.
The writer's niceness is the shipped 10 and, as the baseline, 0 (JISR_WRITER_NICE): the ratio of the
load's p50 to quiet p50 is the figure. Writes benchmarks/results/ingest.md. Usage:
    python -m benchmarks.ingest [--docs 240] [--batch 10] [--queries 400] [--xquad ../shared/data/xquad]
        [--model PATH] [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks.contention import ROOT, cpu
from benchmarks.load import free_port, wait_ready
from benchmarks.quick import RESULTS, model_argument, parse

TOKEN = "benchmark-token-" + "x" * 24


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {"p50": statistics.median(times), "p99": times[int(0.99 * (len(times) - 1))], "n": len(times)}


def ask(url: str, question: str) -> tuple[float, dict]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"{url}/api/search?q={urllib.parse.quote(question)}&k=10", timeout=120) as r:
        body = json.loads(r.read())
    return (time.perf_counter() - started) * 1000, body


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def post(url: str, lines: list[str]) -> dict:
    req = urllib.request.Request(
        url + "/api/documents",
        data="\n".join(lines).encode("utf-8"),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def run(
    index: Path, nice: int, model: str | None, docs: list[str], questions: list[str], batch: int, work: Path
) -> dict:
    token = work / "token"
    token.write_text(TOKEN)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jisr.cli",
            "serve",
            "--index",
            str(index),
            "--port",
            str(port),
            "--api-token-file",
            str(token),
            *(["--model", model] if model else []),
        ],
        cwd=ROOT,
        stderr=(work / f"server-{nice}.log").open("w"),
        env={**os.environ, "JISR_WRITER_NICE": str(nice)},
    )
    try:
        wait_ready(url, server)
        half = len(questions) // 2
        ask(url, "warm-up")
        quiet = percentiles([ask(url, q)[0] for q in questions[:half]])
        embedded_before = metric(url, "jisr_texts_embedded_total")

        lines = [
            json.dumps({"id": f"xquad/{i}", "title": f"XQuAD {i}", "text": text}, ensure_ascii=False)
            for i, text in enumerate(docs)
        ]
        loaded, errors = [], []

        def load() -> None:
            for start in range(0, len(lines), batch):
                answer = post(url, lines[start : start + batch])
                loaded.append(answer["loaded"])
                errors.extend(answer["errors"])

        loader = threading.Thread(target=load)
        started = time.perf_counter()
        loader.start()
        during, i, hits = [], 0, 0
        while loader.is_alive():  # questions in turn: one asked again within a commit is a cache hit, left out
            ms, body = ask(url, questions[half + i % (len(questions) - half)])
            i += 1
            if body.get("cached"):
                hits += 1
            else:
                during.append(ms)
        loader.join()
        wall = time.perf_counter() - started
        embedded = metric(url, "jisr_texts_embedded_total") - embedded_before
        repeated = [ask(url, questions[0])[1] for _ in range(30)]
        cached = [r["took_ms"] for r in repeated if r.get("cached")]
        return {
            "nice": nice,
            "documents": sum(loaded),
            "errors": len(errors),
            "load_s": wall,
            "documents_per_s": sum(loaded) / wall,
            "texts_per_s": embedded / wall,
            "texts": embedded,
            "commits": metric(url, "jisr_commits_total"),
            "quiet": quiet,
            "during_load": percentiles(during),
            "cache_hits_left_out": hits,
            "repeated_server_ms": statistics.median(cached) if cached else None,
            "repeated_cached": len(cached),
        }
    finally:
        server.terminate()
        server.wait(60)


def markdown(rows: list[dict], environment: str, docs: int, batch: int) -> str:
    lines = [
        "# Documents through the API while it serves (benchmarks/ingest.py)",
        "",
        environment,
        "",
        f"{docs} XQuAD Arabic paragraphs POSTed as JSONL, {batch} a request, one request after another, "
        "while one client searches without pause (questions in turn; an answer from the result cache "
        "is left out). Commits every 1 s "
        "(the default). Latency over HTTP on 127.0.0.1.",
        "",
        "| writer nice | documents/s | texts/s | commits | query p50 / p99 quiet ms | during the load ms | "
        "ratio p50 | repeated query, server ms | failed lines |",
        "|" + "---|" * 9,
    ]
    for r in rows:
        repeated = f"{r['repeated_server_ms']:.3f}" if r["repeated_server_ms"] is not None else "not cached"
        lines.append(
            f"| {r['nice']} | {r['documents_per_s']:.2f} | {r['texts_per_s']:.1f} | {r['commits']:.0f} | "
            f"{r['quiet']['p50']:.1f} / {r['quiet']['p99']:.1f} | "
            f"{r['during_load']['p50']:.1f} / {r['during_load']['p99']:.1f} | "
            f"{r['during_load']['p50'] / r['quiet']['p50']:.2f}x | {repeated} | {r['errors']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--nice", type=int, nargs="+", default=[10, 0])
    parser.add_argument("--xquad", type=Path, default=ROOT.parent / "shared" / "data" / "xquad")
    model_argument(parser)
    args = parse(parser, RESULTS / "ingest.md", docs=6, batch=3, queries=10, nice=[10])
    ar = json.loads((args.xquad / "xquad.ar.json").read_text(encoding="utf-8"))
    en = json.loads((args.xquad / "xquad.en.json").read_text(encoding="utf-8"))
    docs = [p["context"] for a in ar["data"] for p in a["paragraphs"]][: args.docs]
    questions = [q["question"] for a in en["data"] for p in a["paragraphs"] for q in p["qas"]][: args.queries]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        built = work / "seed-index"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jisr.cli",
                "build",
                "--corpus",
                str(ROOT / "seeds"),
                "--index",
                str(built),
                *(["--model", args.model, "--companion", "none"] if args.model else []),
            ],
            cwd=ROOT,
            check=True,
            stderr=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        rows = []
        for nice in args.nice:
            index = work / f"index-{nice}"
            shutil.copytree(built, index)
            rows.append(run(index, nice, args.model, docs, questions, args.batch, work))
            print(json.dumps(rows[-1]), flush=True)
    environment = f"CPU: {cpu()}; {os.cpu_count()} cores"
    table = markdown(rows, environment, len(docs), args.batch)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps({"environment": environment, "rows": rows}, indent=1))
    print(table)


if __name__ == "__main__":
    main()
