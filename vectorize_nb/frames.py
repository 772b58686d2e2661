"""DataFrames to what Vectorize takes: ids, float32 rows and texts read from a frame's columns (its metadata
and namespaces: `frame_batch.py`). `df.vectorize` (`accessor.py`) does its work with these.

Everything here reads the caller's frame and never changes it. Every check runs on the whole frame
before anything is sent, and an error names the column, the row (its index label) and the id.

Ids: strings; integer ids are turned into their decimal strings (deliberately: Vectorize ids are
strings, and 7 and "7" are the same vector). Vectors: one column of lists or arrays, or several
numeric columns.
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Any
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from . import packing
from .contract import errors, validation
from .contract.models import Values, VectorCells
from .contract.validation import utf8_len
from .query_input import TEXT_VECTORS
from .vector_array import VectorDtype

__all__ = ["check_columns", "check_name", "is_column", "ids_of", "matrix_of", "vectors_of", "texts_of", "one_source",
           "row_name", "in_row", "is_missing", "a_kind"]

_SHOWN = 5


def check_columns(frame: pd.DataFrame, names: Sequence[Hashable], role: str) -> None:
    """A KeyError that lists the frame's columns when one of `names` (the `role` columns) is not among them;
    a TypeError when one is values (a Series, the frame's index) rather than a column's name."""
    for name in names:
        check_name(name, role)
    absent = [name for name in names if name not in frame.columns]
    if absent:
        index = "; the frame's index is not a column: df.reset_index() makes it one" if (
            "index" in absent or (frame.index.name is not None and frame.index.name in absent)) else ""
        raise KeyError(f"{role} column{'s' if len(absent) > 1 else ''} {', '.join(map(repr, absent))} not in the "
                       f"frame; its columns are: {', '.join(map(repr, frame.columns))}{index}")
    if not frame.columns.is_unique:
        repeated = frame.columns[frame.columns.duplicated()]
        twice = [name for name in names if name in repeated]
        if twice:
            raise ValueError(f"{role} column {twice[0]!r} appears more than once in the frame; give each column a "
                             "name of its own (df.columns)")


def is_column(frame: pd.DataFrame, value: object) -> bool:
    """Whether `value` names one of the frame's columns (False for what cannot name one: values, a missing value)."""
    try:
        check_name(value, "")
    except TypeError:
        return False
    return value in frame.columns


def check_name(name: object, role: str) -> None:
    """A TypeError when `name` cannot be a column's name: values (a list, a Series) or a missing value."""
    try:
        hash(name)
        if name is pd.NA:  # hashable, but `in frame.columns` asks its truth
            raise TypeError
    except TypeError:
        raise TypeError(f"{role}= takes the name of a column, got a {type(name).__name__}; put the values in a "
                        "column (df.assign(name=values), or df.reset_index() for the frame's index) and give its "
                        "name") from None


def _label(value: Any) -> str:
    """A row label as the user wrote it: numpy's numbers as numbers, a MultiIndex's tuple of them too."""
    return repr(tuple(map(_plain, value)) if isinstance(value, tuple) else _plain(value))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def is_missing(value: Any) -> bool:
    """None, NaN, pandas' NA or a not-a-time (pd.NaT, numpy's NaT): a cell with no value."""
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return value is None or value is pd.NA or value is pd.NaT


def a_kind(value: Any) -> str:
    """A value's type with its article, as errors word it: "an int", "a Decimal"."""
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def row_name(frame: pd.DataFrame, position: int) -> str:
    """The row at `position` as the user finds it: by its label, or where labels repeat (a concat), by position."""
    label = _label(frame.index[position])
    return f"row {label}" if frame.index.is_unique else f"row at position {position} (label {label})"


def in_row(error: errors.VectorizeError, frame: pd.DataFrame, position: int) -> errors.VectorizeError:
    """A rule's refusal of one vector (its message names the id) naming the frame's row too."""
    error.message += f" ({row_name(frame, position)})"
    return error


# --- ids ----------------------------------------------------------------------------------------

def ids_of(frame: pd.DataFrame, column: Hashable, max_bytes: int | None) -> list[str]:
    """The id column as strings (integers converted), checked: no nulls, no duplicates, at most
    `max_bytes` (the index's limit; None for ids that go to no index)."""
    check_columns(frame, [column], "id")
    series = frame[column]
    values = series.tolist()
    missing = series.isna().to_numpy()
    if missing.any():  # first: a missing id makes pandas store integer ids as floats
        raise errors.InvalidVector(f"the id is missing in {row_name(frame, int(np.argmax(missing)))}; "
                                   "every row needs an id")
    if pd.api.types.is_integer_dtype(series.dtype):
        ids = [str(value) for value in values]
    elif set(map(type, values)) == {str} and min(map(len, values)) > 0:
        ids = values
    else:
        ids = [_id_text(frame, position, value) for position, value in enumerate(values)]
    if max_bytes is not None and ids and max(map(len, ids)) * 4 > max_bytes:
        for position, vid in enumerate(ids):
            if utf8_len(vid) > max_bytes:
                raise errors.IdTooLong(f"id too long; max is {max_bytes} bytes, got {utf8_len(vid)} bytes "
                                       f"(id={vid[:40]!r}…, {row_name(frame, position)})")
    _no_duplicates(frame, ids)
    return ids


def _id_text(frame: pd.DataFrame, position: int, value: Any) -> str:
    text = validation.id_text(value)
    if isinstance(text, str) and text:
        return text
    problem = "empty" if isinstance(value, str) else f"a {type(value).__name__} ({value!r}), not a string or an integer"
    raise errors.InvalidVector(f"the id in {row_name(frame, position)} is {problem}")


def _rows_named(frame: pd.DataFrame, at: list[int]) -> str:
    """"rows 10, 12", or where the frame's labels repeat, "rows at positions 0, 4 (labels 10, 10)"."""
    labels, positions = (", ".join(map(str, names)) for names in ([_label(frame.index[p]) for p in at], at))
    return f"rows {labels}" if frame.index.is_unique else f"rows at positions {positions} (labels {labels})"


def _no_duplicates(frame: pd.DataFrame, ids: list[str]) -> None:
    duplicated = pd.Index(ids).duplicated(keep=False)
    if not duplicated.any():
        return
    rows = pd.Series(np.flatnonzero(duplicated)).groupby(np.asarray(ids, object)[duplicated], sort=False).agg(list)
    shown = "; ".join(f"{vid!r} in {_rows_named(frame, at)}" for vid, at in itertools.islice(rows.items(), _SHOWN))
    more = f" (and {len(rows) - _SHOWN} more)" if len(rows) > _SHOWN else ""
    raise errors.InvalidVector(f"duplicate ids in the frame: {shown}{more}; each id may appear once")


# --- vectors ------------------------------------------------------------------------------------

def matrix_of(frame: pd.DataFrame, vector: Hashable | None = None, vectors: Sequence[Hashable] | None = None,
              dimensions: int | None = None, ids: Sequence[str] | None = None,
              not_finite: type[errors.VectorizeError] = errors.InvalidVector) -> np.ndarray:
    """The vectors as one float32 matrix, from a column of lists/arrays or from several columns; a row that
    is not finite raises `not_finite` (a write's 40103 by default)."""
    one_source(vector, vectors, None)
    if vectors is not None:
        check_columns(frame, list(vectors), "vector")
        matrix = _numbers(frame, list(vectors), ids)
    else:
        check_columns(frame, [vector], "vector")
        matrix = _stack(frame, frame[vector], dimensions, ids)
    if dimensions is not None and matrix.shape[1] != dimensions:
        raise _wrong_width(frame, 0, ids, dimensions, matrix.shape[1])
    if (position := validation.first_non_finite_row(matrix)) is not None:
        raise _not_finite(frame, position, ids, not_finite)
    return matrix


_REAL = frozenset("fiub")
"""numpy's kinds of real numbers and booleans: what a vector is made of (not complex, dates or text)."""


def _numbers(frame: pd.DataFrame, columns: list[Hashable], ids: Sequence[str] | None) -> np.ndarray:
    """Several columns of real numbers as one float32 matrix; a column of another dtype (dates, text, complex
    numbers) is refused, and in an object column, the first cell that is not a number is named."""
    for name in columns:
        dtype = frame[name].dtype
        if pd.api.types.is_object_dtype(dtype):
            cells = frame[name].tolist()
            position = next((p for p, cell in enumerate(cells) if not _real(cell)), None)
            if position is not None:
                raise _not_a_number(frame, name, cells[position], position, ids)
        elif dtype.kind not in _REAL:
            raise errors.InvalidVector(f"vector column {name!r} is of dtype {dtype}, not real numbers; vectors= "
                                       "takes columns of numbers (floats, integers or booleans), one per dimension"
                                       f"{_TEXT_NUMBERS.format(name) if pd.api.types.is_string_dtype(dtype) else ''}")
    return frame[columns].to_numpy(dtype=np.float32, na_value=np.nan)


_TEXT_NUMBERS = "; text that holds numbers can be read as numbers first: pd.to_numeric(df[{!r}])"


def _real(cell: Any) -> bool:
    """A cell of an object column that is a real number (or missing, which the check of finite rows names)."""
    return (isinstance(cell, int | float | Decimal | Fraction | np.integer | np.floating | np.bool_) and not
            isinstance(cell, np.timedelta64)) or is_missing(cell)  # Decimal: what read_sql gives of NUMERIC


def _not_a_number(frame: pd.DataFrame, name: Hashable, cell: Any, position: int,
                  ids: Sequence[str] | None) -> errors.InvalidVector:
    listed = pd.api.types.is_list_like(cell) and hasattr(cell, "__len__")
    shown = f"{'a list' if isinstance(cell, list) else 'an array'} of {len(cell)} values" if listed else f"{cell!r:.60}"
    advice = f"; a column of lists or arrays goes in vector={name!r}" if listed else ""
    return errors.InvalidVector(f"vector column {name!r} holds {shown} in {row_name(frame, position)}"
                                f"{id_note(ids, position)}, which is not a number{advice}")


def vectors_of(frame: pd.DataFrame, vector: Hashable | None, vectors: Sequence[Hashable] | None,
               dimensions: int | None, ids: Sequence[str]) -> Values:
    """What a write sends: a column of arrays, or a `VectorArray` column's matrix, is checked a slice at a
    time, then read a slice at a time as it is written; anything else becomes one matrix (`matrix_of`)."""
    if vector is None:
        return matrix_of(frame, vector, vectors, dimensions, ids)
    check_columns(frame, [vector], "vector")
    column = frame[vector]
    cells = column.array.matrix if isinstance(column.dtype, VectorDtype) else column.tolist()
    if not len(cells) or (isinstance(cells, list) and set(map(type, cells)) != {np.ndarray}):
        return matrix_of(frame, vector, vectors, dimensions, ids)
    if isinstance(cells, list):
        _real_arrays(frame, column, cells, ids)
    width = dimensions if dimensions is not None else int(np.size(cells[0]))
    problem = validation.first_bad_cell(cells, width)
    if problem is None:
        return VectorCells(cells, width)
    position, what = problem
    if what == "width":
        raise _wrong_width(frame, position, ids, width, int(np.size(cells[position])))
    if what == "finite":
        raise _not_finite(frame, position, ids)
    raise errors.InvalidVector(f"the vector in {row_name(frame, position)}{id_note(ids, position)} is not a flat "
                               "array of numbers")


def _real_arrays(frame: pd.DataFrame, column: pd.Series, cells: list[np.ndarray], ids: Sequence[str] | None) -> None:
    """Arrays of real numbers, or of objects (read number by number); a complex, date or text array is refused
    (numpy would keep a complex number's real part, or read text as numbers)."""
    if all(dtype.kind in _REAL | {"O"} for dtype in set(map(attrgetter("dtype"), cells))):
        return
    position = next(p for p, cell in enumerate(cells) if cell.dtype.kind not in _REAL | {"O"})
    raise errors.InvalidVector(f"the vector in {row_name(frame, position)}{id_note(ids, position)} of column "
                               f"{column.name!r} is an array of {cells[position].dtype}, not real numbers")


def id_note(ids: Sequence[str] | None, position: int) -> str:
    return "" if ids is None else f" (id={ids[position]!r})"


def _stack(frame: pd.DataFrame, column: pd.Series, dimensions: int | None, ids: Sequence[str] | None) -> np.ndarray:
    if isinstance(column.dtype, VectorDtype):  # the column's own matrix, which the caller may only read
        readable: np.ndarray = column.array.matrix.view()
        readable.flags.writeable = False
        return readable
    cells = column.tolist()
    kinds = set(map(type, cells))
    if kinds == {list} and len(widths := set(map(len, cells))) == 1 and dimensions in (None, *widths):
        return _pack(frame, cells, widths.pop(), ids)  # lists of one width: no row by row checks needed
    if kinds == {np.ndarray}:  # the fast path: about 10x quicker than lists
        _real_arrays(frame, column, cells, ids)
        try:
            matrix = np.asarray(cells, dtype=np.float32)
        except ValueError:  # ragged: the checks below name the row
            matrix = None
        if matrix is not None and matrix.ndim == 2:
            return matrix
    width = dimensions
    for position, cell in enumerate(cells):
        if cell is None or isinstance(cell, float) or not hasattr(cell, "__len__") or isinstance(cell, str):
            raise errors.InvalidVector(f"the vector in {row_name(frame, position)}{id_note(ids, position)} of column "
                                       f"{column.name!r} is {_shown(cell)}, not a list or array of numbers"
                                       f"{'; ' + TEXT_VECTORS if isinstance(cell, str) and cell[:1] == '[' else ''}")
        if width is None:
            width = len(cell)
        elif len(cell) != width:
            raise _wrong_width(frame, position, ids, width, len(cell))
    return _pack(frame, cells, width or 0, ids)


def _shown(cell: Any) -> str:
    text = repr(cell)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _pack(frame: pd.DataFrame, cells: list[Any], width: int, ids: Sequence[str] | None) -> np.ndarray:
    matrix = np.empty((len(cells), width), dtype=np.float32)
    problem = packing.pack_rows(cells, matrix, width)
    if problem is None:
        return matrix
    position, what = problem
    if what == "width":
        raise _wrong_width(frame, position, ids, width, len(cells[position]))
    raise errors.InvalidVector(f"the vector in {row_name(frame, position)}{id_note(ids, position)} holds "
                               "something that is not a number")


def _wrong_width(frame: pd.DataFrame, position: int, ids: Sequence[str] | None, width: int,
                 got: int) -> errors.VectorDimensionMismatch:
    error = errors.VectorDimensionMismatch(f"invalid vector in {row_name(frame, position)}{id_note(ids, position)}, "
                                           f"expected {width} dimensions, and got {got} dimensions")
    error.width = got
    return error


def _not_finite(frame: pd.DataFrame, position: int, ids: Sequence[str] | None,
                error: type[errors.VectorizeError] = errors.InvalidVector) -> errors.VectorizeError:
    return error(f"the vector in {row_name(frame, position)}{id_note(ids, position)} holds NaN, an "
                                "infinity or a number beyond float32's range; vectors must be finite float32 numbers")


# --- texts ----------------------------------------------------------------------------------------

def texts_of(frame: pd.DataFrame, column: Hashable) -> list[str]:
    """A text column as a list of str, checked: an error names the rows that are missing or empty."""
    check_columns(frame, [column], "text")
    texts = frame[column].tolist()
    bad = [position for position, text in enumerate(texts) if not isinstance(text, str) or not text]
    if bad:
        first = texts[bad[0]]
        shown = ", ".join(row_name(frame, position) for position in bad[:_SHOWN])
        more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        what = "empty" if isinstance(first, str) else "missing" if is_missing(first) else \
            f"{first!r:.40} ({type(first).__name__}), not text"
        kind = errors.EmptyText if isinstance(first, str) else errors.TextNotString
        raise kind(f"text column {column!r} has no text in {shown}{more}: {row_name(frame, bad[0])} is {what}")
    return texts


def one_source(vector: Hashable | None, vectors: Sequence[Hashable] | None, text: object = None) -> None:
    """A ValueError unless exactly one of the vector column, the vector columns and the text (column) is given."""
    if sum(source is not None for source in (vector, vectors, text)) != 1:
        raise ValueError("give one of vector= (a column of lists or arrays), vectors= (a list of numeric columns) "
                         "or text= (a column of texts to embed)")
    if isinstance(vector, list):
        raise ValueError(f"vector= names one column of lists or arrays, got the list {vector!r:.60}; several "
                         "columns of numbers, one per dimension, go in vectors=")
    if vectors is not None and not pd.api.types.is_list_like(vectors):
        raise ValueError(f"vectors= takes a list of columns of numbers, one per dimension, got {vectors!r:.60}; "
                         f"one column of lists or arrays goes in vector={vectors!r:.60}")
