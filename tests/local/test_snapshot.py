"""Snapshots: a quick reopen that never changes an answer."""

import errno
import os
import shutil
import subprocess
import sys

import numpy as np
import orjson
import pytest

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine, deleted_ids, snapshot
from vectorize_nb.local.store import DATABASE_NAME, VECTORS_FOLDER
from vectorize_nb.contract.models import QueryOptions

from ..helpers import TINY, vectors


@pytest.fixture(autouse=True)
def small_snapshots(monkeypatch):
    monkeypatch.setattr(snapshot, "MIN_ROWS", 10)


def answers(engine, data):
    options = QueryOptions(top_k=20, filter={"genre": {"$in": ["a", "c"]}}, return_metadata="indexed")
    return [(m.id, m.score, m.metadata, m.namespace) for m in engine.query("snap", data[0], options)]


@pytest.fixture
def store(tmp_path, rng):
    folder = tmp_path / "snap"
    data = rng.standard_normal((60, 4)).astype(np.float32)
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("snap", dimensions=4, metric="euclidean")
        engine.upsert("snap", vectors(["early"], data[:1], [{"genre": "a"}]))
        engine.create_metadata_index("snap", "genre", "string")
        engine.upsert("snap", vectors([f"v{i}" for i in range(1, 60)], data[1:],
                                      [{"genre": "abc"[i % 3], "tags": ["x"]} for i in range(1, 60)],
                                      [None, "ns"] * 29 + [None]))
        expected = answers(engine, data)
    return folder, data, expected


def snapshot_folders(folder):
    return sorted(p.name for p in (folder / "snapshots").iterdir())


def test_close_writes_a_snapshot_and_reopening_uses_it(store, monkeypatch):
    folder, data, expected = store
    assert len(snapshot_folders(folder)) == 1
    with LocalEngine(folder, limits=TINY) as reopened:
        monkeypatch.setattr(type(reopened.store), "scan_vectors", None)  # a read from SQLite would fail
        assert answers(reopened, data) == expected
        assert "early" not in {a[0] for a in answers(reopened, data)}  # still predates the metadata index


def test_a_stale_snapshot_catches_up_with_later_writes(store, monkeypatch):
    folder, data, expected = store
    monkeypatch.setattr(snapshot, "MIN_ROWS", 10**9)  # this engine will not refresh the snapshot
    with LocalEngine(folder, limits=TINY) as writer:
        writer.upsert("snap", vectors(["late"], data[:1] + 0.001, [{"genre": "c"}]))
        writer.delete_by_ids("snap", ["v3", "v6"])
    truth = folder.parent / "truth"
    shutil.copytree(folder, truth)
    shutil.rmtree(truth / "snapshots")
    with LocalEngine(truth, limits=TINY) as from_sqlite:
        expected = answers(from_sqlite, data)
    with LocalEngine(folder, limits=TINY) as reopened:
        got = answers(reopened, data)
    assert got == expected and got[0][0] == "late" and not {"v3", "v6"} & {a[0] for a in got}


def test_a_snapshot_older_than_the_deletes_whose_ids_the_log_let_go_means_a_full_read(store, monkeypatch):
    folder, data, _ = store
    monkeypatch.setattr(snapshot, "MIN_ROWS", 10**9)
    monkeypatch.setattr(deleted_ids, "KEPT", 3)
    with LocalEngine(folder, limits=TINY) as writer:
        for i in range(1, 30, 2):
            writer.delete_by_ids("snap", [f"v{i}"])
        expected = answers(writer, data)
    with LocalEngine(folder, limits=TINY) as reopened:
        got = answers(reopened, data)
    assert got == expected and not {f"v{i}" for i in range(1, 30, 2)} & {a[0] for a in got}


def test_a_metadata_index_change_after_the_snapshot_means_a_full_read(store, monkeypatch):
    folder, data, _ = store
    monkeypatch.setattr(snapshot, "MIN_ROWS", 10**9)
    with LocalEngine(folder, limits=TINY) as writer:
        writer.delete_metadata_index("snap", "genre")
        writer.create_metadata_index("snap", "genre", "string")
    with LocalEngine(folder, limits=TINY) as reopened:
        assert answers(reopened, data) == []  # every vector predates the new metadata index


