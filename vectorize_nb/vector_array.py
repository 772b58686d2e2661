"""A pandas column of float32 vectors kept as one matrix: `VectorDtype` and `VectorArray`.

A column of numpy arrays costs a Python object per row (about 0.07x a 384-wide float32 matrix) and a
copy to get the matrix back; this column is the matrix. Each cell reads as a float32 array, a row of
the matrix, so `df["values"].iloc[0]`, iteration, `np.stack(df["values"])` and `.tolist()` behave as
with a column of arrays, and `df["values"].array.matrix` is the whole matrix without a copy. One cell
is set with `df.at[label, "values"] = vector` (`.loc` takes a vector for several values, one a row).

A missing cell (a reindex, an outer merge) is a row of NaN and reads as NaN. A column of width 0 (an
empty result, whose width nobody knows) has only missing cells, and takes the width of the column it
is concatenated with; columns of two different widths concatenate to a column of arrays (object).
"""

from __future__ import annotations

import builtins
import math
import re
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype
from pandas.api.indexers import check_array_indexer

__all__ = ["VectorDtype", "VectorArray"]

_NAME = re.compile(r"vector\[(\d+)\]")
_SHOWN = 2
"""Numbers shown at each end of a vector in a printed frame."""


@register_extension_dtype
class VectorDtype(ExtensionDtype):
    """float32 vectors of one width; its name is ``vector[<dimensions>]``, usable in `astype`."""

    type = np.ndarray
    kind = "O"
    na_value = np.nan
    _metadata = ("dimensions",)

    def __init__(self, dimensions: int = 0) -> None:
        self.dimensions = int(dimensions)

    @property
    def name(self) -> str:  # type: ignore[override]  # pandas-stubs declare an attribute
        return f"vector[{self.dimensions}]"

    def __repr__(self) -> str:
        return f"VectorDtype({self.dimensions})"

    def _get_common_dtype(self, dtypes: list[Any]) -> Any:
        widths = {dtype.dimensions for dtype in dtypes if isinstance(dtype, VectorDtype)} - {0}
        if len(widths) > 1 or not all(isinstance(dtype, VectorDtype) for dtype in dtypes):
            return None
        return VectorDtype(widths.pop() if widths else 0)

    @classmethod
    def construct_array_type(cls) -> builtins.type[VectorArray]:
        return VectorArray

    def __from_arrow__(self, array: Any) -> VectorArray:
        """A column read back from Arrow (parquet, feather): fixed-size lists of float32, null where missing."""
        chunks = getattr(array, "chunks", [array])
        parts = [np.asarray(chunk.flatten(), dtype=np.float32) for chunk in chunks]
        matrix = np.full((sum(len(chunk) for chunk in chunks), self.dimensions), np.nan, dtype=np.float32)
        start = 0
        for chunk, numbers in zip(chunks, parts):
            present = ~np.asarray(chunk.is_null(), dtype=bool)
            matrix[start:start + len(chunk)][present] = numbers.reshape(-1, self.dimensions)
            start += len(chunk)
        return VectorArray(matrix)

    @classmethod
    def construct_from_string(cls, string: str) -> VectorDtype:
        if not isinstance(string, str):
            raise TypeError(f"'construct_from_string' expects a string, got {type(string)}")
        if (match := _NAME.fullmatch(string)) is None:
            raise TypeError(f"Cannot construct a 'VectorDtype' from {string!r}; its name reads like 'vector[384]'")
        return cls(int(match.group(1)))


def _is_missing(cell: Any) -> bool:
    return cell is None or cell is pd.NA or (isinstance(cell, float) and math.isnan(cell))


