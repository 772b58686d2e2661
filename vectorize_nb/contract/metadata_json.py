"""A vector's metadata, checked and encoded: the compact JSON that is stored, measured against the
10 KiB limit and sent. The same rules in the engine, the server and the client (`validation.check_vectors`
applies them to every row of a write).

Keys are non-empty strings without "." (reserved for nesting), '"' or a leading "$"; values are what
JSON holds (no NaN or infinity), nested at most METADATA_DEPTH levels. An error names the id.
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Sequence

import numpy as np
import orjson

from . import errors
from .base_error import quoted
from .filters import json_kind
from .limits import Limits

__all__ = ["metadata_json_of", "encoded_metadata", "check_sizes", "METADATA_DEPTH"]


def _kept_json(value: Any, option: int = 0) -> bytes:
    """orjson.dumps, for results that many of are kept alive at once (a metadata JSON per row).
    orjson's results come from the system allocator; 100k of them kept spread over the heap and
    cost 35-170 ms per 100k rows, depending on the heap's state. A copy (a small object of Python's
    own allocator) costs a steady 29 ms, and orjson's buffer is freed at once."""
    return bytes(memoryview(orjson.dumps(value, option=option)))


def metadata_json_of(metadata: Any, limits: Limits, vid: str) -> bytes | None:
    """Check one vector's metadata and return its compact JSON (what is stored and measured);
    an empty object is stored as no metadata."""
    if metadata is None or (isinstance(metadata, dict) and not metadata):
        return None
    if not isinstance(metadata, dict):
        raise errors.InvalidMetadata(
            f"invalid metadata for id={quoted(vid)}: expected an object, got {json_kind(metadata)}")
    _check_object(metadata, "", vid)
    try:
        encoded = _kept_json(metadata, orjson.OPT_SERIALIZE_NUMPY)
    except TypeError as exc:  # e.g. an int beyond 64 bits
        raise errors.InvalidMetadata(f"invalid metadata for id={quoted(vid)}: {exc}") from None
    if len(encoded) > limits.max_metadata_bytes:
        raise errors.MetadataTooLarge(
            f"metadata too large for id={quoted(vid)}; max is {limits.max_metadata_bytes} bytes, "
            f"got {len(encoded)} bytes")
    return encoded


def encoded_metadata(rows: Sequence[dict[str, Any] | None], ids: Sequence[str], limits: Limits,
                     keys: Sequence[str]) -> list[bytes | None]:
    """Compact JSON of metadata rows whose values are known to be JSON-safe scalars (a DataFrame's
    converted columns): only the column names (`keys`) and the size are left to check."""
    for key in keys:
        _check_key(key, "", ids[0] if ids else "?")
    try:
        encoded = [None if row is None else _kept_json(row) for row in rows]
    except TypeError:  # an integer beyond 64 bits: checked row by row, the one that has it is named
        encoded = [metadata_json_of(row, limits, vid) for row, vid in zip(rows, ids)]
    check_sizes(encoded, ids, limits)
    return encoded


def check_sizes(encoded: Sequence[bytes | None], ids: Sequence[str], limits: Limits) -> None:
    """MetadataTooLarge naming the first id whose compact JSON is over the limit."""
    for blob, vid in zip(encoded, ids):
        if blob is not None and len(blob) > limits.max_metadata_bytes:
            raise errors.MetadataTooLarge(
                f"metadata too large for id={quoted(vid)}; max is {limits.max_metadata_bytes} bytes, "
                f"got {len(blob)} bytes")


_CHECKED_KEYS: set[str] = set()
_PLAIN = (str, int, bool, type(None))
METADATA_DEPTH = 254
"""Objects and arrays one inside the other in a vector's metadata, at most: what orjson, which stores
it, can write."""


def _check_object(value: dict[Any, Any], path: str, vid: str, depth: int = 1) -> None:
    # The hot loop of every write: plain values and already-seen keys cost one type check each.
    for key, item in value.items():
        if key not in _CHECKED_KEYS:
            _check_key(key, path, vid)
            if len(_CHECKED_KEYS) < 100_000:
                _CHECKED_KEYS.add(key)
        kind = type(item)
        if kind in _PLAIN or (kind is float and item - item == 0.0):  # x - x is NaN for NaN and infinities
            continue
        _check_value(item, f"{path}.{key}" if path else key, vid, depth + 1)


def _check_value(value: Any, path: str, vid: str, depth: int) -> None:
    if isinstance(value, (dict, list, tuple)) and depth > METADATA_DEPTH:
        raise errors.InvalidMetadata(
            f"invalid metadata for id={quoted(vid)}: {quoted(path)} is nested {depth} levels deep; objects and "
            f"arrays may nest at most {METADATA_DEPTH} levels")
    if isinstance(value, dict):
        _check_object(value, path, vid, depth)
    elif isinstance(value, (list, tuple)):
        for pos, item in enumerate(value):
            _check_value(item, f"{path}[{pos}]", vid, depth + 1)
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise errors.InvalidMetadata(
                f"invalid metadata for id={quoted(vid)}: {path} is {value}, and JSON has no NaN or infinity")
    elif not (value is None or isinstance(value, (str, bool, int, np.integer, np.bool_))):
        raise errors.InvalidMetadata(
            f"invalid metadata for id={quoted(vid)}: {path} is a {type(value).__name__}, "
            "which JSON cannot hold")


def _check_key(key: Any, path: str, vid: str) -> None:
    where = f" in {path}" if path else ""
    if not isinstance(key, str) or not key:
        problem = "an empty key" if key == "" else f"a non-string key {key!r}"
    elif "." in key:
        problem = f'key "{key}" contains "." (dots are reserved for nesting)'
    elif '"' in key:
        problem = f"key {key!r} contains '\"'"
    elif key.startswith("$"):
        problem = f'key "{key}" starts with "$"'
    else:
        return
    raise errors.InvalidMetadata(f"invalid metadata for id={quoted(vid)}: {problem}{where}")
