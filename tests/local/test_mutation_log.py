"""The mutation log stays bounded: the ids of applied deletes are kept for the newest few only, and an engine
that was further behind reads the index again rather than miss a delete."""

import sqlite3

import numpy as np
import orjson
import pytest

from vectorize_nb.local import LocalEngine, deleted_ids
from vectorize_nb.local.store import DATABASE_NAME
from vectorize_nb.contract.models import QueryOptions

from ..helpers import TINY, vectors


@pytest.fixture(autouse=True)
def few_kept_ids(monkeypatch):
    monkeypatch.setattr(deleted_ids, "KEPT", 250)


def delete_payloads(folder):
    """(bytes of the deletes' ids kept in the log, deletes logged, deletes whose ids were let go)."""
    con = sqlite3.connect(f"file:{folder / DATABASE_NAME}?mode=ro", uri=True)
    try:
        return con.execute("SELECT coalesce(sum(length(payload)), 0), count(*), count(*) - count(payload) "
                           "FROM mutations WHERE kind = 'delete'").fetchone()
    finally:
        con.close()


def test_an_engine_behind_the_deletes_whose_ids_were_let_go_reads_the_index_again(tmp_path, rng):
    folder, data = tmp_path / "shared", rng.standard_normal((1000, 4)).astype(np.float32)
    ids = [f"v{i}" for i in range(1000)]
    with LocalEngine(folder, limits=TINY) as writer, LocalEngine(folder, limits=TINY) as reader:
        writer.create_index("churn", dimensions=4, metric="euclidean")
        writer.upsert("churn", vectors(ids, data))
        assert len(reader.query("churn", data[0], QueryOptions(top_k=3))) == 3  # resident and in step
        for start in range(0, 900, 100):
            writer.delete_by_ids("churn", ids[start:start + 100])
        _, deletes, let_go = delete_payloads(folder)
        assert (deletes, let_go) == (9, 6)  # the newest 3 deletes' ids are kept: 200 ids before the newest
        distances = np.linalg.norm(data[900:] - data[0], axis=1)
        expected = [ids[900 + i] for i in np.argsort(distances, kind="stable")[:50]]
        assert [m.id for m in reader.query("churn", data[0], QueryOptions(top_k=50))] == expected
        assert reader.index_info("churn").vector_count == 100
        assert reader.get_by_ids("churn", ids[880:900]) == []


def test_the_log_stops_growing_when_an_index_is_cleared_and_written_again_and_again(tmp_path, rng, monkeypatch):
    """The audit's cell: upsert 20,000 ids, delete them all, 100 times: 40 MB of deleted ids in the log, and the
    index empty. The pages the let-go ids took are reused (here 1.6 MB of ids, 25 pages of 64 KiB; those kept
    span more than the few pages SQLite balances a new row among)."""
    monkeypatch.setattr(deleted_ids, "KEPT", 5000)
    folder, data = tmp_path / "churn", rng.standard_normal((1000, 4)).astype(np.float32)
    ids = [f"{i:08d}".rjust(64, "d") for i in range(1000)]  # as long as an id may be
    kept, pages = [], []
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("churn", dimensions=4, metric="cosine")
        for _ in range(25):
            engine.upsert("churn", vectors(ids, data))
            for start in range(0, 1000, 100):
                engine.delete_by_ids("churn", ids[start:start + 100])
            kept.append(delete_payloads(folder)[0])
            pages.append(engine.store._one("PRAGMA page_count")[0])
        assert engine.index_info("churn").vector_count == 0
    assert kept[9] == kept[-1] == 50 * len(orjson.dumps(ids[:100]))  # the newest 50 deletes' ids
    assert pages[-1] - pages[9] <= 2, pages  # the rows themselves grow a little: 11 a round, without ids
    with LocalEngine(folder, limits=TINY) as reopened:
        assert reopened.index_info("churn").vector_count == 0
        assert len(reopened.mutation_log("churn")) == 25 * 11  # every mutation is still listed


def test_opening_a_folder_lets_go_of_the_ids_an_older_version_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(deleted_ids, "KEPT", 10**9)  # as an older version kept them: all
    with LocalEngine(tmp_path / "old", limits=TINY) as engine:
        engine.create_index("churn", dimensions=2, metric="cosine")
        for i in range(10):
            engine.upsert("churn", vectors([f"v{i}"], [[1, i]]))
            engine.delete_by_ids("churn", [f"v{i}"])
    assert delete_payloads(tmp_path / "old")[1:] == (10, 0)
    monkeypatch.setattr(deleted_ids, "KEPT", 4)
    with LocalEngine(tmp_path / "old", limits=TINY) as reopened:
        assert reopened.index_info("churn").vector_count == 0
    assert delete_payloads(tmp_path / "old")[1:] == (10, 6)
