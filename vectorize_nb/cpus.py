"""How many CPUs this process may keep busy: those it may run on, and no more than its container's CPU quota
(Binder, Docker and Kubernetes limit a container's CPU time with a cgroup quota, not with the affinity mask,
so a container allowed 2 CPUs on a 64-core host still sees 64 cores)."""

from __future__ import annotations

import math
import os
from functools import cache
from pathlib import Path

__all__ = ["available"]

CGROUP = Path("/sys/fs/cgroup")
"""Where the process's cgroup is mounted: inside a container, its own."""


def available() -> int:
    """The CPUs this process may run on, capped by its cgroup's CPU quota (rounded up); at least 1."""
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    quota = _quota(CGROUP)
    return max(1, cpus if quota is None else min(cpus, quota))


@cache
def _quota(root: Path) -> int | None:
    """The CPU quota under `root` in whole CPUs (cgroup v2's cpu.max, else v1's cfs files); None without one."""
    try:
        limit, period = _read(root / "cpu.max").split()[:2]
    except (OSError, ValueError):
        try:
            limit, period = (_read(root / "cpu" / name) for name in ("cpu.cfs_quota_us", "cpu.cfs_period_us"))
        except OSError:
            return None
    if not (limit.isdigit() and period.isdigit()) or int(period) == 0:  # "max", or v1's -1: no quota
        return None
    return max(1, math.ceil(int(limit) / int(period)))


def _read(path: Path) -> str:
    return path.read_text(encoding="ascii").strip()
