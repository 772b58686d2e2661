"""Metadata a metadata index will not hold, warned of as it is written: a number written to a property whose
index holds strings (ids read as numbers, a timestamp written as ISO text to a number index) is stored,
but no filter on that property ever matches its vector. Vectorize takes such a write without a word."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping, Sequence

from .contract import errors
from .contract.backend import Backend
from .contract.filters import json_kind, value_fits

__all__ = ["metadata_index_types", "warn_unheld", "warn_left_out"]

_HELD: dict[str, set[type]] = {"string": {str}, "number": {int, float}, "boolean": {bool}}
_AS = {"string": "strings (a column: .astype(str))", "number": "numbers (a column: pd.to_numeric)",
       "boolean": "booleans (a column: .astype(bool))"}


def _unheld(index_type: str, values: Sequence[Any], absent: object) -> list[int]:
    """The positions of values an index of `index_type` does not hold (a list: any element it does not hold)."""
    if set(map(type, values)) <= _HELD[index_type] | {type(absent), type(None)}:
        return []  # the usual case, in one pass at C speed
    return [position for position, value in enumerate(values) if value is not absent and value is not None and not (
        all(value_fits(index_type, item) for item in value) if isinstance(value, list) else
        value_fits(index_type, value))]


def metadata_index_types(backend: Backend, index: str) -> dict[str, str]:
    """The type of each metadata index of `index`, by property; none when they cannot be listed (then only a
    warning is lost, the write goes on)."""
    try:
        return {m.property_name: m.index_type for m in backend.list_metadata_indexes(index)}
    except errors.VectorizeError:
        return {}


def warn_unheld(backend: Backend, index: str, types: Mapping[str, str], columns: Mapping[str, Sequence[Any]],
                where: Callable[[int], str], absent: object = None) -> None:
    """Warn, once per index, property and type, of the values a write gives its properties that their metadata
    indexes (`types`) do not hold. `columns`: the values as written of the indexed properties the write has
    (`absent` where a vector has none); `where(position)`: the row or the id at a position."""
    for key, values in columns.items():
        index_type = types[key]
        unheld = _unheld(index_type, values, absent)
        if not unheld:
            continue
        count = "one vector" if len(unheld) == 1 else f"{len(unheld)} vectors"
        errors.warn_once(backend, (index, key, index_type, "unheld"),
                         f"metadata {key!r} of {count} is not a {index_type} (first: {where(unheld[0])}, "
                         f"{json_kind(values[unheld[0]], shown=True)}), where the metadata index of index {index!r} "
                         f"on {key!r} holds {index_type} values only: a filter on {key!r} never matches those "
                         f"vectors. Write them as {_AS[index_type]}, or index {key!r} by their type (delete its "
                         "metadata index, create one of their type, then write them again)")


def warn_left_out(backend: Backend, index: str, left: Sequence[str]) -> None:
    """Warn, once per index and property, that a frame's column named as a metadata index's property was not
    written: the vectors written hold none (an upsert replaces a stored vector whole), and no filter on it
    matches them."""
    for key in left:
        errors.warn_once(backend, (index, key, "left out"),
                         f"the frame's column {key!r} was not written as metadata, though index {index!r} has a "
                         f"metadata index on {key!r}: the vectors written hold no {key!r} (an upsert replaces a "
                         f"stored vector whole), so no filter on {key!r} matches them; metadata=[{key!r}, ...] "
                         "writes it")
