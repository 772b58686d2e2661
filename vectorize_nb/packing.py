"""Sequences of Python numbers into float32 rows: the reader behind a DataFrame column of lists.

Reading every Python float is the whole cost of turning a column of lists into a matrix (38M of
them for 100k x 384). Two readers give the same rows and report the same problems:

- the compiled one (`_packing.c`), built when the package is installed where a C compiler is
  found: it reads as fast as memory allows, about twice as fast as the next;
- `pack_rows_struct`, the fastest pure-Python way measured (struct's packer reads each number in
  C; numpy.fromiter, np.array, array.array and pyarrow were 1.5-2x slower): used without a compiler.

A problem is reported as (row, what): "number" (an item is not a number) or "width" (a row of
another length). NaN, infinities and numbers beyond float32's range (which become infinities) are
packed; finding them is the caller's business (one cheap pass over the matrix).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

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


def _compiled() -> Callable[[Sequence[Any], Any, int], Problem] | None:
    try:
        from ._packing import pack_rows
    except ImportError:  # installed without a C compiler
        return None
    return pack_rows


_COMPILED_READER = _compiled()
COMPILED = _COMPILED_READER is not None
pack_rows: Callable[[Sequence[Any], Any, int], Problem] = _COMPILED_READER or pack_rows_struct
