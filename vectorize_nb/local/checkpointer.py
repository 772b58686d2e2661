"""The background WAL checkpointer of a store on disk."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from pathlib import Path

__all__ = ["Checkpointer", "WAL_CHECKPOINT_BYTES"]

WAL_CHECKPOINT_BYTES = 64 << 20


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
                    con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            con.close()

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
