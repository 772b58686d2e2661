"""Seeded samples of an index or of a frame: which points a picture shows.

The same index state, size and seed always give the same ids: ids are sorted before a seeded choice,
so the order in which a backend lists them does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from .inputs import frame_ids, frame_matrix, vector_column

if TYPE_CHECKING:
    from ..index import Index

__all__ = ["Sample", "choose", "describe", "sample_index", "sample_frame", "positions"]


@dataclass(frozen=True, eq=False)
class Sample:
    """Some points of an index or frame: `table` holds id, namespace and metadata (or the frame's other
    columns), one row per point; `vectors` their values, row for row; `total` the points there were."""

    table: pd.DataFrame
    vectors: np.ndarray
    total: int
    seed: int

    @property
    def ids(self) -> list[str]:
        """The points' vector ids, in order."""
        return self.table["id"].tolist()


def describe(shown: int, total: int, seed: int) -> str:
    """"all 1,234 vectors" ("1 vector") or "a seeded sample of 2,000 of 10,000 vectors (seed 42)".

    Parameters
    ----------
    shown, total : int
        The points drawn, and those there were.
    seed : int
        The sample's seed.
    """
    if shown >= total:
        return "1 vector" if total == 1 else f"all {total:,} vectors"
    return f"a seeded sample of {shown:,} of {total:,} vectors (seed {seed})"


def choose(count: int, size: int | None, seed: int) -> np.ndarray:
    """Sorted positions of a seeded sample.

    Parameters
    ----------
    count : int
        How many there are.
    size : int or None
        How many to pick (None, or `count` or more: all of them).
    seed : int

    Raises
    ------
    ValueError
        A size below 1.
    """
    if size is not None and size < 1:
        raise ValueError(f"a sample size is a positive number, got {size}")
    if size is None or size >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size, replace=False))


def sample_index(index: Index, size: int | None, seed: int, ids: Sequence[str] | None = None) -> Sample:
    """A seeded sample of the index's vectors with their namespaces and metadata.

    Parameters
    ----------
    index : Index
    size : int or None
        How many (None: all).
    seed : int
    ids : sequence of str, optional
        Every id of the index, sorted, when the caller has listed them.
    """
    ids = sorted(index.list_ids()) if ids is None else ids
    picked = [ids[i] for i in choose(len(ids), size, seed)]
    stored = index._read_ids(picked).reset_index(drop=True)
    vectors = frame_matrix(stored, "values") if len(stored) else np.empty((0, index.dimensions), np.float32)
    return Sample(stored.drop(columns="values"), vectors, len(ids), seed)


def sample_frame(frame: pd.DataFrame, size: int | None, seed: int, vector: Hashable | None = None,
                 id: Hashable | None = None) -> Sample:
    """A seeded sample of a frame's rows (e.g. `index.to_frame()`); `table` keeps its other columns.

    Parameters
    ----------
    frame : DataFrame
    size : int or None
        How many rows (None: all).
    seed : int
    vector, id : str, optional
        The vector and id columns (see `plot_index`).
    """
    column = vector_column(frame, vector)
    picked = frame.iloc[choose(len(frame), size, seed)]
    ids = frame_ids(picked, id)
    id_column = id if id is not None else ("id" if "id" in picked.columns else None)
    table = picked.drop(columns=[name for name in (column, id_column) if name is not None])
    table = table.reset_index(drop=True)
    table.insert(0, "id", ids)
    if "namespace" not in table.columns:
        table.insert(1, "namespace", pd.Series([None] * len(table), dtype=object))
    return Sample(table, frame_matrix(picked, column), len(frame), seed)


def positions(ids: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """For each wanted id, its position in `ids` (-1 when absent).

    Parameters
    ----------
    ids : sequence of str
        Unique ids.
    wanted : sequence of str
    """
    return pd.Index(ids).get_indexer(pd.Index(list(wanted)))
