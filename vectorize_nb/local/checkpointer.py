"""The background WAL checkpointer of a store on disk."""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from pathlib import Path

__all__ = ["Checkpointer", "WAL_CHECKPOINT_BYTES"]

WAL_CHECKPOINT_BYTES = 64 << 20
log = logging.getLogger(__name__)


class Checkpointer(threading.Thread):
    """Copies the WAL into the database from a second connection, on another core, so that a
    writer never stops to checkpoint (SQLite's own auto-checkpoint is turned off). It ends when its
    owner (the store) is collected unclosed, as a notebook that runs `vz.connect()` again leaves it."""

    def __init__(self, path: Path, owner: object) -> None:
        super().__init__(name="vectorize-checkpoint", daemon=True)
        self.path = path
        self.wal = path.with_name(path.name + "-wal")
        self._wake = threading.Event()
        self._stopping = False
        weakref.finalize(owner, self.halt)

    def run(self) -> None:
        con = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=60.0)
        try:
            while not self._stopping:
                self._wake.wait()
                self._wake.clear()
                if self.wal_bytes() > WAL_CHECKPOINT_BYTES:
                    self._checkpoint(con)
        finally:
            con.close()

    def _checkpoint(self, con: sqlite3.Connection) -> None:
        """Copy the WAL into the database; one that fails (a full disk) is tried again at the next commit."""
        try:
            con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            log.warning("The write-ahead log of %s could not be copied into its database (%s); nothing is lost, "
                        "and it is tried again after the next write", self.path.parent, exc)

    def wal_bytes(self) -> int:
        try:
            return self.wal.stat().st_size
        except FileNotFoundError:
            return 0

    def nudge(self) -> None:
        self._wake.set()

    def halt(self) -> None:
        """Ask the thread to close its connection and end (what a store collected unclosed does)."""
        self._stopping = True
        self._wake.set()

    def stop(self) -> None:
        self.halt()
        self.join()
