"""Query latency over HTTP, quiet and beside a CPU-bound neighbour, against plain sentence-transformers.

Starts `jisr serve` on 127.0.0.1 over an index of seeds/ (or uses --url), sends English and Arabic
queries one at a time, and takes p50/p99 in rounds that take turns: quiet, then beside a process
that encodes in a loop (benchmarks/contention.py, what `jisr build` does), and so on. In the same
rounds, this process times plain sentence-transformers encoding the same queries (`encode_query`,
torch's default threads): the baseline every figure is a ratio to. Writes
benchmarks/results/http_latency.md. Usage:
    python -m benchmarks.http_latency [--url URL] [--n 200] [--rounds 2] [--xquad ../shared/data/xquad]
        [--out FILE [--quick]]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks.contention import ROOT, STATES, cpu, state
from benchmarks.load import seed_server, wait_ready
from benchmarks.quick import RESULTS, parse

QUERIES = [
    "Which French aircraft carrier sailed east?",
    "phone call between the presidents",
    "مباحثات هاتفية بين بوتين والرئيس الفرنسي",
    "صواريخ كروز على حلب",
    "Hollande trip to Washington",
    "strategic bombers",
    "وزير الدفاع الروسي",
    "Kremlin meeting",
]


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def over_http(url: str, n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        q = urllib.parse.quote(QUERIES[i % len(QUERIES)])
        t = time.perf_counter()
        with urllib.request.urlopen(f"{url}/api/search?q={q}&k=10", timeout=30) as r:
            r.read()
        times.append((time.perf_counter() - t) * 1000)
    return percentiles(times)


def plain(model, n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        t = time.perf_counter()
        model.encode_query([QUERIES[i % len(QUERIES)]])
        times.append((time.perf_counter() - t) * 1000)
    return percentiles(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="a running jisr serve (default: start one over seeds/)")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--xquad",
        default=str(ROOT.parent / "shared" / "data" / "xquad"),
        help="folder with xquad.ar.json, for the neighbour's encoder loop",
    )
    args = parse(ap, RESULTS / "http_latency.md", n=3, rounds=1)

    from benchmarks.encode_speed import Run
    from jisr.embeddings import load_model

    baseline = load_model()  # the default model, run as sentence-transformers runs it: plain Linear, float32
    Run("baseline", "", "float32", prepacked=False, by_tokens=False, runtime="torch").configure(baseline)
    got: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            url, server = stack.enter_context(seed_server(Path(tempfile.mkdtemp(prefix="jisr-http-"))))
            wait_ready(url, server)
        over_http(url, 10)
        plain(baseline, 10)
        for _ in range(args.rounds):
            for name in STATES:
                with state(name, args.xquad):
                    got.setdefault(("jisr serve, HTTP", name), []).append(over_http(url, args.n))
                    got.setdefault(("plain sentence-transformers encode_query", name), []).append(
                        plain(baseline, args.n)
                    )
                print(name, {k[0]: v[-1] for k, v in got.items() if k[1] == name}, flush=True)

    def p50(what: str, name: str) -> float:
        return statistics.median(p for p, _ in got[what, name])

    base = p50("plain sentence-transformers encode_query", "quiet")
    lines = [
        "# Query latency over HTTP, quiet and beside a CPU-bound neighbour",
        "",
        "Written by `python -m benchmarks.http_latency`; do not edit by hand.",
        f"CPU: {cpu()}.",
        f"{args.n} queries a round ({len(QUERIES)} English and Arabic, one at a time), {args.rounds} rounds per "
        "state taking turns; p50 is the median of the rounds' p50s. Contended: beside a process encoding XQuAD "
        "paragraphs in a loop with torch's default threads (what `jisr build` does). Ratios are to plain "
        "sentence-transformers' quiet p50 in this run (the query's encoding alone, in this process).",
        "",
        "| what | quiet p50 / p99 ms (each round) | contended p50 / p99 ms (each round) | quiet p50 / baseline "
        "| contended p50 / baseline | contended / quiet |",
        "|---|---|---|---|---|---|",
    ]
    for what in dict.fromkeys(k[0] for k in got):
        quiet, busy = p50(what, "quiet"), p50(what, "contended")
        each = {name: ", ".join(f"{a:.1f} / {b:.1f}" for a, b in got[what, name]) for name in STATES}
        lines.append(
            f"| {what} | {each['quiet']} | {each['contended']} | {quiet / base:.2f}x | {busy / base:.2f}x "
            f"| {busy / quiet:.2f}x |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
