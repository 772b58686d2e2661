"""Sequences of Python numbers into float32 rows: the reader behind a DataFrame column of lists.

Reading every Python float is the whole cost of turning a column of lists into a matrix (38M of
them for 100k x 384). Two readers give the same rows and report the same problems:

- the compiled one (`_packing.c`), built when the package is installed where a C compiler is
  found: it reads as fast as memory allows, on two cores for a large column (100k x 384 into a
  new matrix takes 0.093 s; 0.155 s on one core);
- `pack_rows_struct`, the fastest pure-Python way measured (0.36 s: struct's packer reads each
  number in C; numpy.fromiter, np.array, array.array, pyarrow and polars took 1.6-2.3x as long),
  used where the package was installed without a C compiler.

A problem is reported as (row, what): "number" (an item is not a number) or "width" (a row of
another length). NaN, infinities and numbers beyond float32's range (which become infinities) are
packed; finding them is the caller's business (one cheap pass over the matrix).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from .cpus import available

Problem = tuple[int, str] | None

__all__ = ["pack_rows", "pack_rows_struct", "COMPILED"]


def pack_rows_struct(cells: Sequence[Any], out: Any, width: int) -> Problem:
    """Write each cell's numbers into the writable buffer `out` as float32 rows of `width` numbers."""
    buffer = memoryview(out).cast("B")
    if width < 0 or len(buffer) < len(cells) * width * 4:
        raise ValueError("out holds fewer than len(cells) * width float32 numbers")
    pack_into, step = struct.Struct(f"{width}f").pack_into, width * 4
    for row, cell in enumerate(cells):
        try:
            pack_into(buffer, row * step, *cell)  # native format: no range check, 1e39 becomes inf
        except (TypeError, struct.error):
            return row, "width" if hasattr(cell, "__len__") and len(cell) != width else "number"
    return None


try:
    from ._packing import pack_rows as _COMPILED_READER
except ImportError:  # installed without a C compiler
    _COMPILED_READER = None

COMPILED = _COMPILED_READER is not None
_TWO_THREADS_FROM = 1 << 20  # numbers; below that a second thread saves less than it costs to start
_CORES = available()


def pack_rows(cells: Sequence[Any], out: Any, width: int) -> Problem:
    """Write each cell's numbers into the writable buffer `out` as float32 rows of `width` numbers,
    with the compiled reader (on two cores for a large column) where it was built."""
    if _COMPILED_READER is None:
        return pack_rows_struct(cells, out, width)
    threads = 2 if _CORES > 1 and len(cells) * width >= _TWO_THREADS_FROM else 1
    problem: tuple[int, str] | None = _COMPILED_READER(cells, out, width, threads)
    return problem
