"""The CPUs a process may keep busy: the affinity mask, capped by a container's cgroup CPU quota."""

from __future__ import annotations

import os

import pytest

from vectorize_nb import cpus
from vectorize_nb.local import search


@pytest.fixture
def cgroup(tmp_path, monkeypatch):
    monkeypatch.setattr(cpus, "CGROUP", tmp_path)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    cpus._quota.cache_clear()
    yield tmp_path
    cpus._quota.cache_clear()


@pytest.mark.parametrize("v2, v1, expected", [
    ("200000 100000\n", None, 2),
    ("150000 100000\n", None, 2),  # 1.5 CPUs of time: two threads, each not always busy
    ("max 100000\n", None, 64),
    (None, ("400000", "100000"), 4),
    (None, ("-1", "100000"), 64),
    (None, None, 64),
])
def test_a_containers_cpu_quota_caps_the_cpus_of_a_many_core_host(cgroup, v2, v1, expected):
    """Binder gives 1-2 CPUs of a many-core node by quota: the search started a thread per host core."""
    if v2 is not None:
        (cgroup / "cpu.max").write_text(v2, encoding="ascii")
    if v1 is not None:
        (cgroup / "cpu").mkdir()
        (cgroup / "cpu" / "cpu.cfs_quota_us").write_text(v1[0] + "\n", encoding="ascii")
        (cgroup / "cpu" / "cpu.cfs_period_us").write_text(v1[1] + "\n", encoding="ascii")
    assert cpus.available() == expected


def test_the_search_threads_follow_the_quota(cgroup, monkeypatch):
    (cgroup / "cpu.max").write_text("200000 100000\n", encoding="ascii")
    for name in search.LIMIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    unlimited = search._Blas.__new__(search._Blas)  # a BLAS that sets no limit of its own
    unlimited.controller = None
    monkeypatch.setattr(search, "_blas", unlimited)
    assert search.threads() == 2
