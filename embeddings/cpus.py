"""How many CPUs this process may really use, for torch's batch thread count.

torch starts one intra-op thread per core it sees on the host. In a container limited to two
CPUs by a cgroup quota on a 64-core host, that is 32 or 64 threads sharing two CPUs' worth of time:
each parallel region waits for its slowest, descheduled thread. The count that fits is the
process's affinity mask (taskset, cpusets), capped by the cgroup's CPU quota (docker --cpus,
Kubernetes limits), rounded up.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from jisr.settings import user_set_threads

CGROUP_ROOT = Path("/sys/fs/cgroup")


def available_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """CPUs this process can use: its affinity mask, capped by its cgroup CPU quota when there is one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_quota(cgroup_root)
    return max(1, min(cpus, math.ceil(quota))) if quota else max(1, cpus)


def cgroup_quota(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (1.5 = one and a half), or None when unlimited."""
    for folder in _own_cgroup_folders(root):
        try:  # cgroup v2: "max 100000" or "<quota> <period>"
            quota, period = (folder / "cpu.max").read_text().split()[:2]
            if quota != "max":
                return int(quota) / int(period)
            continue
        except (OSError, ValueError):
            pass
        try:  # cgroup v1
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
            if quota > 0 and period > 0:
                return quota / period
        except (OSError, ValueError):
            pass
    return None


def _own_cgroup_folders(root: Path) -> list[Path]:
    """This process's cgroup folder (from /proc/self/cgroup) when it is visible, then the root's, for v2 and v1."""
    found = []
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers == "" or "cpu" in controllers.split(","):
                base = root if controllers == "" else root / "cpu"
                found.append(base / path.lstrip("/"))
    except (OSError, ValueError):
        pass
    return found + [root, root / "cpu", root / "cpu,cpuacct"]


def cap_torch_threads(cgroup_root: Path = CGROUP_ROOT) -> int:
    """Lower torch's intra-op thread count to the CPUs available, never raise it; returns the count.

    OMP_NUM_THREADS, when set, is the user's choice and is left alone."""
    import torch

    if not user_set_threads():
        cpus = available_cpus(cgroup_root)
        if torch.get_num_threads() > cpus:
            torch.set_num_threads(cpus)
    return torch.get_num_threads()
