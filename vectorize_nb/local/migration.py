"""Opening a folder written before vector files: an index's vectors move out of SQLite, where each row
kept its values as a float32 blob, into the index's vector file, in insertion order."""

from __future__ import annotations

import sqlite3

from .vectorfile import VectorFile

__all__ = ["holds_blobs", "move_blobs"]

ROWS = 8192


def holds_blobs(con: sqlite3.Connection, table: str) -> bool:
    """Whether an index's table still has the column of float32 blobs."""
    return "vec" in {row[1] for row in con.execute(f"PRAGMA table_info({table})").fetchall()}


def move_blobs(con: sqlite3.Connection, table: str, schema: str, file: VectorFile) -> int:
    """Rebuild `table` with `schema` (a slot in place of the blob) and write the blobs to `file`, slot i
    being the i-th row in insertion order; the number of slots written."""
    con.execute(f"DROP INDEX IF EXISTS {table}_seq")
    con.execute(f"ALTER TABLE {table} RENAME TO {table}_blobs")
    for statement in schema.split(";"):
        con.execute(statement)
    con.execute(f"INSERT INTO {table} (id, namespace, metadata, slot, seq) SELECT id, namespace, metadata, "
                f"row_number() OVER (ORDER BY rowid) - 1, seq FROM {table}_blobs ORDER BY rowid")
    cursor, slots = con.execute(f"SELECT vec FROM {table}_blobs ORDER BY rowid"), 0
    while rows := cursor.fetchmany(ROWS):
        file.write_bytes(slots, b"".join(row[0] for row in rows))
        slots += len(rows)
    con.execute(f"DROP TABLE {table}_blobs")
    return slots
