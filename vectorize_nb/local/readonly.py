"""Opening a folder this user may only read: a dataset shipped with `chmod -R a-w`, or on a read-only mount.

SQLite cannot open a database in WAL mode read-only without creating its -wal and -shm files beside
it, which a read-only folder refuses; opened immutable it reads the database file alone. A folder
left with writes still in its -wal file (its writer did not close) is read through those files
when they are there, else refused: read immutable, it would silently miss those writes. With those files
there, SQLite opens a database it may not write for reading without a word, so `writable` asks the system
first.

A disk that is full refuses writes too, and so does a folder another writer keeps locked too long:
`disk_full` and `locked` word what that means for the write.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from .. import journal
from ..journal import full, refused

__all__ = ["ReadOnlyFolder", "FolderLocked", "refused", "writable", "open_read_only", "write_refused", "disk_full",
           "locked", "LOCK_PATIENCE"]

LOCK_PATIENCE = 60.0
"""Seconds a write waits for the write lock that another connection holds (another notebook or server writing
the folder, or a long ingest) before it gives up."""


class ReadOnlyFolder(PermissionError):
    """A write to a folder opened for reading only, or a read-only folder that cannot be read."""


class FolderLocked(TimeoutError):
    """A write that waited `patience` seconds for the write lock another connection held; nothing was written."""

    retryable = True  # once that writer is done: what a write that stopped half-way tells of its rest

    def __init__(self, message: str, patience: float) -> None:
        super().__init__(message)
        self.patience = patience


def write_refused(folder: Path) -> ReadOnlyFolder:
    return ReadOnlyFolder(
        f"The folder {str(folder)!r} is read-only: it is open for reading (queries, get_by_ids, to_frame), "
        "and nothing was written. To change it, copy the folder somewhere you can write and connect there")


def writable(path: Path) -> bool:
    """Whether this user may write the database at `path` (or make it, where it is not there yet)."""
    return not path.exists() or os.access(path, os.W_OK)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that reads the database at `path` without writing anything beside it."""
    if not path.exists() or not path.stat().st_size:
        raise ReadOnlyFolder(f"The folder {str(path.parent)!r} is read-only and holds no database: "
                             "connect to a folder you can write to")
    con = journal.read_only(path, LOCK_PATIENCE)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        con.close()
        raise ReadOnlyFolder(f"The folder {str(path.parent)!r} is read-only and its last writer did "
                             "not close it: its latest writes cannot be read here. Open it once where it can be "
                             f"written, or copy it ({exc})") from exc
    return con


def disk_full(exc: BaseException, folder: Path) -> OSError | None:
    """The error to raise for a write that `exc` (the OS's or SQLite's) says the disk had no room for, once
    its transaction is rolled back; None for any other error."""
    if not full(exc):
        return None
    return OSError(errno.ENOSPC, f"The disk holding {str(folder)!r} is full: nothing of this batch was written "
                   "(the folder holds what it held before it). Free some space and try again")


def locked(exc: BaseException, folder: Path, patience: float, opening: bool = False) -> FolderLocked | None:
    """The error to raise for a transaction that could not take the folder's write lock in `patience` seconds
    (`opening`: the one that opens the folder, which writes no batch); None for any other error."""
    if not (journal.locked(exc) or opening and isinstance(exc, FolderLocked)):
        return None
    outcome = "the folder could not be opened" if opening else "nothing of this batch was written"
    return FolderLocked(f"The folder {str(folder)!r} stayed locked by another writer (another notebook, process or "
                        f"server writing it) for {patience:g} s: {outcome}. Try again once that writer is done",
                        patience)
