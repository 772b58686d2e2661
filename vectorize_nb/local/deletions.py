"""An index that another process deletes or compacts while a call on it runs: the call answers as if that came
first. Every call, on an index or on the folder, that meets a damaged vector file or database says so, in the
terms of `damage.py`."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from ..contract import errors

__all__ = ["gone", "deleted", "deleted_meanwhile", "read_meanwhile", "folder_call"]

P = ParamSpec("P")
T = TypeVar("T")


class _Engine(Protocol):
    def _vanished(self, name: str) -> bool: ...

    def _damage(self, name: str | None, exc: Exception) -> errors.FolderUnusable | None: ...


E = TypeVar("E", bound=_Engine)


def gone(exc: BaseException) -> bool:
    """What a call meets when another process deletes its index meanwhile: a table or a vector file gone."""
    return (isinstance(exc, FileNotFoundError) or type(exc) is LookupError  # the store: "has no vector file"
            or (isinstance(exc, sqlite3.OperationalError) and str(exc).startswith("no such table")))


def deleted(name: str) -> errors.IndexDeleted:
    """What a call on index `name` meets once the index is deleted (Vectorize's 3005)."""
    return errors.IndexDeleted(f'vectorize.index.deleted - Index name "{name}" was deleted')


def deleted_meanwhile(call: Callable[Concatenate[E, str, P], T]) -> Callable[Concatenate[E, str, P], T]:
    """A call on one index that another process deletes while it runs answers as if the deletion came first."""
    @functools.wraps(call)
    def guarded(engine: E, name: str, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return _explained(call, engine, name, *args, **kwargs)
    return guarded


def read_meanwhile(call: Callable[Concatenate[E, str, P], T]) -> Callable[Concatenate[E, str, P], T]:
    """A read: as `deleted_meanwhile`, and made again, on the new file, when another process's compaction
    replaced the index's vector file meanwhile (a write holds the lock that compacting takes)."""
    @functools.wraps(call)
    def guarded(engine: E, name: str, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return _explained(call, engine, name, *args, **kwargs)
        except FileNotFoundError:  # neither deleted nor damaged: a compaction replaced the file meanwhile
            return _explained(call, engine, name, *args, **kwargs)
    return guarded


def folder_call(call: Callable[Concatenate[E, P], T]) -> Callable[Concatenate[E, P], T]:
    """A call on the folder rather than on one index (listing or creating indexes): one that meets a damaged
    database says so."""
    @functools.wraps(call)
    def guarded(engine: E, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with _damage_told(engine, None):
            return call(engine, *args, **kwargs)
    return guarded


def _explained(call: Callable[Concatenate[E, str, P], T], engine: E, name: str, /, *args: P.args,
               **kwargs: P.kwargs) -> T:
    with _damage_told(engine, name):
        try:
            return call(engine, name, *args, **kwargs)
        except Exception as exc:
            if gone(exc) and engine._vanished(name):  # _vanished also makes the next call catch up
                raise deleted(name) from None
            raise


@contextmanager
def _damage_told(engine: _Engine, name: str | None) -> Iterator[None]:
    """Damage to the folder met by a call (on index `name`, or on the folder: None) as FolderUnusable."""
    try:
        yield
    except Exception as exc:
        damage = engine._damage(name, exc)
        if damage is not None:
            raise damage from exc
        raise
