"""A notebook's cells run again and again in one process: what a dropped client held is let go."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import vectorize_nb as vz


def _open_in(folder: Path) -> list[str]:
    """The files under `folder` this process holds open."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            held.append(target)
    return held


def _checkpointers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "vectorize-checkpoint"]


def _rerun_cells(folder: Path, times: int) -> None:
    values = np.random.default_rng(0).standard_normal((50, 32)).astype(np.float32)
    for _ in range(times):
        client = vz.connect(path=folder)
        index = client.create_index("films", dimensions=32, exist_ok=True)
        index.upsert([str(i) for i in range(50)], values)
        index.query(values[0], top_k=3)
    del client, index


def test_a_client_dropped_without_close_lets_go_of_its_files_and_thread(tmp_path):
    before = set(_checkpointers())
    _rerun_cells(tmp_path / "store", 6)
    gc.collect()
    for thread in set(_checkpointers()) - before:
        thread.join(timeout=30)
    assert set(_checkpointers()) - before == set()
    assert _open_in(tmp_path) == []


def test_a_closed_client_holds_nothing(tmp_path):
    before = set(_checkpointers())
    with vz.connect(path=tmp_path / "store") as client:
        index = client.create_index("films", dimensions=32)
        index.upsert(["a"], np.ones((1, 32), dtype=np.float32))
        index.query(np.ones(32), top_k=1)
    assert set(_checkpointers()) - before == set()
    assert _open_in(tmp_path) == []


def test_a_server_on_a_port_another_program_holds_says_so_and_leaves_nothing_running():
    """(A port a server of this process holds is taken over: tests/local/test_serve_again.py.)"""
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        before = set(threading.enumerate())
        with pytest.raises(vz.errors.ConfigurationError) as refused:
            vz.serve(memory=True, port=port)
        assert set(threading.enumerate()) == before
    message = str(refused.value)
    assert f"port {port}" in message and "in use" in message and "port=0" in message
