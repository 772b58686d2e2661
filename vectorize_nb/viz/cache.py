"""Where computed pictures are kept: in memory (a few, least recently used first out) and on disk.

A key names the index (`scope`), its `state` (a digest of the index's ids), every parameter that
changes the picture, and its `content` (a digest of the points projected). On disk, an entry is two
files in `<folder>/<scope>/`: `<state>-<params>.npz` (arrays, loaded with allow_pickle=False) and a
`.json` beside it (the key, the table of points and its dtypes), written in that order, each by an
atomic rename, so a reader that finds the JSON finds the arrays. An entry of other content is a
miss, and the next picture overwrites it; storing an entry deletes the scope's entries for other
states (other ids).

An alias lets a key that is cheap to know (an index's last applied mutation) find the entry computed
at that state without reading the index again, in this process.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from collections.abc import Callable

import numpy as np
import orjson

__all__ = ["CacheKey", "ProjectionCache", "CACHE", "COLUMNS", "cache_info", "clear_cache", "FORMAT"]

FORMAT = 2
"""Bumped when the files' layout changes; entries of another format are misses."""

T = TypeVar("T")
Arrays = dict[str, np.ndarray]
Dumped = tuple[Arrays, dict[str, Any]]


@dataclass(frozen=True)
class CacheKey:
    """What a computed picture depends on."""

    scope: str
    """The index's name (or "frame")."""
    state: str
    """What a write makes stale: a digest of the index's ids (or of a frame's contents)."""
    params: tuple[Any, ...]
    """Everything else that changes the picture: JSON-able scalars."""
    content: str = ""
    """A digest of the points the picture shows (ids, vectors, metadata): not part of the file's name,
    so an entry of other content sits where this one goes."""

    def stem(self) -> str:
        """The entry's file name without suffix: "<state digest>-<key digest>" (the content left out)."""
        text = orjson.dumps([FORMAT, self.scope, self.state, list(self.params)])
        return f"{_short(self.state.encode())}-{_short(text)}"

    def to_json(self) -> list[Any]:
        """The key as JSON values, as it is stored beside the entry (and compared on reading)."""
        return list(orjson.loads(orjson.dumps([FORMAT, self.scope, self.state, list(self.params), self.content])))


def _short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


