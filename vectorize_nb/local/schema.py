"""The tables of the engine's database.

    indexes            one row per index ever created; `deleted_on` marks a deleted one
    vectors_<n>        one table per index <n>: the applied vectors (id, namespace, metadata JSON,
                       the slot of its values in the vector file) and the sequence number of the
                       mutation that last wrote the row; rowid order is insertion order
    vector_files       per index, the generation of its vector file, the slots written in it, and how
                       many rows were rewritten or deleted since the holes were last counted
    metadata_indexes   property, type, and the sequence number of the mutation that created it
                       (a vector is in a metadata index when its `seq` is greater)
    mutations          the log: UUID, kind, when created, when due, when applied; what a queued change needs to
                       be applied, and the ids of an index's newest applied deletes (`deleted_ids.py`)
    pending_vectors    the vectors of insert/upsert mutations not applied yet (lag setting)

The database's `user_version` records the folder's format, FORMAT in a folder this version wrote. A folder
written before the number was recorded holds 0: it is read as FORMAT, and marked so once it is opened
where it can be written. A folder of a higher number was written by a newer vectorize-nb, in a layout
this version would misread: it is refused before anything is written to it, as is another program's database
(tables of its own, none of the engine's) and a folder of the first development version, which kept every
index's vectors in one table `vectors` (a layout no release reads or migrates).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..contract import errors

__all__ = ["FORMAT", "SCHEMA", "VECTOR_TABLE", "check_format", "create_tables", "table"]

FORMAT = 2
"""2: the log may hold a delete without its ids (`deleted_ids.py`), which format 1's readers took for a delete of
none, bringing the deleted vectors back."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS indexes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    metric TEXT NOT NULL,
    preset TEXT,
    description TEXT NOT NULL,
    created_on TEXT NOT NULL,
    modified_on TEXT NOT NULL,
    deleted_on TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS indexes_live_name ON indexes(name) WHERE deleted_on IS NULL;
CREATE TABLE IF NOT EXISTS metadata_indexes (
    index_id INTEGER NOT NULL,
    property TEXT NOT NULL,
    type TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (index_id, property)
);
CREATE TABLE IF NOT EXISTS mutations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    index_id INTEGER NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    payload BLOB,
    created_at REAL NOT NULL,
    due_at REAL NOT NULL,
    applied_at REAL
);
CREATE INDEX IF NOT EXISTS mutations_pending ON mutations(applied_at, due_at);
CREATE INDEX IF NOT EXISTS mutations_index ON mutations(index_id, seq);
CREATE INDEX IF NOT EXISTS mutations_deleted_ids ON mutations(index_id, seq) WHERE kind = 'delete'
    AND payload IS NOT NULL;
CREATE TABLE IF NOT EXISTS vector_files (
    index_id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    slots INTEGER NOT NULL,
    pressure INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_vectors (
    seq INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    id TEXT NOT NULL,
    namespace TEXT,
    metadata BLOB,
    vec BLOB NOT NULL,
    PRIMARY KEY (seq, pos)
);
"""

VECTOR_TABLE = """CREATE TABLE {table} (
    id TEXT NOT NULL UNIQUE, namespace TEXT, metadata BLOB, slot INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX {table}_seq ON {table}(seq)"""


def table(index_id: int) -> str:
    """The name of the table of an index's vectors."""
    return f"vectors_{int(index_id)}"


def check_format(con: sqlite3.Connection, folder: Path) -> None:
    """Refuse a folder that a newer vectorize-nb wrote, one of the first development version's layout, or one
    whose database another program wrote (FolderUnusable): the engine would write its tables among that program's."""
    found = int(con.execute("PRAGMA user_version").fetchone()[0])
    if found > FORMAT:
        raise errors.FolderUnusable(
            f"The folder {str(folder)!r} was written by a newer vectorize-nb, in folder format {found}; this "
            f"version reads folder format {FORMAT} and older. Upgrade vectorize-nb (pip install -U vectorize-nb) "
            "to open it")
    tables = [name for name, in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name")]
    if tables and "indexes" not in tables:  # every folder the engine wrote has it, from the first open on
        database = con.execute("PRAGMA database_list").fetchone()[2]
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        raise errors.FolderUnusable(
            f"The folder {str(folder)!r} holds another program's database: {database} has tables of its own "
            f"({shown}) and none of vectorize-nb's. Connect to another folder, or move that file out of this one")
    if "vectors" in tables:  # whatever the format: versions before this check marked such folders 1
        raise errors.FolderUnusable(
            f"The folder {str(folder)!r} was written by an early development version of vectorize-nb, which kept "
            "one table `vectors` for every index: this version does not read that layout. To keep its data, open "
            "the folder with that version, export each index (index.to_frame()) and upsert the frames into a new "
            "folder with this one; or start a new folder")


def create_tables(con: sqlite3.Connection) -> None:
    """Create the tables a folder lacks, and record its format (inside the caller's transaction)."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            con.execute(statement)
    if int(con.execute("PRAGMA user_version").fetchone()[0]) < FORMAT:
        con.execute(f"PRAGMA user_version = {FORMAT}")
