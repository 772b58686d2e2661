"""Metadata as columns: nested keys joined with ".", one list per key, None where a row lacks the key."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, repeat
from typing import Any, cast

import orjson

__all__ = ["flatten", "decoded", "MetadataColumns", "collector_paused"]

_EMPTY: dict[str, Any] = {}
_TEXT = {str, type(None)}

DECODED_ROWS = 65_536
"""Rows of metadata JSON `MetadataColumns.add_json` decodes at once."""
KEPT_STRINGS = 65_536
"""How many distinct strings of a column are kept once each (a genre, a source): past that the column
holds free text, where keeping them would cost more than it saves."""


def flatten(metadata: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}, "c": 2} -> {"a.b": 1, "c": 2}; lists stay as they are."""
    flat: dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def decoded(blobs: list[bytes | None]) -> list[dict[str, Any] | None]:
    """Metadata JSON of many rows, decoded in one call (one JSON array) rather than one per row."""
    rows: list[dict[str, Any] | None] = orjson.loads(_array(blobs))
    return rows


def _array(blobs: list[bytes | None]) -> bytes:
    if None not in blobs:
        return b"[" + b",".join(cast(list[bytes], blobs)) + b"]"
    return b"[" + b",".join(b"null" if blob is None else blob for blob in blobs) + b"]"


class MetadataColumns:
    """The flattened metadata of many rows, added a batch of rows at a time, as one list per key in the
    order keys first appear. A string repeated down a column is stored once, so a million rows of ten
    genres hold ten strings."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {}
        self.rows = 0
        self._strings: dict[str, dict[str | None, str | None]] = {}

    def add(self, metadata: Iterable[dict[str, Any] | None], nested: bool = True) -> None:
        """Add rows; `nested=False` says no row holds an object, so none needs flattening."""
        rows = [_EMPTY if row is None else row for row in metadata]
        flats = [flatten(row) if dict in set(map(type, row.values())) else row for row in rows] if nested else rows
        for name in dict.fromkeys(chain.from_iterable(flats)):
            self.columns.setdefault(name, [None] * self.rows)
        for name, column in self.columns.items():
            column.extend(self._kept(name, list(map(dict.get, flats, repeat(name)))))
        self.rows += len(flats)

    def add_json(self, blobs: list[bytes | None]) -> None:
        """Add rows given as metadata JSON, a slice at a time (its dicts are gone before the next)."""
        for start in range(0, len(blobs), DECODED_ROWS):
            array = _array(blobs[start:start + DECODED_ROWS])
            rows = orjson.loads(array)
            # one "{" for each row's own object: none holds an object (a brace in a string only costs time)
            self.add(rows, nested=array.count(b"{") != len(rows) - rows.count(None))

    def _kept(self, name: str, values: list[Any]) -> list[Any]:
        strings = self._strings.setdefault(name, {})
        if len(strings) >= KEPT_STRINGS:
            return values
        if set(map(type, values)) <= _TEXT:  # setdefault would also merge 1 with True and 1.0
            kept = list(map(strings.setdefault, values, values))
            strings.pop(None, None)
            return kept
        return [strings.setdefault(value, value) if type(value) is str else value for value in values]


class _Pauses:
    """The threads inside `collector_paused`, and whether the collector was on when the first came in."""

    lock = threading.Lock()
    depth = 0
    was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Build millions of objects without cycles (rows, dicts) without the garbage collector's full
    passes over them, which would take as long again as the building. Threads may pause it at once: the
    collector is back as it was once the last of them is done."""
    with _Pauses.lock:
        if _Pauses.depth == 0:
            _Pauses.was_enabled = gc.isenabled()
            gc.disable()
        _Pauses.depth += 1
    try:
        yield
    finally:
        with _Pauses.lock:
            _Pauses.depth -= 1
            if _Pauses.depth == 0 and _Pauses.was_enabled:
                gc.enable()
