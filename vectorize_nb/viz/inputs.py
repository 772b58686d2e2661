"""What the views accept: vectors as arrays, frame columns or DataFrame rows; queries as vectors or ids."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from .. import frames
from ..contract.validation import id_text
from ..frames import check_columns

__all__ = ["VECTOR_COLUMNS", "QueryPoint", "query_point", "vector_column", "frame_matrix", "frame_ids",
           "check_drawn", "ColumnNotFound", "whole_number", "column_name"]

VECTOR_COLUMNS = ("values", "embedding", "vector")
"""Column names taken for the vector column when none is named (`values` is what `to_frame` gives)."""


def vector_column(frame: pd.DataFrame, vector: Hashable | None = None) -> Hashable:
    """The named vector column, or the first of VECTOR_COLUMNS the frame has.

    Parameters
    ----------
    frame : DataFrame
    vector : str, optional
        The column asked for.

    Raises
    ------
    KeyError
        The named column is missing, or none of VECTOR_COLUMNS is there.
    """
    if vector is not None:
        check_columns(frame, [vector], "vector")
        return vector
    found = next((name for name in VECTOR_COLUMNS if name in frame.columns), None)
    if found is None:
        raise KeyError(f"no vector column among {', '.join(map(repr, VECTOR_COLUMNS))}: name it with vector=...; "
                       f"the frame's columns are: {', '.join(map(repr, frame.columns))}")
    return found


def frame_matrix(frame: pd.DataFrame, column: Hashable) -> np.ndarray:
    """The vector column as one float32 matrix (checked: one width, finite numbers).

    Parameters
    ----------
    frame : DataFrame
    column : str
        Its vector column.
    """
    return frames.matrix_of(frame, vector=column)


def frame_ids(frame: pd.DataFrame, id: Hashable | None = None) -> list[str]:
    """Ids from the `id` column (default "id" when the frame has one), else from the row labels.

    Parameters
    ----------
    frame : DataFrame
    id : str, optional
        The id column.

    Raises
    ------
    ValueError
        No id column and repeated row labels.
    """
    if id is None and "id" in frame.columns:
        id = "id"
    if id is not None:
        return frames.ids_of(frame, id, None)  # a frame drawn, not written: no index's limit
    ids = [str(label) for label in frame.index]
    if len(set(ids)) < len(ids):
        raise ValueError("the frame has no 'id' column and its row labels repeat: name the id column with id=...")
    return ids


@dataclass(frozen=True)
class QueryPoint:
    """A query as given: a vector, or the id of a stored vector (then `vector` is None)."""

    vector: np.ndarray | None
    id: str | None
    label: str


def query_point(query: Any, vector: Hashable | None = None) -> QueryPoint:
    """A query as the views take it.

    Parameters
    ----------
    query : array-like, str, int or Series
        A vector, a stored vector's id, or a DataFrame row holding a vector cell: the named `vector`
        cell, else a 'values'/'embedding'/'vector' cell, else the row itself when all numbers.
    vector : str, optional
        The row's vector cell.

    Returns
    -------
    QueryPoint
        Labelled by the id (the row's `id` cell, or "row <label>"), or "the query vector".
    """
    query = id_text(query)  # an integer id stands for its decimal string, as in every write
    if isinstance(query, str):
        return QueryPoint(None, query, query)
    if isinstance(query, pd.Series):
        return _row_point(query, vector)
    try:
        matrix = np.asarray(query, dtype=np.float32)
    except (TypeError, ValueError) as exc:  # numpy's words name neither the argument nor the value
        raise type(exc)(f"query is a vector of numbers, a stored id or a DataFrame row; got {query!r:.60}") from None
    if matrix.ndim != 1:
        raise ValueError(f"a query is one vector (1-D), a stored id or a DataFrame row; got shape {matrix.shape}")
    return QueryPoint(matrix, None, "the query vector")


def _row_point(row: pd.Series, vector: Hashable | None) -> QueryPoint:
    vid = id_text(row.get("id"))
    vid = vid if isinstance(vid, str) else None
    label = vid if vid is not None else f"row {row.name!r}"
    if vector is not None and vector not in row.index:
        raise KeyError(f"vector cell {vector!r} not in the row; its fields are: {', '.join(map(repr, row.index))}")
    cell = vector if vector is not None else next((name for name in VECTOR_COLUMNS if name in row.index), None)
    if cell is not None:
        values = np.asarray(row.to_dict()[cell], dtype=np.float32)
    elif pd.api.types.is_numeric_dtype(row.dtype):
        values = row.to_numpy(dtype=np.float32)
    else:
        raise KeyError("the row has no vector cell: name it with vector=... (looked for "
                       f"{', '.join(map(repr, VECTOR_COLUMNS))}); its fields are: {', '.join(map(repr, row.index))}")
    if values.ndim != 1:
        raise ValueError(f"the row's vector cell {cell!r} is not one vector (shape {values.shape})")
    return QueryPoint(values, vid, label)


def whole_number(value: Any, name: str, least: int) -> int:
    """`value` when it is a whole number of at least `least`.

    Parameters
    ----------
    value : object
        What was given.
    name : str
        The argument, as the message names it.
    least : int

    Raises
    ------
    TypeError
        Not a whole number (a float, a string, a boolean).
    ValueError
        Below `least`.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number of at least {least}, got {value!r:.60}")
    if value < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, got {value}")
    return int(value)


def column_name(value: Any, role: str) -> None:
    """Refuse a `color=` that cannot name one column (a list), naming the argument and the value.

    Parameters
    ----------
    value : object
        What was given (None: no column).
    role : str
        The argument, as the message names it.
    """
    if value is not None and not isinstance(value, Hashable):
        raise TypeError(f"{role} names one column, got {value!r:.60}; more columns are shown with hover=[...]")


class ColumnNotFound(KeyError):
    """A column a view was asked to draw is not there; the message names what is, and how to get it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def check_drawn(table: pd.DataFrame, names: Sequence[Hashable], role: str, index: str | None) -> None:
    """Raise ColumnNotFound when one of `names` is not a column of the points drawn.

    Parameters
    ----------
    table : DataFrame
        The points: id, namespace and metadata (or a frame's columns).
    names : sequence of str
        The columns asked for.
    role : str
        What they are for ("color", "hover"), as the message says it.
    index : str or None
        The index's name for a map of an index (whose columns are the metadata properties stored on
        the vectors, so the message says how to store the missing one); None for a frame.
    """
    absent = [name for name in names if name not in table.columns]
    if not absent:
        return
    missing = ", ".join(map(repr, absent))
    if index is None:
        raise ColumnNotFound(f"{role} column{'s' if len(absent) > 1 else ''} {missing} not in the frame; its "
                             f"columns are: {', '.join(map(repr, table.columns))}")
    stored = [name for name in table.columns if name not in ("id", "rank", "score")]
    if meant := _typos(absent, stored):  # a name close to a held one: misspelt, rather than never written
        raise ColumnNotFound(f"the vectors drawn from index {index!r} hold no metadata {missing}; did you mean "
                             f"{', '.join(map(repr, meant))}? (the columns drawn: {', '.join(map(repr, stored))})")
    held = (f", or {role} by one of: {', '.join(map(repr, stored))}" if set(stored) - {"namespace"}
            else " (the vectors drawn hold no metadata)")
    raise ColumnNotFound(
        f"the vectors drawn from index {index!r} hold no metadata {missing} (never written, or an upsert without it "
        f"replaced it): upsert the vectors again with metadata=[{missing}] (df.vectorize.upsert(index, id=..., "
        f"vector=..., metadata=[{missing}])){held}")


def _typos(absent: Sequence[Hashable], stored: Sequence[Hashable]) -> list[str]:
    """For each name asked for, the held one it most likely misspells; none unless every name has one."""
    names = [name for name in stored if isinstance(name, str)]
    meant = [difflib.get_close_matches(name, names, n=1, cutoff=0.75) if isinstance(name, str) else []
             for name in absent]
    return [close[0] for close in meant] if all(meant) else []