@pytest.mark.parametrize("damaged", ["ids.json", "live.npy", "namespace_codes.npy", "state-0.npy"])
def test_a_damaged_snapshot_is_ignored(store, damaged):
    folder, data, expected = store
    [name] = snapshot_folders(folder)
    path = folder / "snapshots" / name / damaged
    path.write_bytes(path.read_bytes()[:90])
    with LocalEngine(folder, limits=TINY) as reopened:
        assert answers(reopened, data) == expected


def test_a_snapshot_of_a_database_deleted_by_hand_is_not_taken_for_the_new_ones_index(store):
    folder, data, _ = store
    for path in folder.glob(f"{DATABASE_NAME}*"):
        path.unlink()
    with pytest.raises(errors.FolderUnusable, match="delete the folder's vectors folder to start afresh"):
        LocalEngine(folder, limits=TINY)  # the vector files would be lost: the engine keeps them
    shutil.rmtree(folder / VECTORS_FOLDER)  # "start again", keeping snapshots/
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("snap", dimensions=4, metric="euclidean")  # the same id, generation and metric
        fresh = np.arange(320, dtype=np.float32).reshape(80, 4) ** 0.5
        for start in range(0, 80, 20):  # as many rows and mutations as the snapshot reflects, and more
            engine.upsert("snap", vectors([f"new{i}" for i in range(start, start + 20)], fresh[start:start + 20]))
    with LocalEngine(folder, limits=TINY) as reopened:
        found = reopened.query("snap", fresh[1], QueryOptions(top_k=5))
        assert found[0].id == "new1" and found[0].score == 0.0
        assert {m.id for m in found} <= {f"new{i}" for i in range(80)}


def test_two_processes_saving_one_snapshot_at_once_both_carry_on(store, monkeypatch):
    folder, data, expected = store
    with LocalEngine(folder, limits=TINY) as engine:
        state = engine._states["snap"]
        resident = engine._resident(state)
        rename = type(folder).rename

        def other_saved_first(path, target):  # another process puts its snapshot in place just before ours
            if ".tmp-" in path.name:
                theirs = path.with_name(path.name.split(".tmp-")[0])
                theirs.mkdir(exist_ok=True)
                (theirs / "header.json").write_text("theirs", encoding="utf-8")
            return rename(path, target)

        monkeypatch.setattr(type(folder), "rename", other_saved_first)
        snapshot.save(folder / "snapshots", state.row.id, state.row.created_on, resident, state.applied_seq)
        monkeypatch.setattr(type(folder), "rename", rename)
    [kept] = snapshot_folders(folder)
    assert (folder / "snapshots" / kept / "header.json").read_text(encoding="utf-8") == "theirs"
    with LocalEngine(folder, limits=TINY) as reopened:  # theirs is unreadable: ignored, read from SQLite
        assert answers(reopened, data) == expected


def test_deleting_the_index_removes_its_snapshot(store):
    folder, _, _ = store
    with LocalEngine(folder, limits=TINY) as engine:
        engine.delete_index("snap")
    assert snapshot_folders(folder) == []


def left_mid_save(root, index_folder):
    """What processes killed while saving a snapshot of `index_folder` left (its staging folder, or the previous
    snapshot set aside), and what a live one is writing now; the names of both."""
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)  # ended and reaped: surely not alive
    dead_ones = [f"{index_folder}.tmp-{dead}", f"{index_folder}.old-{dead}"]
    live = f"{index_folder}.tmp-{os.getppid()}"
    for name in (*dead_ones, live):
        (root / name).mkdir()
        (root / name / "ids.json").write_bytes(b"[]")
    return dead_ones, live


@pytest.mark.skipif(os.name == "nt", reason="a pid is not checked alive on Windows: every leftover stays")
def test_what_a_killed_process_left_mid_save_goes_at_the_next_open_not_what_a_live_one_writes(store):
    """A kernel killed mid-save left index-N.tmp-<pid> (or index-N.old-<pid>) for good, as big as a snapshot."""
    folder, data, expected = store
    [index_folder] = snapshot_folders(folder)
    _, live = left_mid_save(folder / "snapshots", index_folder)
    with LocalEngine(folder, limits=TINY) as reopened:
        assert snapshot_folders(folder) == sorted([index_folder, live])
        assert answers(reopened, data) == expected


