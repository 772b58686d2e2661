"""A folder that is not what the engine expects: a file where the folder should be, a database that is not one (written
over, or cut short), that SQLite cannot open (a folder of that name, another user's file), moved or deleted while
open, or that is missing or empty beside the indexes' vector files, an index's vector file missing or cut short.
Each is FolderUnusable, naming the folder (or the index and its file), what is wrong in the user's terms, and what
to do; the engine writes nothing over such a folder.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..contract import errors
from .vectorfile import ShortFile

__all__ = ["not_a_folder", "damage_met", "damaged_database", "unopenable", "linked_database", "orphaned_vectors",
           "damaged_vectors"]

_DAMAGED = (11, 26)
"""SQLite's primary result codes for a database file it cannot read (SQLITE_CORRUPT, SQLITE_NOTADB)."""
_RESTORE = "Restore the folder from a copy, or connect to another folder"


def not_a_folder(folder: Path) -> errors.FolderUnusable:
    return errors.FolderUnusable(f"{str(folder)!r} is not a folder: it, or a folder above it, is a file. The engine "
                                 "keeps its data in a folder: connect to one (a new one is made where none is)")


def damage_met(exc: BaseException, folder: Path | None,
               index: tuple[str, Callable[[], tuple[Path, ...]]] | None) -> errors.FolderUnusable | None:
    """The damage to `folder` (None: in memory, which has none) that `exc` stands for, met by a call on `index`
    (its name and its vector files' paths; None: a call on the folder); None for other errors."""
    if folder is None:
        return None
    if isinstance(exc, FileNotFoundError) and not folder.is_dir():
        return errors.FolderUnusable(f"The folder {str(folder)!r} is gone: it was moved or deleted while this client "
                                     "had it open. Connect to it where it is now, or to another folder")
    found = None if index is None else damaged_vectors(exc, folder, *index)
    return found if found is not None else damaged_database(exc, folder)


def damaged_database(exc: BaseException, folder: Path) -> errors.FolderUnusable | None:
    """The error that SQLite's `exc` stands for when it could not read the folder's database, or the system's
    when a folder in it is a file; None for another."""
    if isinstance(exc, NotADirectoryError) and exc.filename:
        return errors.FolderUnusable(f"The folder {str(folder)!r} is damaged: {Path(exc.filename).parent} is a file, "
                                     f"not a folder. {_RESTORE}")
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.OperationalError):
        return None
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _DAMAGED:
        return None
    return errors.FolderUnusable(f"The folder {str(folder)!r} is damaged: its database cannot be read ({exc}); it "
                                 f"was cut short or written over. {_RESTORE}")


def unopenable(database: Path, exc: sqlite3.OperationalError) -> errors.FolderUnusable:
    """The error for a database that SQLite (`exc`) cannot open at all."""
    if database.is_dir():
        why, advice = "it is a folder, not a database file", "Move that folder away"
    elif database.exists() and not os.access(database, os.R_OK):
        why, advice = "this user may not read it", "Ask its owner for access"
    else:
        why, advice = str(exc), "Check the folder"
    return errors.FolderUnusable(f"The folder {str(database.parent)!r} cannot be used: its database {database} "
                                 f"cannot be opened ({why}). {advice}, or connect to another folder")


def linked_database(database: Path) -> errors.FolderUnusable:
    """The error for a database that is a link: SQLite would follow it, while the engine keeps the indexes' vectors
    beside the link, so the rows of an index made there would go to one folder and its vectors to another."""
    real = database.resolve().parent
    return errors.FolderUnusable(f"The folder {str(database.parent)!r} cannot be used: its database {database} is a "
                                 f"link to {database.resolve()}, and the engine keeps each index's vectors beside its "
                                 f"database. Connect to that database's own folder, vz.connect(path={str(real)!r})")


def orphaned_vectors(database: Path, vectors: Path, held: bool) -> errors.FolderUnusable | None:
    """The error for a database missing or empty (0 bytes, with no write-ahead log: a copy cut short, a file
    deleted by hand) beside a vectors folder that `held` the engine's files: SQLite would take it for a new
    database, and a folder opened as new deletes those files, the only copy of its vectors. None for another."""
    how = "missing" if not database.exists() else \
        "empty" if not _size(database) and not _size(database.with_name(database.name + "-wal")) else None
    if not held or how is None:
        return None
    return errors.FolderUnusable(
        f"The folder {str(database.parent)!r} holds the vectors of indexes (in {str(vectors)!r}) but its database "
        f"({database.name}) is {how}: opened as new, the folder would lose them. Restore the database "
        "from a copy, or delete the folder's vectors folder to start afresh")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def damaged_vectors(exc: BaseException, folder: Path, name: str,
                    paths: Callable[[], tuple[Path, ...]]) -> errors.FolderUnusable | None:
    """The error that `exc`, met by a call on index `name`, stands for when the index's vector file (whose
    `paths` the store gives) is missing or cut short, or its folder is a file; None for any other error."""
    advice = (f"Restore the folder {str(folder)!r} from a copy, or delete the index (delete_index({name!r})) to "
              "go on with the folder's other indexes")
    if isinstance(exc, ShortFile):
        return errors.FolderUnusable(f'The vectors of index "{name}" are cut short: {exc.file} holds {exc.rows} rows '
                                     f"where {exc.recorded} are recorded. {advice}")
    if isinstance(exc, NotADirectoryError):
        files = paths()
        vectors = files[0].parent if files else folder
        return errors.FolderUnusable(f'The vectors of index "{name}" cannot be read: {vectors} is a file, not the '
                                     f"folder of the indexes' vector files. {advice}")
    if isinstance(exc, FileNotFoundError):
        missing = [str(path) for path in paths() if not path.exists()]
        if missing:
            return errors.FolderUnusable(f'The vectors of index "{name}" are missing: {" and ".join(missing)} '
                                         f"{'is' if len(missing) == 1 else 'are'} not there. {advice}")
    return None
