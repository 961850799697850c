"""Every benchmark script's quick mode: tiny sizes, run by the test suite so that no script rots unseen.

A quick run shows that a script still runs from its start to its results file, not what it measures,
so its figures go only where --out says (the suite passes a temporary folder) and never replace the
ones in benchmarks/results/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.contention import ROOT

RESULTS = ROOT / "benchmarks" / "results"


def model_argument(parser: argparse.ArgumentParser) -> None:
    """--model: a script whose figures are not about the default model runs with any, such as the tiny one
    the test suite builds for a quick run."""
    parser.add_argument(
        "--model",
        default=None,
        metavar="PATH",
        help="a local sentence-transformers folder (default: the default model)",
    )


def parse(parser: argparse.ArgumentParser, out: Path, **quick) -> argparse.Namespace:
    """``parser``'s arguments with --out (default ``out``) and --quick added. --quick makes ``quick`` the
    defaults of the arguments it names (tiny sizes; what the command line gives still wins), and needs --out."""
    parser.add_argument(
        "--out", type=Path, default=None, help=f"where the results are written (default: {out.relative_to(ROOT)})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, seconds rather than minutes: does the script still run? (needs --out)",
    )
    args = parser.parse_args()
    if args.quick:
        if args.out is None:
            parser.error("--quick needs --out: a quick run's figures must not replace benchmarks/results/")
        parser.set_defaults(**quick)
        args = parser.parse_args()
    args.out = args.out or out
    return args
