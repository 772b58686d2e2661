"""The stop button (KeyboardInterrupt) in the middle of a write: the index in this process and on disk
agree afterwards, and the client goes on working."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.local import LocalEngine
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


def test_a_write_interrupted_between_batches_says_what_was_written(index, tmp_path, monkeypatch):
    interrupt_call(monkeypatch, LocalEngine, "write", at=3)
    with pytest.raises(vz.WriteInterrupted) as stopped:
        index.upsert(IDS[20:], ROWS[20:], batch_size=5)
    monkeypatch.undo()
    assert isinstance(stopped.value, KeyboardInterrupt)  # the cell stops as with any interrupt
    result = stopped.value.result
    assert [b.status for b in result.batches] == ["accepted", "accepted", "unconfirmed", "not sent"]
    assert result.written == 10 and result.unwritten_ids == IDS[30:]
    assert "upsert into 'films' was interrupted: 10 of 20 rows written" in str(stopped.value)
    _agrees_with_disk(index, tmp_path)
    assert index.info().vector_count == 30
    assert result.retry().ok
    assert index.info().vector_count == 40


def test_a_frame_upsert_interrupted_says_what_was_written(index, monkeypatch):
    frame = pd.DataFrame({"id": IDS, "vector": list(ROWS)})
    interrupt_call(monkeypatch, LocalEngine, "write", at=2)
    with pytest.raises(vz.WriteInterrupted) as stopped:
        frame.vectorize.upsert(index, id="id", vector="vector", batch_size=10)
    monkeypatch.undo()
    assert [b.status for b in stopped.value.result.batches] == ["accepted", "unconfirmed", "not sent", "not sent"]
    assert stopped.value.result.retry().ok


def test_a_delete_interrupted_says_which_ids_were_deleted(tmp_path, monkeypatch):
    with vz.connect(path=tmp_path / "store", limits=replace(vz.DEFAULT_LIMITS, max_delete_ids=5)) as client:
        films = client.create_index("films", dimensions=32)
        films.upsert(IDS, ROWS)
        interrupt_call(monkeypatch, LocalEngine, "delete_by_ids", at=2)
        with pytest.raises(vz.WriteInterrupted) as stopped:
            films.delete_by_ids(IDS[:15])
        monkeypatch.undo()
        assert "delete on 'films' was interrupted: 5 of 15 ids accepted" in str(stopped.value)
        assert stopped.value.result.unwritten_ids == IDS[5:15]
        assert films.info().vector_count == 35
        assert stopped.value.result.retry().ok
        assert films.info().vector_count == 25


def test_a_write_over_rest_interrupted_lets_the_requests_in_flight_finish_and_sends_no_more(tmp_path, monkeypatch):
    from vectorize_nb.rest.backend import RestBackend

    with vz.serve(memory=True) as server, vz.connect(server.url) as client:
        films = client.create_index("films", dimensions=32)
        interrupt_call(monkeypatch, RestBackend, "prepare_write", at=3)  # the third body, built as two are sent
        with pytest.raises(vz.WriteInterrupted) as stopped:
            films.upsert(IDS, ROWS, batch_size=5)
        monkeypatch.undo()
        result = stopped.value.result
        statuses = [b.status for b in result.batches]  # the first two were sent, or still queued: not sent
        assert set(statuses[:2]) <= {"accepted", "not sent"} and statuses[2:] == ["not sent"] * 6
        assert films.info().vector_count == result.written
        assert result.retry().ok
        assert films.info().vector_count == 40
