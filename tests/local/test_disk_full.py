"""A write the disk has no room for says so, writes nothing, and leaves a folder that reopens as it was."""

import errno
import logging
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from vectorize_nb.local import LocalEngine, vectorfile

from ..helpers import TINY, vectors


def full(*args):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_an_upsert_the_disk_has_no_room_for_says_so_and_writes_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "full"
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("docs", dimensions=4, metric="cosine")
        engine.upsert("docs", vectors(["a", "b"], np.eye(2, 4, dtype=np.float32)))
        monkeypatch.setattr(vectorfile, "_pwrite", full)
        with pytest.raises(OSError, match="disk holding .* is full: nothing of this batch was written") as caught:
            engine.upsert("docs", vectors(["c", "a"], np.ones((2, 4), np.float32)))
        assert caught.value.errno == errno.ENOSPC
        monkeypatch.undo()
        assert sorted(r.id for r in engine.get_by_ids("docs", ["a", "b", "c"])) == ["a", "b"]
    script = ("import sys; from vectorize_nb.local import LocalEngine; e = LocalEngine(sys.argv[1]); "
              "print(e.index_info('docs').vector_count, "
              "[float(r.values[0]) for r in e.get_by_ids('docs', ['a', 'c'])])")
    fresh = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, check=True)
    assert fresh.stdout.split() == ["2", "[1.0]"]


class CheckpointOnFullDisk:
    """An engine's connection whose checkpoint meets a full disk, as SQLite reports it."""

    def __init__(self, con):
        self.con = con

    def execute(self, sql, *args):
        if "wal_checkpoint" in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return self.con.execute(sql, *args)

    def close(self):
        self.con.close()


def test_closing_on_a_full_disk_releases_the_folder_logs_why_and_loses_nothing(tmp_path, caplog):
    folder = tmp_path / "full"
    engine = LocalEngine(folder, limits=TINY)
    engine.create_index("docs", dimensions=4, metric="cosine")
    engine.upsert("docs", vectors(["a", "b"], np.eye(2, 4, dtype=np.float32)))
    connection = engine.store._con
    engine.store._con = CheckpointOnFullDisk(connection)
    with caplog.at_level(logging.WARNING, logger="vectorize_nb"):
        engine.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connection.execute("SELECT 1")
    assert [r.getMessage() for r in caplog.records if "write-ahead log was not copied" in r.getMessage()]
    assert "Nothing is lost" in caplog.text and str(folder) in caplog.text
    engine.close()  # a second close does nothing
    with LocalEngine(folder, limits=TINY) as reopened:
        assert sorted(r.id for r in reopened.get_by_ids("docs", ["a", "b"])) == ["a", "b"]


def test_a_second_close_does_nothing(tmp_path):
    engine = LocalEngine(tmp_path / "twice", limits=TINY)
    engine.create_index("docs", dimensions=4, metric="cosine")
    engine.close()
    engine.close()


def test_a_checkpoint_the_disk_has_no_room_for_is_logged_and_the_next_one_runs(tmp_path, monkeypatch, caplog):
    from vectorize_nb.local import checkpointer

    real = sqlite3.connect
    failures = [1]
    checkpoints = []

    class Flaky:
        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            if "wal_checkpoint" in sql:
                checkpoints.append(sql)
                if failures:
                    failures.pop()
                    raise sqlite3.OperationalError("database or disk is full")
            return self.con.execute(sql, *args)

        def close(self):
            self.con.close()

    def connect(*args, **kwargs):  # the checkpointer's connection only
        con = real(*args, **kwargs)
        return Flaky(con) if checkpointer.threading.current_thread().name == "vectorize-checkpoint" else con

    monkeypatch.setattr(sqlite3, "connect", connect)
    monkeypatch.setattr(checkpointer.Checkpointer, "wal_bytes", lambda self: checkpointer.WAL_CHECKPOINT_BYTES + 1)
    uncaught = []
    monkeypatch.setattr(checkpointer.threading, "excepthook", uncaught.append)
    with caplog.at_level(logging.WARNING, logger="vectorize_nb"), LocalEngine(tmp_path / "f", limits=TINY) as engine:
        engine.create_index("docs", dimensions=4, metric="cosine")  # a commit: the checkpointer wakes, and fails
        worker = engine.store._checkpointer
        for _ in range(200):
            if checkpoints:
                break
            worker.join(0.01)
        engine.upsert("docs", vectors(["a"], np.eye(1, 4, dtype=np.float32)))  # wakes it again
        for _ in range(200):
            if len(checkpoints) >= 2:
                break
            worker.join(0.01)
        assert worker.is_alive() and len(checkpoints) >= 2
    assert uncaught == [] and "disk is full" in caplog.text and str(tmp_path / "f") in caplog.text
