"""A folder another writer keeps locked past the engine's patience: a clear error, nothing written; served, a
503 that clients retry."""

import sqlite3
import threading

import numpy as np
import pytest

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.store import DATABASE_NAME

from ..helpers import TINY, vectors


@pytest.fixture
def held(tmp_path):
    """A folder with an index, whose write lock another connection holds; the engine waits 0.2 s for it."""
    folder = tmp_path / "shared"
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("docs", dimensions=4, metric="cosine")
        engine.upsert("docs", vectors(["a"], np.eye(1, 4, dtype=np.float32)))
    other = sqlite3.connect(folder / DATABASE_NAME, isolation_level=None)
    engine = LocalEngine(folder, limits=TINY, lock_patience=0.2)
    other.execute("BEGIN IMMEDIATE")
    yield engine, folder
    other.close()
    engine.close()


def test_a_write_that_waits_out_its_patience_says_who_holds_the_folder_and_that_nothing_was_written(held):
    engine, folder = held
    with pytest.raises(TimeoutError) as caught:
        engine.upsert("docs", vectors(["b"], np.ones((1, 4), np.float32)))
    message = str(caught.value)
    assert str(folder) in message and "stayed locked by another writer" in message and "for 0.2 s" in message
    assert "nothing of this batch was written" in message
    assert [r.id for r in engine.get_by_ids("docs", ["a", "b"])] == ["a"]  # reads go on meanwhile


def test_reads_with_writes_due_answer_at_once_while_another_writer_holds_the_folder(tmp_path):
    """With apply_delay, every read applies the writes that are due, and with the lock held elsewhere it waited
    out the engine's patience, then failed with a write's "nothing was written"."""
    folder, now = tmp_path / "shared", [0.0]
    with LocalEngine(folder, limits=TINY, apply_delay=1, clock=lambda: now[0], lock_patience=60) as engine:
        engine.create_index("docs", dimensions=4, metric="cosine")
        engine.upsert("docs", vectors(["a"], np.eye(1, 4, dtype=np.float32)))
        now[0] = 2.0  # due
        other = sqlite3.connect(folder / DATABASE_NAME, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert engine.get_by_ids("docs", ["a"]) == [] and engine.index_info("docs").vector_count == 0
            assert engine.query("docs", np.ones(4, np.float32)) == []
        finally:
            other.close()
        assert [r.id for r in engine.get_by_ids("docs", ["a"])] == ["a"]  # applied by the next read


def test_served_it_is_a_503_without_the_path_and_the_client_retries_it(held):
    from vectorize_nb.local.server import serve
    import vectorize_nb as vz

    engine, folder = held
    with serve(engine=engine) as server:
        client = vz.connect(server.url, account_id=server.account_id, api_token="t", max_retries=0)
        with pytest.raises(vz.WriteIncomplete) as caught:
            client.get_index("docs").upsert(["b"], np.ones((1, 4), np.float32))
        cause = caught.value.__cause__
        assert isinstance(cause, errors.ServerError) and cause.status == 503 and cause.retryable
        assert "stayed locked by another writer" in str(cause) and str(folder) not in str(cause)


def test_a_served_engine_waits_for_a_lock_well_within_a_clients_timeout(tmp_path):
    from vectorize_nb.local.server import open_server
    from vectorize_nb.rest_options import REST_DEFAULTS

    with open_server(tmp_path / "served", port=0) as server:
        assert server.engine.store._patience < REST_DEFAULTS.timeout


def test_served_its_envelope_has_a_code_of_its_own_and_the_client_rebuilds_its_class(held):
    """The 503's envelope said code 0, which no client can tell from any other server failure."""
    import requests

    from vectorize_nb.local.server import serve

    engine, folder = held
    with serve(engine=engine) as server:
        answer = requests.post(f"{server.url}/accounts/local/vectorize/v2/indexes/docs/upsert",
                               data=b'{"id": "b", "values": [1, 1, 1, 1]}\n', timeout=10)
    assert answer.status_code == 503
    [error] = answer.json()["errors"]
    assert error["code"] == errors.StorageBusy.code == 10002
    assert error["message"] == ("this server's folder stayed locked by another writer for 0.2 s: nothing of this "
                                "request was written")
    rebuilt = errors.from_envelope(503, answer.json(), operation="upsert")
    assert type(rebuilt) is errors.StorageBusy and rebuilt.retryable and isinstance(rebuilt, errors.ServerError)
    assert str(rebuilt).startswith("[10002] this server's folder stayed locked") and "try again" in str(rebuilt)


def test_served_a_timeout_that_is_not_the_lock_is_an_internal_error_not_a_locked_folder(tmp_path, monkeypatch):
    """Any TimeoutError raised while serving was answered as "this server's folder stayed locked"."""
    import requests

    from vectorize_nb.local.server import serve

    with serve(memory=True) as server:
        def slow(*args, **kwargs):
            raise TimeoutError("the read timed out")

        monkeypatch.setattr(server.engine, "list_indexes", slow)
        answer = requests.get(f"{server.url}/accounts/local/vectorize/v2/indexes", timeout=10)
    assert answer.status_code == 500 and answer.json()["errors"][0]["code"] == errors.InternalError.code


def test_closing_does_not_wait_for_another_connections_read(tmp_path):
    """A full checkpoint waits for every reader, up to the engine's patience: close() copies what it can and
    leaves the rest in the write-ahead log, which the next open reads."""
    folder = tmp_path / "read"
    engine = LocalEngine(folder, limits=TINY, lock_patience=600)
    engine.create_index("docs", dimensions=4, metric="cosine")
    engine.upsert("docs", vectors(["a"], np.eye(1, 4, dtype=np.float32)))
    reader = sqlite3.connect(folder / DATABASE_NAME, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM vectors_1").fetchone() == (1,)
    engine.upsert("docs", vectors(["b"], np.ones((1, 4), np.float32)))  # a commit the reader's snapshot lacks
    closing = threading.Thread(target=engine.close)
    closing.start()
    closing.join(60)  # a guard against a hang, not a measure: close() waits for nothing
    waited = closing.is_alive()
    assert reader.execute("SELECT count(*) FROM vectors_1").fetchone() == (1,)  # still reading its snapshot
    reader.execute("COMMIT")
    reader.close()
    closing.join()
    assert not waited
    with LocalEngine(folder, limits=TINY) as reopened:
        assert sorted(r.id for r in reopened.get_by_ids("docs", ["a", "b"])) == ["a", "b"]


def test_opening_a_folder_locked_past_the_patience_says_it_could_not_be_opened_not_a_batch(tmp_path):
    """Opening a folder writes (its tables, its format): a lock held past the patience said "nothing of this batch
    was written" to `vectorize-nb serve`, which had sent no batch."""
    folder = tmp_path / "shared"
    LocalEngine(folder, limits=TINY).close()
    other = sqlite3.connect(folder / DATABASE_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TimeoutError) as caught:
            LocalEngine(folder, limits=TINY, lock_patience=0.2)
    finally:
        other.close()
    message = str(caught.value)
    assert str(folder) in message and "stayed locked by another writer" in message and "for 0.2 s" in message
    assert "could not be opened" in message and "batch" not in message