class VectorArray(ExtensionArray):
    """A column of float32 vectors held as one (rows, dimensions) matrix.

    Parameters
    ----------
    matrix : array-like, 2-D
        The vectors, one row each; a float32 C-contiguous matrix is kept as it is, not copied.

    Examples
    --------
    >>> df["embedding"] = vz.VectorArray(model.encode(df["text"]))   # your model  # doctest: +SKIP
    """

    def __init__(self, matrix: Any) -> None:
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError(f"a VectorArray is made of a 2-D matrix (rows, dimensions), got {matrix.ndim} "
                             f"dimension{'s' if matrix.ndim != 1 else ''}")
        self._matrix: np.ndarray = matrix
        self._dtype = VectorDtype(matrix.shape[1])

    @property
    def matrix(self) -> np.ndarray:
        """The vectors, one row each (the column's own memory, not a copy)."""
        return self._matrix

    @property
    def dtype(self) -> VectorDtype:
        return self._dtype

    @property
    def nbytes(self) -> int:
        return int(self._matrix.nbytes)

    def __len__(self) -> int:
        return len(self._matrix)

    # --- construction -----------------------------------------------------------------------------

    @classmethod
    def _from_sequence(cls, scalars: Any, *, dtype: Any = None, copy: bool = False) -> VectorArray:
        if isinstance(scalars, VectorArray) and dtype in (None, scalars.dtype):
            return scalars.copy() if copy else scalars
        cells = list(scalars)
        width = dtype.dimensions if isinstance(dtype, VectorDtype) else _width(cells)
        if cells and all(type(cell) is np.ndarray and cell.shape == (width,) for cell in cells):
            return cls(np.asarray(cells, dtype=np.float32))
        matrix = np.full((len(cells), width), np.nan, dtype=np.float32)
        for row, cell in enumerate(cells):
            if not _is_missing(cell):
                matrix[row] = _vector(cell, width, f"row {row}")
        return cls(matrix)

    @classmethod
    def _from_factorized(cls, values: np.ndarray, original: VectorArray) -> VectorArray:
        return cls._from_sequence([np.nan if key is None else np.frombuffer(key, np.float32) for key in values],
                                  dtype=original.dtype)

    def _values_for_factorize(self) -> tuple[np.ndarray, Any]:
        keys = np.empty(len(self), dtype=object)
        keys[:] = [row.tobytes() for row in self._matrix]
        keys[self.isna()] = None
        return keys, None

    def isin(self, values: Any) -> np.ndarray:
        """Row by row: whether the vector is one of `values` (vectors; NaN: a missing row)."""
        wanted = list(values.array if isinstance(values, pd.Series) else values)
        keys = {_vector(v, self._dtype.dimensions, "a value").tobytes() for v in wanted
                if not _is_missing(v) and _is_one_vector(v) and np.size(v) == self._dtype.dimensions}
        found, missing = self._values_for_factorize()[0], self.isna()
        return np.array([key in keys for key in found], dtype=bool) | (missing & any(map(_is_missing, wanted)))

    def _values_for_argsort(self) -> np.ndarray:
        raise TypeError("vectors have no order to sort by: sort by a score, an id or a column computed from them "
                        "(np.linalg.norm(column.array.matrix, axis=1), say)")

    def unique(self) -> VectorArray:
        return self.factorize(use_na_sentinel=False)[1]

    def duplicated(self, keep: Any = "first") -> np.ndarray:
        return np.asarray(pd.Index(self.factorize(use_na_sentinel=False)[0]).duplicated(keep=keep))

    def value_counts(self, dropna: bool = True) -> pd.Series:
        codes, uniques = self.factorize(use_na_sentinel=dropna)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        return pd.Series(counts, index=pd.Index(uniques), name="count")

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[VectorArray]) -> VectorArray:
        return cls(np.concatenate([array._matrix for array in to_concat]))

    def copy(self) -> VectorArray:
        return VectorArray(self._matrix.copy())

    # --- reading ----------------------------------------------------------------------------------

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, np.integer)):
            row = self._matrix[item]
            return np.nan if np.isnan(row).all() else row
        if isinstance(item, tuple):  # (key,), (key, ...) or (..., key): the one axis there is
            keys = [key for key in item if key is not Ellipsis]
            item = keys[0] if len(keys) == 1 else item
        if not isinstance(item, slice):
            item = check_array_indexer(self, item)
        return VectorArray(self._matrix[item])

    def isna(self) -> np.ndarray:
        if not self._matrix.shape[1]:
            return np.ones(len(self), dtype=bool)
        missing: np.ndarray = np.isnan(self._matrix[:, 0])
        if missing.any():
            rows = np.flatnonzero(missing)
            missing[rows] = np.isnan(self._matrix[rows]).all(axis=1)
        return missing

    def take(self, indices: Any, *, allow_fill: bool = False, fill_value: Any = None) -> VectorArray:
        positions = np.asarray(indices, dtype=np.intp)
        if not allow_fill:
            return VectorArray(self._matrix.take(positions, axis=0))
        if (positions < -1).any():
            raise ValueError(f"invalid position {int(positions.min())} in take: with allow_fill, -1 is the only "
                             f"negative position allowed")
        missing = positions == -1
        if not len(self) and not missing.all():
            raise IndexError("cannot take rows other than -1 from an empty VectorArray")
        fill = np.nan if fill_value is None or _is_missing(fill_value) else _vector(fill_value, self._dtype.dimensions,
                                                                                     "the fill value")
        rows = self._matrix.take(np.where(missing, 0, positions), axis=0) if len(self) else \
            np.empty((len(positions), self._dtype.dimensions), dtype=np.float32)
        rows[missing] = fill
        return VectorArray(rows)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and np.dtype(dtype) != np.dtype(object):
            raise TypeError(f"a column of vectors is not one {np.dtype(dtype)} value a row; np.stack(column) or "
                            f"column.array.matrix gives the ({len(self)}, {self._dtype.dimensions}) float32 matrix")
        cells = np.empty(len(self), dtype=object)
        cells[:] = list(self._matrix)
        cells[self.isna()] = np.nan
        return cells

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        """Row by row: True where all the numbers are equal; against one vector, or a vector a row.
        Anything else (a string, NaN, cells that are not vectors of this width) equals no row."""
        unequal = np.zeros(len(self), dtype=bool)
        if _is_one_vector(other):
            other = np.asarray(other, dtype=np.float32)
            if other.shape != (self._dtype.dimensions,):
                return unequal
        elif pd.api.types.is_list_like(other) and len(other) == len(self):
            try:
                other = VectorArray._from_sequence(other, dtype=self._dtype)._matrix
            except (TypeError, ValueError):
                return unequal
        else:
            return unequal
        with np.errstate(invalid="ignore"):
            return np.asarray(np.asarray(self._matrix == other).all(axis=1))

    def __arrow_array__(self, type: Any = None) -> Any:
        """The column for Arrow (`df.to_parquet`, `df.to_feather`): fixed-size lists of float32."""
        import pyarrow as pa

        missing = self.isna()
        numbers, width = pa.array(self._matrix.ravel()), self._dtype.dimensions
        if missing.any():
            return pa.FixedSizeListArray.from_arrays(numbers, width, mask=pa.array(missing))
        return pa.FixedSizeListArray.from_arrays(numbers, width)

    def _formatter(self, boxed: bool = False) -> Callable[[Any], str | None]:
        return _shown

    # --- writing ----------------------------------------------------------------------------------

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, (int, np.integer, slice)):
            key = check_array_indexer(self, key)
        width = self._dtype.dimensions
        if _is_missing(value):
            self._matrix[key] = np.nan
        elif _is_one_vector(value):  # the same vector in every row keyed
            self._matrix[key] = _vector(value, width, "the value set")
        elif not pd.api.types.is_list_like(value):
            raise TypeError(f"a cell of a column of vectors takes a vector of {width} numbers or NaN, got {value!r}")
        else:
            self._matrix[key] = VectorArray._from_sequence(value, dtype=self._dtype)._matrix


def _shown(cell: Any) -> str:
    """A vector as a printed frame shows it: its first and last numbers."""
    if not isinstance(cell, np.ndarray):
        return "NaN"
    numbers = [format(x, ".3g") for x in (cell if len(cell) <= 2 * _SHOWN else (*cell[:_SHOWN], *cell[-_SHOWN:]))]
    if len(cell) > 2 * _SHOWN:
        numbers.insert(_SHOWN, "…")
    return f"[{', '.join(numbers)}]"


def _is_one_vector(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 1 and value.dtype.kind in "iufb"
    return isinstance(value, (list, tuple)) and all(isinstance(x, (int, float, np.number)) for x in value)


def _width(cells: list[Any]) -> int:
    present = next((cell for cell in cells if not _is_missing(cell)), None)
    return 0 if present is None else int(np.size(present))


def _vector(cell: Any, width: int, where: str) -> np.ndarray:
    vector = np.asarray(cell, dtype=np.float32)
    if vector.ndim != 1 or vector.shape[0] != width:
        raise ValueError(f"{where} is not a vector of {width} numbers: it has shape {vector.shape}")
    return vector
