"""The durable store: one SQLite database (WAL mode) per local account folder, or in memory.

The tables are defined in `schema.py`. The vector values live in one file per index (`vectorfile.py`), not
in SQLite: SQLite holds each row's slot, and the file is appended to, never rewritten in place, so the
folder holds one copy of every vector. Every public write runs inside `transaction()`: vectors are
appended past the recorded end and synced before the transaction that records them commits, so a batch
is wholly in or wholly out even when the process dies half-way. The engine decides what to write.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..contract.models import MutationState, WriteKind
from ..journal import write_ahead
from . import damage, migration
from .checkpointer import WAL_CHECKPOINT_BYTES, Checkpointer
from .deleted_ids import DeletedIds, let_go
from .folder import make_folder, open_database
from .readonly import (LOCK_PATIENCE, ReadOnlyFolder, disk_full, locked, open_read_only, refused, writable,
                       write_refused)
from .rows import IndexRow, MutationRow, VectorRow, columns
from .schema import VECTOR_TABLE, check_format, create_tables, table as _table
from .vectorfile import VectorFile, VectorFiles, moves

__all__ = ["Store", "IndexRow", "MutationRow", "VectorRow", "DATABASE_NAME", "VECTORS_FOLDER"]

DATABASE_NAME = "vectorize.sqlite3"
VECTORS_FOLDER = "vectors"
HOLES_SHARE = 0.1
"""Compaction starts when holes pass this share of a vector file's slots (and MIN_HOLES)."""
MIN_HOLES = 4096
FETCH_ROWS = 8192
_MAX_SQL_VARIABLES = 900
log = logging.getLogger(__name__)

_INDEX = columns(IndexRow)
_MUTATION = columns(MutationRow)
_UPSERT = """INSERT INTO {table} (id, namespace, metadata, slot, seq) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, metadata = excluded.metadata,
slot = excluded.slot, seq = excluded.seq"""
_INSERT = "INSERT INTO {table} (id, namespace, metadata, slot, seq) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"


