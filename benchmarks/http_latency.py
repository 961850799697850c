"""Query latency over HTTP against a running `jisr serve` (default http://127.0.0.1:8000).

Sends a bounded number of English and Arabic queries one at a time and prints p50/p90/p99.
    python benchmarks/http_latency.py [--url URL] [--n 200]
"""
from __future__ import annotations

import argparse
import statistics
import time
import urllib.parse
import urllib.request

QUERIES = ["Which French aircraft carrier sailed east?", "phone call between the presidents",
           "مباحثات هاتفية بين بوتين والرئيس الفرنسي", "صواريخ كروز على حلب", "Hollande trip to Washington",
           "strategic bombers", "وزير الدفاع الروسي", "Kremlin meeting"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    times = []
    for i in range(args.n):
        q = urllib.parse.quote(QUERIES[i % len(QUERIES)])
        t = time.perf_counter()
        with urllib.request.urlopen(f"{args.url}/api/search?q={q}&k=10", timeout=30) as r:
            r.read()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    pick = lambda f: times[int(f * (len(times) - 1))]
    print(f"{args.n} queries over HTTP: p50 {statistics.median(times):.1f} ms, p90 {pick(0.9):.1f} ms, "
          f"p99 {pick(0.99):.1f} ms")


if __name__ == "__main__":
    main()
