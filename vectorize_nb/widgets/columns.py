"""Which columns a panel offers: the metadata an index's vectors hold, and the frame columns that can be metadata."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from ..index import Index
from ..vector_array import VectorDtype

__all__ = ["stored_properties", "indexed_properties", "scalar_columns", "vector_columns", "text_columns", "SAMPLE",
           "LONGEST_TEXT"]

SAMPLE = 50
"""How many stored vectors are read to see which metadata properties they hold."""
LONGEST_TEXT = 256
"""A text column with longer values (a document's text, say) is not offered as metadata by default."""
_SCALARS = {"string", "integer", "floating", "boolean", "mixed-integer-float", "empty"}
_VECTOR_NAMES = ("embedding", "vector", "values")
_TEXT_NAMES = ("text", "body", "content", "passage", "document")


def indexed_properties(index: Index) -> list[str]:
    """The properties with a metadata index (the ones a filter can use).

    Parameters
    ----------
    index : Index
    """
    return [str(name) for name in index.list_metadata_indexes()["property_name"]]


def stored_properties(index: Index, sample: int = SAMPLE) -> list[str]:
    """The metadata properties held by the first vectors the index lists (nested keys joined with ".").

    Parameters
    ----------
    index : Index
    sample : int, default 50
        How many vectors to read.
    """
    ids = index.list_vectors(count=sample)["id"].tolist()
    if not ids:
        return []
    stored = index._read_ids(ids, values=False)
    return [str(name) for name in stored.columns if name not in ("id", "namespace")]


def scalar_columns(frame: pd.DataFrame, exclude: Sequence[Hashable] = ()) -> list[Hashable]:
    """The frame's columns that can be metadata as they are: numbers, booleans and short texts
    (at most LONGEST_TEXT characters), not vectors or lists.

    Parameters
    ----------
    frame : DataFrame
    exclude : sequence of labels, default ()
        Columns to leave out (the id and vector columns).

    Returns
    -------
    list
        The columns' own labels (not made text: a column labelled 2020 is 2020).
    """
    chosen: list[Hashable] = []
    for name in frame.columns:
        column = frame[name]
        if name in exclude or pd.api.types.infer_dtype(column, skipna=True) not in _SCALARS:
            continue
        texts = column.dropna()
        if texts.map(lambda v: len(v) if isinstance(v, str) else 0).max(skipna=True) > LONGEST_TEXT:
            continue
        chosen.append(name)
    return chosen


def vector_columns(frame: pd.DataFrame) -> list[Hashable]:
    """The columns that hold vectors (a `VectorArray`, or cells that are arrays, lists or tuples), the usual names
    ("embedding", "vector", "values") first.

    Parameters
    ----------
    frame : DataFrame
    """
    def holds_vectors(name: Hashable) -> bool:
        column = frame[name]
        if isinstance(column.dtype, VectorDtype):
            return True
        cells = column.iloc[:SAMPLE]
        present = [cell for cell in cells if cell is not None and not (isinstance(cell, float) and cell != cell)]
        return bool(present) and all(_numbers(cell) for cell in present)
    return _named_first([name for name in frame.columns if holds_vectors(name)], _VECTOR_NAMES)


def _numbers(cell: object) -> bool:
    """An array, list or tuple of numbers (a list of tags is no vector)."""
    if isinstance(cell, np.ndarray):
        return cell.ndim == 1 and len(cell) > 1 and cell.dtype.kind in "iuf"
    return isinstance(cell, (list, tuple)) and len(cell) > 1 and all(
        isinstance(x, (int, float, np.number)) and not isinstance(x, (bool, np.bool_)) for x in cell[:3])


def text_columns(frame: pd.DataFrame, exclude: Sequence[Hashable] = ()) -> list[Hashable]:
    """The columns of texts, the usual names ("text", "body", ...) first, then the longest texts first (a
    document's text before its title or id).

    Parameters
    ----------
    frame : DataFrame
    exclude : sequence of labels, default ()
        Columns to leave out (the id column).
    """
    lengths: dict[Hashable, float] = {}
    for name in frame.columns:
        cells = frame[name].iloc[:SAMPLE].dropna()
        if name not in exclude and len(cells) and all(isinstance(cell, str) for cell in cells):
            lengths[name] = sum(map(len, cells)) / len(cells)
    return _named_first(sorted(lengths, key=lambda name: -lengths[name]), _TEXT_NAMES)


def _named_first(columns: list[Hashable], names: Sequence[str]) -> list[Hashable]:
    return [name for name in names if name in columns] + [name for name in columns if name not in names]
