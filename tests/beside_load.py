"""Run tests again and again beside CPU-bound processes: do they depend on the machine's speed?

A test that waits a fixed number of seconds passes on a quiet machine and fails on a busy one; a
test that waits for the event it needs passes on both. This runs pytest ``--runs`` times with
``--hogs`` processes spinning beside it, and with SIGINT ignored as a background job inherits it
(the way the interrupt tests once failed), and prints each run's outcome. Usage:

    python tests/beside_load.py [--runs 5] [--hogs 2] [pytest arguments, default: the kill,
                                interrupt and security tests]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["tests/test_security.py", "tests/test_index.py", "tests/test_segments.py", "tests/test_cli.py"]


def _spin() -> None:
    while True:
        sum(i * i for i in range(10_000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hogs", type=int, default=2)
    args, pytest_args = parser.parse_known_args()
    hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    failed_runs = 0
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            out = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(pytest_args or DEFAULT)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
            )
            summary = (out.stdout.strip().splitlines() or ["(no output)"])[-1]
            failed_runs += out.returncode != 0
            print(
                f"run {run}: exit {out.returncode}, {summary} ({time.monotonic() - started:.0f} s, "
                f"load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            if out.returncode != 0:
                print("\n".join(line for line in out.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))))
    finally:
        for hog in hogs:
            hog.terminate()
    print(f"{failed_runs} of {args.runs} runs failed, beside {args.hogs} CPU-bound processes")
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