@pytest.mark.skipif(os.name == "nt", reason="a pid is not checked alive on Windows: every leftover stays")
def test_deleting_the_index_removes_what_a_killed_process_left_of_its_snapshot(store):
    folder, _, _ = store
    [index_folder] = snapshot_folders(folder)
    with LocalEngine(folder, limits=TINY) as engine:
        dead_ones, live = left_mid_save(folder / "snapshots", index_folder)
        assert snapshot_folders(folder) == sorted([index_folder, *dead_ones, live])
        engine.delete_index("snap")
    assert snapshot_folders(folder) == [live]


def test_an_ingest_from_empty_saves_snapshots_as_it_grows(tmp_path, rng, monkeypatch):
    folder = tmp_path / "ingest"
    data = rng.standard_normal((100, 4)).astype(np.float32)
    writer = LocalEngine(folder, limits=TINY)
    writer.create_index("snap", dimensions=4, metric="cosine")
    for start in range(0, 100, 10):
        writer.upsert("snap", vectors([f"v{i}" for i in range(start, start + 10)], data[start:start + 10]))
    assert len(snapshot_folders(folder)) == 1  # saved on the way, long before any close
    full_scan = type(writer.store).scan_vectors

    def catch_up_only(self, index_id, since_seq=0):
        assert since_seq > 0, "read every row from SQLite"
        return full_scan(self, index_id, since_seq)

    monkeypatch.setattr(type(writer.store), "scan_vectors", catch_up_only)
    with LocalEngine(folder, limits=TINY) as reopened:  # the writer is left open, as if killed
        got = reopened.query("snap", data[95], QueryOptions(top_k=3))
        assert got[0].id == "v95" and reopened.index_info("snap").vector_count == 100
    writer.close()


def test_a_snapshot_the_disk_cannot_take_does_not_fail_the_read_or_write_that_set_it_off(store, monkeypatch):
    folder, data, expected = store
    shutil.rmtree(folder / "snapshots")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    with LocalEngine(folder, limits=TINY) as engine:
        assert answers(engine, data) == expected  # loading from SQLite tries to save a snapshot
        engine.upsert("snap", vectors([f"w{i}" for i in range(60)], np.ones((60, 4), np.float32)))
    assert list((folder / "snapshots").iterdir()) == []  # no half-written snapshot left
    monkeypatch.undo()
    with LocalEngine(folder, limits=TINY) as reopened:
        assert reopened.index_info("snap").vector_count == 120


def test_a_snapshot_holding_an_array_without_a_value_of_the_index_type_reads_it_as_absent(store, monkeypatch):
    """Earlier versions kept an array holding no value of the index's type (`[]`, `["x"]` under a number index)
    as an array of no elements, which `$eq: null` did not match; such a snapshot now reads it as absent."""
    folder, data, _ = store
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_metadata_index("snap", "tags", "number")
        engine.upsert("snap", vectors(["x"], data[:1], [{"tags": ["x"]}]))
        answers(engine, data)  # loads the resident index, which close() then saves
    [saved] = (folder / "snapshots").iterdir()
    header = orjson.loads((saved / "header.json").read_bytes())
    position = list(header["columns"]).index("tags")
    slot = orjson.loads((saved / "ids.json").read_bytes()).index("x")
    state = np.load(saved / f"state-{position}.npy")
    state[slot] = 2  # MANY, the form an earlier version wrote
    np.save(saved / f"state-{position}.npy", state)
    header["columns"]["tags"]["many"] = {str(slot): []}
    (saved / "header.json").write_bytes(orjson.dumps(header))
    with LocalEngine(folder, limits=TINY) as reopened:
        monkeypatch.setattr(type(reopened.store), "scan_vectors", None)  # a read from SQLite would fail
        found = reopened.query("snap", data[0], QueryOptions(top_k=50, filter={"tags": None}))
        assert [m.id for m in found] == ["x"]
