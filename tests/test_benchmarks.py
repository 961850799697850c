"""Every benchmark script runs in its quick mode and writes its table, so that no benchmark rots unseen.

Each script runs as a person runs it: its own process, from the repository root, as
``python -m benchmarks.NAME`` (``benchmarks.experiments.NAME`` for an experiment whose decision is made), with
--quick (tiny sizes) and --out in a temporary folder. What is checked is what it wrote: the results table holds its
header row and rows of figures, and nothing in benchmarks/results/ (nor the query centering table a
fit writes) was touched. Scripts whose figure is the default model's speed use it (marked slow); the
others are given the tiny model the suite builds.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
CENTERING = ROOT / "search" / "answers" / "centering.json"  # what fit_query_centering writes when not told --out
WEIGHTS = ROOT / "search" / "weights.json"  # what the weight fits write in a full run
MATCH = ROOT / "search" / "answers" / "match.json"  # what calibrate_match writes in a full run
CHOSEN = {
    "fit_lexical_weight": ("lexical",),
    "fit_phrase_weight": ("phrase", "phrase_min_run"),
    "names": ("names",),
}
TIMEOUT = 600  # a safety net only: the slowest quick run takes about a minute
FIGURE = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")


@dataclass(frozen=True)
class Script:
    """A benchmark script's quick run: what --out names and the files holding its table (both under the
    test's temporary folder), how the table's header row begins, and which model it reads."""

    name: str  # the module under benchmarks: "scale", "experiments.ann_choice"
    out: str
    header: str
    files: tuple[str, ...] = ()  # default: (out,)
    tiny: bool = False  # given the suite's tiny model (--model)
    slow: bool = False  # loads the default model (itself, or a contender beside it)
    extra: tuple[str, ...] = ()  # more arguments; "{tmp}" is the temporary folder
    root: bool = False  # mounts a file system (the power-loss FUSE layer): root, /dev/fuse and fuse3


SCRIPTS = [
    Script("experiments.ann_choice", "ann.md", "| index | setting | recall@10 |"),
    Script("calibrate_match", "match.md", "| mode | query | kind |", tiny=True),
    Script("companion_cost", "companion_cost.md", "| set | companion | passages |", tiny=True, slow=True),
    Script("experiments.compressed_vectors", "compressed_vectors.md", "| set | mode | query | half |", tiny=True),
    Script("experiments.contended_latency", "contended_latency.md", "| query threads | quiet p50 ms", slow=True),
    Script("did_you_mean", "did_you_mean.md", "| set | half | terms |"),
    Script("crash", "crash.md", "| phase | crash points |", tiny=True, root=True),
    Script("encode_speed", "encode_speed.md", "| run | query threads | batch tokens/s quiet |", slow=True),
    Script("experiments.encoder_profile", "encoder_profile.md", "| operators | seconds | share |", slow=True),
    Script("fit_lexical_weight", "lexical_weight.md", "| hybrid weight |", tiny=True),
    Script("fit_phrase_weight", "phrase_weight.md", "| shortest run | weight |", tiny=True),
    Script("fit_query_centering", "query_centering.json", "", tiny=True),
    Script(
        "filter_cost",
        "filter_cost",
        "| passages | mode | filter |",
        files=("filter_cost/filter_cost.md",),
        extra=("--work", "{tmp}/work"),
    ),
    Script(
        "follow",
        "follow",
        "| passages | segments | swaps |",
        files=("follow/follow.md",),
        slow=True,
        extra=("--work", "{tmp}/work"),
    ),
    Script("http_latency", "http_latency.md", "| what | quiet p50 / p99 ms", slow=True),
    Script("experiments.int8_encoder", "int8_encoder.md", "| path | tokens/s (median) |", slow=True),
    Script("experiments.late_chunking", "late_chunking.md", "| ranking |", tiny=True),
    Script("ingest", "ingest.md", "| writer nice | documents/s |", tiny=True),
    Script("load", "load", "| clients | run | req/s |", files=("load.md",), slow=True),
    Script("long_line", "long_line.md", "| line | MB | passages |", slow=True),
    Script("names", "names.md", "| names weight |", tiny=True),
    Script("milvus_parity", "milvus_parity.md", "| mode | query language | queries |", tiny=True),
    Script(
        "quality_report",
        "quality",
        "| system | en->ar MRR@10 tune |",
        files=("quality/xquad.md", "quality/hadith.md"),
        tiny=True,
    ),
    Script("experiments.ranking_levers", "ranking_levers.md", "| ranking |", tiny=True),
    Script("ray_build", "ray_build.md", "| build | wall s |", tiny=True),
    Script("scale", "scale", "| | ", files=("scale/scale.md",), slow=True, extra=("--work", "{tmp}/work")),
    Script("typing", "typing.md", "| Arabic questions | MRR@10 |", tiny=True),
    Script("suggest", "suggest.md", "| passages | terms | merge s |"),
    Script("snapshot", "snapshot.md", "| operation | passages | seconds |", tiny=True),
    Script("experiments.use_fusion", "use_fusion.md", "| USE added to | u |", tiny=True),
]


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().removeprefix("|").removesuffix("|").split("|")]


def table(text: str, header: str) -> tuple[list[str], list[list[str]]]:
    """The Markdown table whose header row begins with ``header``: (its columns, its rows' cells)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(header)), None)
    assert start is not None, f"no table headed {header!r} in:\n{text}"
    assert re.fullmatch(r"\|(-+\|)+", lines[start + 1]), lines[start + 1]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(cells(line))
    return cells(lines[start]), rows


def check_table(path: Path, header: str) -> None:
    """``path`` holds the table headed ``header``: every row as wide as the header, none holding nan, and at
    least one with a figure past its label."""
    columns, rows = table(path.read_text(encoding="utf-8"), header)
    for row in rows:
        assert len(row) == len(columns), (columns, row)
        assert not any(cell.lower() in ("nan", "inf") for cell in row), f"{path.name}: {row}"
    assert any(FIGURE.search(cell) for row in rows for cell in row[1:]), f"{path.name}: no row of figures"


def check_centering(path: Path, model: Path) -> None:
    """fit_query_centering's table: one entry, for ``model``: a chosen alpha in [0, 1], a mean vector of its width."""
    (entry,) = json.loads(path.read_text(encoding="utf-8"))["models"].values()
    assert 0.0 <= entry["alpha"] <= 1.0, entry["alpha"]
    mean = np.asarray(entry["mean"], np.float64)
    width = json.loads((model / "config.json").read_text(encoding="utf-8"))["hidden_size"]
    assert mean.shape == (width,) and np.isfinite(mean).all() and np.linalg.norm(mean) > 0


def kept() -> dict[Path, int]:
    """When each file a quick run must leave alone was last written: the committed results, the fitted table."""
    return {
        path: path.stat().st_mtime_ns for path in [*RESULTS.rglob("*"), CENTERING, WEIGHTS, MATCH] if path.is_file()
    }


def module_name(path: Path) -> str:
    """The module a benchmark file is under the benchmarks package: "scale", "experiments.ann_choice"."""
    return ".".join(path.relative_to(BENCHMARKS).with_suffix("").parts)


def test_every_script_with_a_main_has_a_quick_run_here():
    scripts = {module_name(p) for p in BENCHMARKS.rglob("*.py") if "\ndef main(" in p.read_text(encoding="utf-8")}
    assert scripts == {s.name for s in SCRIPTS}


def test_benchmarks_import_each_other_through_the_package_alone():
    """A script that edits sys.path or imports a sibling by its bare name runs only from its own folder; through
    the package, every one runs as ``python -m benchmarks.NAME`` from the repository root."""
    siblings = {p.stem for p in BENCHMARKS.rglob("*.py")} - {"__init__"}
    for path in BENCHMARKS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "sys.path" not in text, path
        for node in ast.walk(ast.parse(text)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not (isinstance(node, ast.ImportFrom) and node.level), (path, "a relative import")
            assert not any(n.split(".")[0] in siblings for n in names), (path, names)


def test_the_experiments_index_names_each_experiment_once_with_its_result_file():
    """benchmarks/experiments/README.md: one row per experiment (script, what it decided, its result file), and
    the result file is there."""
    rows = [
        cells(line)
        for line in (BENCHMARKS / "experiments" / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    assert sorted(row[0].strip("`") for row in rows) == sorted(
        p.name for p in (BENCHMARKS / "experiments").glob("*.py") if p.name != "__init__.py"
    )
    for script, decided, result in rows:
        assert decided and (RESULTS / result.strip("`")).is_file(), (script, result)


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(
            s,
            id=s.name,
            marks=[
                pytest.mark.benchmark,
                *([pytest.mark.default_model] if s.slow else []),
                *([pytest.mark.root] if s.root else []),
            ],
        )
        for s in SCRIPTS
    ],
)
def test_quick_run_writes_its_table(script: Script, tmp_path: Path, request):
    model = request.getfixturevalue("tiny_model_path") if script.tiny else None
    before = kept()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            f"benchmarks.{script.name}",
            "--quick",
            "--out",
            str(tmp_path / script.out),
            *(["--model", str(model)] if model else []),
            *(arg.format(tmp=tmp_path) for arg in script.extra),
        ],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert kept() == before, "a quick run wrote over committed results"
    if script.name == "fit_query_centering":
        check_centering(tmp_path / script.out, model)
    else:
        for name in script.files or (script.out,):
            check_table(tmp_path / name, script.header)
    if script.name == "calibrate_match":  # the lines go beside the quick run's table, never to match.json
        (entry,) = json.loads((tmp_path / script.out).with_suffix(".match.json").read_text(encoding="utf-8"))[
            "models"
        ].values()
        hybrid = entry["modes"]["hybrid"]["ar"]
        assert hybrid["weak"] <= hybrid["strong"] and hybrid["spread"] >= 0, hybrid
    if script.name in CHOSEN:  # a fit records its choice where search reads weights (a quick run: beside it)
        recorded = json.loads((tmp_path / script.out).with_suffix(".weights.json").read_text(encoding="utf-8"))
        for weight in CHOSEN[script.name]:
            assert recorded[weight]["chosen_by"] == f"benchmarks/{script.name}.py", recorded[weight]
            assert f"{recorded[weight]['value']}" in (tmp_path / script.out).read_text(encoding="utf-8")


def test_the_10m_projection_of_the_hybrid_p50_from_its_parts_takes_the_longer_scan_plus_the_rest():
    from benchmarks import scale

    def row(size, dense, lexical, hybrid):
        return {"size": size, "open": {"dense": {"p50": dense}, "lexical": {"p50": lexical}, "hybrid": {"p50": hybrid}}}

    small, large = row(1_000_000, 10.0, 8.0, 20.0), row(4_000_000, 20.0, 32.0, 40.0)
    # dense grows as size^0.5 (40 ms at 16M), BM25 as size^1 (128 ms), the rest stays 40 - 32 = 8 ms
    (line,) = [x for x in scale.parts(small, large, 16_000_000) if x]
    assert "dense (40.0 ms)" in line and "BM25 (128.0 ms)" in line and line.endswith("**136.0 ms**.")
    assert scale.parts(large, row(8_000_000, 40.0, 32.0, 50.0), 16_000_000)[-1].endswith("**90.0 ms**.")
