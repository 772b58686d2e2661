"""The engine's folder before SQLite reads it: made where none is (with a .gitignore), and its database opened,
a FolderUnusable where SQLite cannot open it (a folder of that name, a file this user may not read, a path past
its length) or where it is a link to another folder's."""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path

from ..contract import errors
from . import damage

__all__ = ["make_folder", "open_database", "GITIGNORE", "MAX_DATABASE_PATH"]

GITIGNORE = "# Created by vectorize-nb: the engine's data stays out of git. Delete this file to commit it.\n*\n"


MAX_DATABASE_PATH = 504
"""The bytes of the longest database path SQLite opens: its limit of 512, less 8 kept for a "-journal" suffix."""


def make_folder(database: Path) -> None:
    """The folder of `database`, made if it is not there, with a .gitignore (as pytest's cache and uv's .venv have):
    a folder of databases, often gigabytes, is not committed by a `git add .` in a notebook's repository. A path
    SQLite could not open is refused before any folder is made."""
    folder, length = database.parent, len(os.fsencode(database))
    if length > MAX_DATABASE_PATH:
        raise errors.FolderUnusable(f"The folder {str(folder)!r} cannot be used: the path of its database {database} "
                                    f"is {length} bytes long, past the {MAX_DATABASE_PATH} bytes SQLite opens. "
                                    "Connect to a folder of a shorter path")
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        if folder.is_dir():
            return
        raise damage.not_a_folder(folder) from None
    except NotADirectoryError:
        raise damage.not_a_folder(folder) from None
    with suppress(OSError):  # only a convenience: a disk too full for it fails at the database next
        (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")


def open_database(database: Path | None, patience: float) -> sqlite3.Connection:
    """A connection to the database at `database` (None: in memory), whose statements wait up to `patience`
    seconds for a lock another connection holds."""
    if database is not None and database.is_symlink():
        raise damage.linked_database(database)
    try:
        return sqlite3.connect(":memory:" if database is None else str(database), isolation_level=None,
                               check_same_thread=False, timeout=patience)
    except sqlite3.OperationalError as exc:
        if database is None:
            raise
        raise damage.unopenable(database, exc) from exc
