"""SQLite's write-ahead log, switched on for a file that other processes may be opening at once.

SQLite answers `PRAGMA journal_mode=WAL` with "database is locked" at once, without waiting out its
busy timeout, while another connection holds the lock the switch needs: two notebooks that open
one new folder, or one embedding cache, at the same moment.

A folder that cannot take the file's writes (read-only, or its disk full) makes SQLite or the OS refuse
them: `refused` and `full` tell those refusals from other errors, and `read_only` opens such a file for reading.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from pathlib import Path

__all__ = ["write_ahead", "locked", "refused", "full", "read_only"]


def write_ahead(con: sqlite3.Connection, patience: float = 60.0) -> None:
    """Put the database of `con` in WAL mode, trying again for up to `patience` seconds while it is locked."""
    deadline = time.monotonic() + patience
    while True:
        try:
            con.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not locked(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def locked(exc: BaseException) -> bool:
    """Whether SQLite gave up on a lock that another connection holds."""
    return isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc)


def refused(exc: BaseException) -> bool:
    """Whether SQLite or the OS refused to write (or create a file) because the folder or file is read-only."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    text = str(exc)
    return isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "unable to open" in text)


def full(exc: BaseException) -> bool:
    """Whether the OS or SQLite refused a write because the disk is full."""
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC
            or isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc))


def read_only(path: Path, patience: float) -> sqlite3.Connection:
    """A connection that reads the database at `path` without writing anything beside it. SQLite cannot open a file
    in WAL mode read-only without making its -wal and -shm files, which a read-only folder refuses: opened immutable
    it reads the file alone, or, where a -wal file holds writes its writer did not fold in, through those files."""
    wal = path.with_name(path.name + "-wal")
    query = "?mode=ro" if wal.exists() and wal.stat().st_size else "?immutable=1"
    return sqlite3.connect(path.resolve().as_uri() + query, uri=True, isolation_level=None, check_same_thread=False,
                           timeout=patience)
