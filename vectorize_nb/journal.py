"""SQLite's write-ahead log, switched on for a file that other processes may be opening at once.

SQLite answers `PRAGMA journal_mode=WAL` with "database is locked" at once, without waiting out its
busy timeout, while another connection holds the lock the switch needs: two notebooks that open
one new folder, or one embedding cache, at the same moment.
"""

from __future__ import annotations

import sqlite3
import time

__all__ = ["write_ahead"]


def write_ahead(con: sqlite3.Connection, patience: float = 60.0) -> None:
    """Put the database of `con` in WAL mode, trying again for up to `patience` seconds while it is locked."""
    deadline = time.monotonic() + patience
    while True:
        try:
            con.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
