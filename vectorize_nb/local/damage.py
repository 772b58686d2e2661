"""A folder that is not what the engine expects: a file where the folder should be, a database that is
not one (written over, or cut short), an index's vector file missing or cut short. Each is FolderUnusable,
naming the folder (or the index and its file), what is wrong in the user's terms, and what to do; the
engine writes nothing over such a folder.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..contract import errors
from .vectorfile import ShortFile

__all__ = ["not_a_folder", "damaged_database", "damaged_vectors"]

_DAMAGED = (11, 26)
"""SQLite's primary result codes for a database file it cannot read (SQLITE_CORRUPT, SQLITE_NOTADB)."""
_RESTORE = "Restore the folder from a copy, or connect to another folder"


def not_a_folder(folder: Path) -> errors.FolderUnusable:
    return errors.FolderUnusable(f"{str(folder)!r} is not a folder: it, or a folder above it, is a file. The engine "
                                 "keeps its data in a folder: connect to one (a new one is made where none is)")


def damaged_database(exc: BaseException, folder: Path) -> errors.FolderUnusable | None:
    """The error that SQLite's `exc` stands for when it could not read the folder's database; None for another."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.OperationalError):
        return None
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _DAMAGED:
        return None
    return errors.FolderUnusable(f"The folder {str(folder)!r} is damaged: its database cannot be read ({exc}); it "
                                 f"was cut short or written over. {_RESTORE}")


def damaged_vectors(exc: BaseException, folder: Path, name: str,
                    paths: Callable[[], tuple[Path, ...]]) -> errors.FolderUnusable | None:
    """The error that `exc`, met by a call on index `name`, stands for when the index's vector file (whose
    `paths` the store gives) is missing or cut short; None for any other error."""
    advice = (f"Restore the folder {str(folder)!r} from a copy, or delete the index (delete_index({name!r})) to "
              "go on with the folder's other indexes")
    if isinstance(exc, ShortFile):
        return errors.FolderUnusable(f'The vectors of index "{name}" are cut short: {exc.file} holds {exc.rows} rows '
                                     f"where {exc.recorded} are recorded. {advice}")
    if isinstance(exc, FileNotFoundError):
        missing = [str(path) for path in paths() if not path.exists()]
        if missing:
            return errors.FolderUnusable(f'The vectors of index "{name}" are missing: {" and ".join(missing)} '
                                         f"{'is' if len(missing) == 1 else 'are'} not there. {advice}")
    return None