class Store:
    """SQLite access for the engine. Thread-safe: one connection, used under a lock."""

    def __init__(self, folder: str | Path | None, lock_patience: float = LOCK_PATIENCE) -> None:
        self.path = None if folder is None else Path(folder) / DATABASE_NAME
        self._patience = lock_patience
        self._files = VectorFiles(None if self.path is None else self.path.parent / VECTORS_FOLDER)
        if self.path is not None:
            make_folder(self.path)
            orphaned = damage.orphaned_vectors(self.path, self.path.parent / VECTORS_FOLDER, self._files.held())
            if orphaned is not None:  # before SQLite makes a new database there
                raise orphaned
        self._lock = threading.RLock()
        self._con = open_database(self.path, lock_patience)
        self._checkpointer: Checkpointer | None = None
        self._deleted = DeletedIds()
        self.read_only = False
        """Whether the folder was opened for reading only (this user may not write it): writes raise ReadOnlyFolder."""
        try:
            self._open()
        except BaseException as exc:
            self.close()
            found = None if self.path is None else (damage.damaged_database(exc, self.path.parent)
                                                    or locked(exc, self.path.parent, self._patience, opening=True))
            if found is not None:
                raise found from exc
            raise

    def _open(self) -> None:
        if self.path is not None and not writable(self.path):
            self._reopen_read_only(self.path)
            return
        try:
            self._configure()
        except sqlite3.OperationalError as exc:
            if self.path is None or not refused(exc):
                raise
            self._reopen_read_only(self.path)

    def _reopen_read_only(self, path: Path) -> None:
        self._con.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self._con, self.read_only = open_read_only(path), True
        check_format(self._con, path.parent)
        if any(migration.holds_blobs(self._con, _table(index_id)) for index_id, in
               self._con.execute("SELECT id FROM indexes WHERE deleted_on IS NULL").fetchall()):
            raise ReadOnlyFolder(f"The folder {str(path.parent)!r} is read-only and was written by an older "
                                 "version: open it once where it can be written, to bring it up to date")

    def _configure(self) -> None:
        con = self._con
        if self.path is not None:  # before anything is written
            check_format(con, self.path.parent)
        con.execute("PRAGMA page_size = 65536")  # only takes effect on a new database
        if self.path is not None:
            write_ahead(con, self._patience)
            con.execute("PRAGMA wal_autocheckpoint = 0")
            con.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_BYTES}")
            self._checkpointer = Checkpointer(self.path, owner=self)
            self._checkpointer.start()
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA cache_size = -65536")
        self._wait_for_locks(self._patience)
        with self.transaction():
            create_tables(con)
            let_go(con)  # of a folder an older version wrote, which kept every delete's ids
            migrated = [self._migrate(index_id, dimensions) for index_id, dimensions in
                        con.execute("SELECT id, dimensions FROM indexes WHERE deleted_on IS NULL").fetchall()]
            self._files.prune(dict(con.execute("SELECT index_id, generation FROM vector_files").fetchall()))
        if any(migrated):
            with suppress(sqlite3.OperationalError):  # another connection reads: keep the space
                con.execute("VACUUM")  # give back the space of the vectors that moved out

    def close(self) -> None:
        """Release the database and the vector files (a second close does nothing). The writes in the WAL
        are copied into the database first, as far as other connections' reads allow without waiting for
        them; where that fails (a full disk) it is logged. What is not copied stays in the WAL, which the
        next open of the folder reads: nothing is lost."""
        with self._lock:
            checkpointer, self._checkpointer = self._checkpointer, None
            try:
                if checkpointer is not None:
                    checkpointer.stop()
                    self._wait_for_locks(0)  # else it waits out every reader's transaction
                    self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except sqlite3.Error as exc:
                log.warning("Closing %s: its write-ahead log was not copied into the database (%s). Nothing is "
                            "lost: the next open of the folder reads it", self.path and self.path.parent, exc)
            finally:
                self._con.close()
                self._files.close()

    @contextmanager
    def transaction(self, wait: bool = True) -> Iterator[None]:
        """One write transaction, taken with the write lock up front (BEGIN IMMEDIATE); without `wait`, a lock
        another connection holds is FolderLocked at once rather than after the store's patience."""
        with self._lock:
            if self.read_only:
                raise write_refused(self.path.parent if self.path else Path())
            if self._con.in_transaction:
                yield
                return
            try:
                self._begin(wait)
            except sqlite3.OperationalError as exc:
                busy = None if self.path is None else locked(exc, self.path.parent, self._patience if wait else 0)
                if busy is not None:
                    raise busy from None
                raise
            try:
                yield
                self._files.sync()
                self._con.execute("COMMIT")
            except BaseException as exc:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                self._files.settle(committed=False)
                full = None if self.path is None else disk_full(exc, self.path.parent)
                if full is not None:
                    raise full from exc
                raise
            self._files.settle(committed=True)
            self._after_commit()

    def _begin(self, wait: bool) -> None:
        if not wait:
            self._wait_for_locks(0)
        try:
            self._con.execute("BEGIN IMMEDIATE")
        finally:
            if not wait:
                self._wait_for_locks(self._patience)

    def _wait_for_locks(self, seconds: float) -> None:
        """How long a statement waits for a lock another connection holds (SQLite's busy timeout)."""
        self._con.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def _after_commit(self) -> None:
        checkpointer = self._checkpointer
        if checkpointer is None:
            return
        checkpointer.nudge()
        if checkpointer.wal_bytes() > 8 * WAL_CHECKPOINT_BYTES:  # the checkpointer fell behind: help it
            self._con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A read transaction: every read inside sees the same committed state."""
        with self._lock:
            if self._con.in_transaction:
                yield
                return
            self._con.execute("BEGIN")
            try:
                yield
            finally:
                self._con.execute("COMMIT")

    def data_version(self) -> int:
        """Changes whenever another connection commits (PRAGMA data_version)."""
        with self._lock:
            return int(self._con.execute("PRAGMA data_version").fetchone()[0])

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._con.execute(sql, params).fetchone()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._con.execute(sql, params)

    # --- indexes -------------------------------------------------------------------------------

    def create_index(self, name: str, dimensions: int, metric: str, preset: str | None,
                     description: str, created_on: str) -> IndexRow:
        cur = self._run(
            "INSERT INTO indexes (name, dimensions, metric, preset, description, created_on, modified_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (name, dimensions, metric, preset, description, created_on, created_on))
        for statement in VECTOR_TABLE.format(table=_table(cur.lastrowid or 0)).split(";"):
            self._run(statement)
        self._start_vector_file(cur.lastrowid or 0, dimensions)
        return IndexRow(cur.lastrowid or 0, name, dimensions, metric, preset, description, created_on,
                        created_on, None)

    def latest_index(self, name: str) -> IndexRow | None:
        """The live index of that name, else the most recently deleted one, else None."""
        row = self._one(f"SELECT {_INDEX} FROM indexes WHERE name = ? ORDER BY deleted_on IS NOT NULL, id DESC LIMIT 1",
                        (name,))
        return None if row is None else IndexRow(*row)

    def live_indexes(self) -> list[IndexRow]:
        rows = self._all(f"SELECT {_INDEX} FROM indexes WHERE deleted_on IS NULL ORDER BY id")
        return [IndexRow(*row) for row in rows]

    def delete_index(self, index_id: int, deleted_on: str) -> None:
        """Mark the index deleted and drop everything it held (inside the caller's transaction)."""
        self._run("UPDATE indexes SET deleted_on = ? WHERE id = ?", (deleted_on, index_id))
        self._run(f"DROP TABLE {_table(index_id)}")
        self._run("DELETE FROM metadata_indexes WHERE index_id = ?", (index_id,))
        self._run("DELETE FROM pending_vectors WHERE seq IN (SELECT seq FROM mutations WHERE index_id = ?)",
                  (index_id,))
        self._run("UPDATE mutations SET payload = NULL, applied_at = coalesce(applied_at, due_at) WHERE index_id = ?",
                  (index_id,))
        self._run("DELETE FROM vector_files WHERE index_id = ?", (index_id,))
        self._files.replaced(index_id)

    # --- the mutation log ----------------------------------------------------------------------

    def log_mutation(self, index_id: int, uuid: str, kind: str, count: int, payload: bytes | None,
                     created_at: float, due_at: float, applied_at: float | None) -> int:
        cur = self._run(
            "INSERT INTO mutations (index_id, uuid, kind, count, payload, created_at, due_at, applied_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (index_id, uuid, kind, count, payload, created_at, due_at, applied_at))
        return cur.lastrowid or 0

    def deleted_ids(self, index_id: int, count: int) -> None:
        """Count a delete of `count` ids (inside its transaction): the log keeps only the newest deletes' ids
        (`deleted_ids.py`)."""
        with self._lock:
            self._deleted.deleted(self._con, index_id, count)

    def mark_applied(self, seq: int, applied_at: float) -> None:
        self._run("UPDATE mutations SET applied_at = ? WHERE seq = ?", (applied_at, seq))

    def last_applied(self, index_id: int) -> MutationRow | None:
        row = self._one(f"SELECT {_MUTATION} FROM mutations WHERE index_id = ? AND applied_at IS NOT NULL "
                        "ORDER BY seq DESC LIMIT 1", (index_id,))
        return None if row is None else MutationRow(*row)

    def applied_since(self, index_id: int, seq: int) -> list[MutationRow]:
        return [MutationRow(*row) for row in self._all(
            f"SELECT {_MUTATION} FROM mutations WHERE index_id = ? AND seq > ? AND applied_at IS NOT NULL ORDER BY seq",
            (index_id, seq))]

    def pending(self, index_id: int | None = None, due_by: float | None = None) -> list[MutationRow]:
        """Mutations not applied yet, oldest first; only those due by `due_by` when given."""
        sql = f"SELECT {_MUTATION} FROM mutations WHERE applied_at IS NULL"
        params: list[Any] = []
        if index_id is not None:
            sql += " AND index_id = ?"
            params.append(index_id)
        if due_by is not None:
            sql += " AND (due_at <= ? OR due_at >= 9e999)"  # infinity: an older version took apply_delay=inf
            params.append(due_by)
        return [MutationRow(*row) for row in self._all(sql + " ORDER BY seq", params)]

    def mutation_state(self, index_id: int, uuid: str) -> MutationState:
        row = self._one("SELECT applied_at FROM mutations WHERE uuid = ? AND index_id = ?", (uuid, index_id))
        return "unknown" if row is None else "pending" if row[0] is None else "applied"

    def mutation(self, seq: int) -> MutationRow | None:
        row = self._one(f"SELECT {_MUTATION} FROM mutations WHERE seq = ?", (seq,))
        return None if row is None else MutationRow(*row)

    def mutation_log(self, index_id: int) -> list[MutationRow]:
        return [MutationRow(*row) for row in self._all(
            f"SELECT {_MUTATION} FROM mutations WHERE index_id = ? ORDER BY seq", (index_id,))]

    # --- vectors -------------------------------------------------------------------------------

    def write_vectors(self, index_id: int, ids: list[str], namespaces: Sequence[str | None],
                      metadata: Sequence[bytes | None], values: np.ndarray, seq: int, kind: WriteKind) -> None:
        """Upsert (or insert-if-new) rows: the values (one float32 row per id) go to the end of the vector
        file in one write, and the rows record their slots there."""
        sql = (_INSERT if kind == "insert" else _UPSERT).format(table=_table(index_id))
        with self._lock:
            file = self.vector_file(index_id)
            _, start = self.vector_extent(index_id)
            # a generator: a batch's records never all exist at once, so a write does not set off the garbage
            # collector's full passes (costly when the caller holds millions of objects)
            self._con.executemany(sql, zip(ids, namespaces, metadata, range(start, start + len(ids)),
                                           itertools.repeat(seq)))
            file.write(start, np.ascontiguousarray(values, dtype=np.float32))
            self._files.written(file)
            self._run("UPDATE vector_files SET slots = slots + ?, pressure = pressure + ? WHERE index_id = ?",
                      (len(ids), 0 if kind == "insert" else len(ids), index_id))
            file.note_append(ids, start)

    def stage_vectors(self, seq: int, rows: Iterable[tuple[str, str | None, bytes | None, bytes | memoryview]]) -> None:
        with self._lock:
            self._con.executemany(
                "INSERT INTO pending_vectors (seq, pos, id, namespace, metadata, vec) VALUES (?, ?, ?, ?, ?, ?)",
                ((seq, pos, *row) for pos, row in enumerate(rows)))

    def staged_vectors(self, seq: int) -> list[tuple[str, str | None, bytes | None, bytes]]:
        return [tuple(row) for row in self._all(
            "SELECT id, namespace, metadata, vec FROM pending_vectors WHERE seq = ? ORDER BY pos", (seq,))]

    def drop_staged(self, seq: int) -> None:
        self._run("DELETE FROM pending_vectors WHERE seq = ?", (seq,))

    def delete_vectors(self, index_id: int, ids: Sequence[str]) -> None:
        with self._lock:
            deleted = self._con.executemany(f"DELETE FROM {_table(index_id)} WHERE id = ?", [(vid,) for vid in ids])
            self._run("UPDATE vector_files SET pressure = pressure + ? WHERE index_id = ?",
                      (deleted.rowcount, index_id))

    def _rows_for_ids(self, columns: str, index_id: int, ids: Sequence[str]) -> Iterator[Any]:
        for start in range(0, len(ids), _MAX_SQL_VARIABLES):
            chunk = list(ids[start:start + _MAX_SQL_VARIABLES])
            marks = ",".join("?" * len(chunk))
            yield from self._all(f"SELECT {columns} FROM {_table(index_id)} WHERE id IN ({marks})", chunk)

    def existing_ids(self, index_id: int, ids: Sequence[str]) -> set[str]:
        return {row[0] for row in self._rows_for_ids("id", index_id, ids)}

    def fetch_vectors(self, index_id: int, ids: Sequence[str]) -> dict[str, VectorRow]:
        with self.reading():
            rows = list(self._rows_for_ids("id, namespace, metadata, slot, seq", index_id, ids))
            if not rows:
                return {}
            values = self.vector_file(index_id).rows(self.vector_extent(index_id)[1])[[row[3] for row in rows]]
        return {row[0]: VectorRow(row[0], row[1], row[2], vec.tobytes(), row[4]) for row, vec in zip(rows, values)}

    def export_vectors(self, index_id: int, values: bool) -> tuple[list[str], list[str | None], list[bytes | None],
                                                                   np.ndarray | None]:
        """Every row's id, namespace and metadata JSON in insertion order and, with `values`, their vectors as
        one float32 matrix, read in one read transaction, a slice of rows at a time."""
        columns: tuple[list[Any], ...] = ([], [], [], [])
        with self.reading():
            for rows in self.scan_vectors(index_id, columns="id, namespace, metadata, slot"):
                for column, part in zip(columns, zip(*rows)):
                    column += part
            ids, namespaces, metadata, slots = columns
            if not values:
                return ids, namespaces, metadata, None
            matrix = self.vector_file(index_id).take(np.asarray(slots, np.int64), self.vector_extent(index_id)[1])
        return ids, namespaces, metadata, matrix

    def count_vectors(self, index_id: int) -> int:
        return int(self._one(f"SELECT count(*) FROM {_table(index_id)}")[0])

    def list_ids(self, index_id: int) -> list[str]:
        """Every id of the index in insertion order."""
        return [row[0] for row in self._all(f"SELECT id FROM {_table(index_id)} ORDER BY rowid")]

    def scan_vectors(self, index_id: int, since_seq: int = 0,
                     columns: str = "id, namespace, metadata, slot, seq") -> Iterator[list[tuple[Any, ...]]]:
        """Rows (of `columns`) written after `since_seq`, in chunks, in insertion order."""
        sql = f"SELECT {columns} FROM {_table(index_id)} WHERE seq > ? ORDER BY rowid"
        if not since_seq:  # a plain scan, in rowid order, with no sort
            sql = f"SELECT {columns} FROM {_table(index_id)} ORDER BY rowid"
        with self._lock:
            cursor = self._con.execute(sql, (since_seq,) if since_seq else ())
            rows = cursor.fetchmany(FETCH_ROWS)
        while rows:
            yield rows
            with self._lock:
                rows = cursor.fetchmany(FETCH_ROWS)

    # --- metadata indexes ----------------------------------------------------------------------

    def metadata_indexes(self, index_id: int) -> list[tuple[str, str, int]]:
        return [tuple(row) for row in self._all(
            "SELECT property, type, seq FROM metadata_indexes WHERE index_id = ? ORDER BY seq", (index_id,))]

    def add_metadata_index(self, index_id: int, property_name: str, index_type: str, seq: int) -> None:
        self._run("INSERT INTO metadata_indexes (index_id, property, type, seq) VALUES (?, ?, ?, ?)",
                  (index_id, property_name, index_type, seq))

    def drop_metadata_index(self, index_id: int, property_name: str) -> None:
        self._run("DELETE FROM metadata_indexes WHERE index_id = ? AND property = ?", (index_id, property_name))

    # --- vector files --------------------------------------------------------------------------

    def vector_extent(self, index_id: int) -> tuple[int, int]:
        """(generation, slots) of an index's vector file: which file, and how many slots it has."""
        row = self._one("SELECT generation, slots FROM vector_files WHERE index_id = ?", (index_id,))
        if row is None:
            raise LookupError(f"index {index_id} has no vector file")
        return row[0], row[1]

    def vector_file(self, index_id: int) -> VectorFile:
        """The current generation of an index's vector file (FileNotFoundError when another process
        compacted it away after this connection's read began: a new read sees the next one)."""
        generation, _ = self.vector_extent(index_id)
        file = self._files.get(index_id, generation)
        if file is None:
            dimensions = self._one("SELECT dimensions FROM indexes WHERE id = ?", (index_id,))[0]
            file = self._files.open(index_id, generation, dimensions)
        return file

    def vector_paths(self, index_id: int) -> tuple[Path, ...]:
        """The files of the current generation of an index's vectors (none in memory)."""
        return self._files.paths(index_id, self.vector_extent(index_id)[0])

    def _start_vector_file(self, index_id: int, dimensions: int) -> VectorFile:
        self._run("INSERT OR REPLACE INTO vector_files (index_id, generation, slots, pressure) VALUES (?, 0, 0, 0)",
                  (index_id,))
        self._files.created(index_id, 0)
        return self._files.open(index_id, 0, dimensions, create=True)

    def compaction_due(self, index_id: int) -> bool:
        """Whether enough rows were rewritten or deleted since the holes were counted that they may pass
        HOLES_SHARE of the slots (a cheap look, before `compact` counts them)."""
        row = self._one("SELECT slots, pressure FROM vector_files WHERE index_id = ?", (index_id,))
        return row is not None and row[1] >= max(row[0] * HOLES_SHARE, MIN_HOLES)

    def compact(self, index_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Inside a write transaction: when holes pass HOLES_SHARE of the slots, write the next generation
        of the vector file with the last rows moved into the holes. Returns the moves (from slots, to
        slots), or None when the holes were too few."""
        generation, slots = self.vector_extent(index_id)
        table = _table(index_id)
        live = self._one(f"SELECT count(*) FROM {table}")[0]
        if slots - live < max(slots * HOLES_SHARE, MIN_HOLES):
            self._run("UPDATE vector_files SET pressure = ? WHERE index_id = ?", (slots - live, index_id))
            return None
        with self._lock:
            cursor = self._con.execute(f"SELECT rowid, slot FROM {table}")
            records = np.fromiter(itertools.chain.from_iterable(cursor), dtype=np.int64, count=2 * live)
        rowids, sources, targets = moves(records.reshape(-1, 2), live)
        old = self.vector_file(index_id)
        self._files.created(index_id, generation + 1)
        new = self._files.open(index_id, generation + 1, old.dimensions, create=True)
        old.copy_into(new, live, sources, targets)
        self._files.written(new)
        with self._lock:
            self._con.executemany(f"UPDATE {table} SET slot = ? WHERE rowid = ?",
                                  zip(targets.tolist(), rowids.tolist()))
        self._run("UPDATE vector_files SET generation = ?, slots = ?, pressure = 0 WHERE index_id = ?",
                  (generation + 1, live, index_id))
        self._files.replaced(index_id, generation)
        return sources, targets

    def _migrate(self, index_id: int, dimensions: int) -> bool:
        """Move the vectors of a store written before vector files (float32 blobs in SQLite) into one."""
        table = _table(index_id)
        if not migration.holds_blobs(self._con, table):
            return False
        file = self._start_vector_file(index_id, dimensions)
        slots = migration.move_blobs(self._con, table, VECTOR_TABLE.format(table=table), file)
        self._files.written(file)
        self._con.execute("UPDATE vector_files SET slots = ? WHERE index_id = ?", (slots, index_id))
        return True