_DEVICES = frozenset(["con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))])
"""Names Windows keeps for devices (with any extension): valid index names, but no folder can have them."""


def _folder_name(scope: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", scope)[:64]
    usable = safe == scope and safe.split(".")[0].lower() not in _DEVICES
    return safe if usable else f"{safe}-{_short(scope.encode())[:8]}"


@dataclass
class ProjectionCache:
    """The pictures computed in this process: the `capacity` most recently used in memory, and on disk
    where a folder is given. `counts` says how it has done."""

    capacity: int = 8
    _memory: OrderedDict[CacheKey, Any] = field(default_factory=OrderedDict, repr=False)
    _aliases: OrderedDict[CacheKey, CacheKey] = field(default_factory=OrderedDict, repr=False)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("memory_hits", "disk_hits", "misses", "disk_writes", "disk_errors"), 0))

    def get(self, key: CacheKey, folder: Path | None = None,
            load: Callable[[Arrays, dict[str, Any]], Any] | None = None) -> Any:
        """The value for `key` from memory, else from `folder` through `load` (then kept in memory), else None.

        Parameters
        ----------
        key : CacheKey
        folder : Path, optional
            Where entries are kept on disk (None: memory only).
        load : callable, optional
            Builds the value from the stored arrays and JSON.
        """
        if key in self._memory:
            self._memory.move_to_end(key)
            self.counts["memory_hits"] += 1
            return self._memory[key]
        value = None if folder is None or load is None else _read(folder, key, load)
        if value is None:
            self.counts["misses"] += 1
            return None
        self.counts["disk_hits"] += 1
        self._remember(key, value)
        return value

    def put(self, key: CacheKey, value: T, folder: Path | None = None,
            dump: Callable[[T], Dumped] | None = None) -> None:
        """Keep `value` in memory and, with a folder, on disk through `dump` (dropping the scope's other
        states there). A disk that cannot take it is counted in `disk_errors`, not raised.

        Parameters
        ----------
        key : CacheKey
        value : object
        folder : Path, optional
            Where entries are kept on disk (None: memory only).
        dump : callable, optional
            Turns the value into arrays and JSON values.
        """
        self._remember(key, value)
        if folder is None or dump is None:
            return
        try:
            _write(folder, key, *dump(value))
            self.counts["disk_writes"] += 1
        except (OSError, TypeError):  # a read-only or full disk, or a value JSON cannot hold: recomputed later
            self.counts["disk_errors"] += 1

    def alias(self, name: CacheKey, key: CacheKey) -> None:
        """Let `name` stand for `key` in this process (`resolve`); the most recent 4 x capacity are kept.

        Parameters
        ----------
        name : CacheKey
            A key that is cheap to know (an index's last applied mutation).
        key : CacheKey
            The key of the entry computed at that state.
        """
        self._aliases[name] = key
        self._aliases.move_to_end(name)
        while len(self._aliases) > 4 * self.capacity:
            self._aliases.popitem(last=False)

    def resolve(self, name: CacheKey) -> CacheKey | None:
        """The key `name` stands for (see `alias`), or None."""
        return self._aliases.get(name)

    def _remember(self, key: CacheKey, value: Any) -> None:
        self._memory[key] = value
        self._memory.move_to_end(key)
        while len(self._memory) > self.capacity:
            self._memory.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry and alias kept in memory, and the counts."""
        self._memory.clear()
        self._aliases.clear()
        for name in self.counts:
            self.counts[name] = 0


CACHE = ProjectionCache()
COLUMNS = ProjectionCache()
"""Whole metadata columns of indexes, by index state (memory only): what colours a map of a sample."""


def cache_info() -> dict[str, int]:
    """How the picture cache has done in this process.

    Returns
    -------
    dict of str to int
        memory_hits, disk_hits, misses, disk_writes, disk_errors, and the entries kept in memory.
    """
    return {**CACHE.counts, "entries": len(CACHE._memory)}


def clear_cache() -> None:
    """Forget the pictures kept in memory (those on disk stay until the index's ids change)."""
    CACHE.clear()
    COLUMNS.clear()


def _read(folder: Path, key: CacheKey, load: Callable[[Arrays, dict[str, Any]], Any]) -> Any:
    base = folder / _folder_name(key.scope) / key.stem()
    try:
        meta = orjson.loads(base.with_suffix(".json").read_bytes())
        if meta.get("key") != key.to_json():
            return None
        with np.load(base.with_suffix(".npz"), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        return load(arrays, meta["value"])
    except (OSError, ValueError, KeyError, TypeError):  # missing, partly written or foreign: a miss
        return None


def _write(folder: Path, key: CacheKey, arrays: Arrays, value: dict[str, Any]) -> None:
    place = folder / _folder_name(key.scope)
    place.mkdir(parents=True, exist_ok=True)
    stem = key.stem()
    savez: Any = np.savez  # numeric arrays only: nothing in them needs pickling
    _atomic(place / f"{stem}.npz", lambda handle: savez(handle, **arrays))
    meta = orjson.dumps({"key": key.to_json(), "value": value}, option=orjson.OPT_SERIALIZE_NUMPY)
    _atomic(place / f"{stem}.json", lambda handle: handle.write(meta))
    state = stem.split("-")[0]
    for old in place.iterdir():
        if not old.name.startswith(state + "-") and not old.name.startswith("."):
            old.unlink(missing_ok=True)


def _atomic(path: Path, write: Callable[[Any], Any]) -> None:
    """`path` written whole or not at all, through a temporary file made as others are (the umask sets its mode,
    where tempfile.mkstemp's would be 0600)."""
    temporary = path.with_name(f".tmp-{secrets.token_hex(8)}{path.suffix}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
