"""The stop button (KeyboardInterrupt) in the middle of a write: the index in this process and on disk
agree afterwards, and the client goes on working."""

from __future__ import annotations

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb.local.resident import ResidentIndex
from vectorize_nb.local.store import Store

ROWS = np.random.default_rng(7).standard_normal((40, 32)).astype(np.float32)
IDS = [f"v{i}" for i in range(40)]


def interrupt_call(monkeypatch, owner, name, at):
    """Make the `at`-th call of owner.name raise KeyboardInterrupt (as the stop button would)."""
    original, calls = getattr(owner, name), []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == at:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupted)


@pytest.fixture
def index(tmp_path):
    with vz.connect(path=tmp_path / "store") as client:
        films = client.create_index("films", dimensions=32)
        films.upsert(IDS[:20], ROWS[:20])
        films.query(ROWS[0], top_k=1)  # the resident index is loaded
        yield films


def _agrees_with_disk(index, tmp_path):
    with vz.connect(path=tmp_path / "store") as other:
        on_disk = other.get_index("films")
        stored = sorted(on_disk.list_ids())
        assert index.info().vector_count == on_disk.info().vector_count == len(stored)
    for vid in stored:
        assert index.query(ROWS[IDS.index(vid)], top_k=1)["id"].tolist() == [vid]


@pytest.mark.parametrize(("owner", "name"),
                         [(ResidentIndex, "place"), (ResidentIndex, "_weigh"), (Store, "_after_commit")],
                         ids=["mirroring", "half-mirrored", "right-after-commit"])
def test_a_write_interrupted_after_its_commit_is_seen_in_this_process(index, tmp_path, monkeypatch, owner, name):
    interrupt_call(monkeypatch, owner, name, at=1)
    with pytest.raises(KeyboardInterrupt):
        index.upsert(IDS[20:30], ROWS[20:30])
    monkeypatch.undo()
    _agrees_with_disk(index, tmp_path)
    assert index.info().vector_count == 30
    index.upsert(IDS[30:], ROWS[30:])  # the client goes on
    _agrees_with_disk(index, tmp_path)
    assert index.info().vector_count == 40


def test_a_write_interrupted_before_its_commit_leaves_nothing(index, tmp_path, monkeypatch):
    interrupt_call(monkeypatch, Store, "log_mutation", at=1)
    with pytest.raises(KeyboardInterrupt):
        index.upsert(IDS[20:30], ROWS[20:30])
    monkeypatch.undo()
    _agrees_with_disk(index, tmp_path)
    assert index.info().vector_count == 20

