"""Numbers as JSON holds them: a float narrower than a double is its shortest decimal (numpy's repr of it, the
number pandas shows), so that float32's 0.1 is stored, and compared in a filter, as 0.1, not as its exact double
0.10000000149011612, which a filter == 0.1 misses."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["doubles", "plain"]


def doubles(values: np.ndarray) -> np.ndarray:
    """Floats as doubles, a narrower float as its shortest decimal."""
    if values.dtype.itemsize < 8:
        return values.astype(str).astype(np.float64)
    return values.astype(np.float64, copy=False)


def plain(value: np.generic) -> Any:
    """A numpy scalar (a frame's cell: df.year.iloc[0]) as the Python value it is written as."""
    if isinstance(value, np.floating):
        return float(doubles(np.asarray(value)))
    return value.item()
