"""Switching SQLite to its write-ahead log while another connection holds the lock the switch needs."""

import sqlite3
import threading

import pytest

from vectorize_nb.journal import write_ahead


def test_the_switch_waits_for_a_lock_that_sqlite_would_not_wait_for(tmp_path):
    holder = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    switcher = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        switcher.execute("PRAGMA journal_mode = WAL")  # what SQLite itself answers
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    write_ahead(switcher, patience=10)
    release.join()
    assert switcher.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    holder.close()
    switcher.close()


def test_a_lock_held_past_the_patience_is_the_error_sqlite_gives(tmp_path):
    holder = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    switcher = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        write_ahead(switcher, patience=0.1)
    holder.close()
    switcher.close()
