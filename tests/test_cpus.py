"""Batch thread counts follow the CPUs a process may use (affinity, cgroup quota), not the host's cores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jisr.embeddings.cpus import available_cpus, cap_torch_threads, cgroup_quota
from tests.conftest import ROOT


def _cgroup(root: Path, v2: str | None = None, v1: tuple[int, int] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if v2 is not None:
        (root / "cpu.max").write_text(v2 + "\n")
    if v1 is not None:
        (root / "cpu").mkdir(exist_ok=True)
        (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{v1[0]}\n")
        (root / "cpu" / "cpu.cfs_period_us").write_text(f"{v1[1]}\n")
    return root


@pytest.mark.parametrize(
    "v2,v1,expected",
    [
        ("150000 100000", None, 1.5),
        ("max 100000", None, None),
        (None, (200000, 100000), 2.0),
        (None, (-1, 100000), None),
        (None, None, None),
        ("garbage", None, None),
    ],
)
def test_cgroup_quota_is_read_from_v2_or_v1(tmp_path, v2, v1, expected):
    assert cgroup_quota(_cgroup(tmp_path / "cg", v2, v1)) == expected


def test_available_cpus_is_the_affinity_capped_by_the_quota_rounded_up(tmp_path):
    mine = len(os.sched_getaffinity(0))
    assert available_cpus(_cgroup(tmp_path / "none")) == mine
    assert available_cpus(_cgroup(tmp_path / "half", "50000 100000")) == 1
    assert available_cpus(_cgroup(tmp_path / "many", f"{(mine + 8) * 100000} 100000")) == mine


def test_torch_threads_are_lowered_to_the_quota_and_never_raised(tmp_path, monkeypatch):
    import torch

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(8)
        assert cap_torch_threads(_cgroup(tmp_path / "one", "100000 100000")) == 1 == torch.get_num_threads()
        torch.set_num_threads(1)
        assert cap_torch_threads(_cgroup(tmp_path / "none")) == 1  # never raised
        monkeypatch.setenv("OMP_NUM_THREADS", "8")
        torch.set_num_threads(8)
        assert cap_torch_threads(_cgroup(tmp_path / "one")) == 8  # the user's explicit choice stands
    finally:
        torch.set_num_threads(before)


_LOAD_ON_ONE_CPU = """
import os, sys, torch
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # as taskset -c N would start it
torch.set_num_threads(4)
from jisr.embeddings import load_model
load_model(sys.argv[1])
print(torch.get_num_threads())
"""


@pytest.mark.slow  # loads the model in a child process
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
def test_loading_a_model_caps_torch_threads(tiny_model_path):
    """A process allowed one CPU (its affinity, the real condition, in a process of its own: pinning this one
    would pin the threads it starts later too) that asked torch for 4 threads has 1 once it loads a model."""
    env = {name: value for name, value in os.environ.items() if name != "OMP_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_ON_ONE_CPU, str(tiny_model_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "1"
