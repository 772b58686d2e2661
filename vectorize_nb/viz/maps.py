"""Maps: the points a picture shows (ids, namespaces, metadata) and where they go, cached by content.

An index's map is keyed by a digest of the points sampled (ids, vectors, namespaces and metadata), so a
write that changes them makes the next picture new, while writing the same vectors again (a notebook
run from the top) finds the picture already computed: in memory and, for a local engine with a
folder, in the index's own folder there (`Backend.index_folder`, deleted with the index) for the next
kernel. Within a kernel the index's last applied
mutation stands for the digest it was computed at, so a repeat reads nothing but `info()`. A frame's
projection is kept in memory only, keyed by a digest of its ids and vectors; its other columns are
read afresh each time.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Hashable

import numpy as np
import orjson
import pandas as pd

from .cache import CACHE, COLUMNS, CacheKey, Dumped
from .projection import Projection, resolve_method
from .sample import Sample, describe, sample_frame, sample_index

if TYPE_CHECKING:
    from ..index import Index
    from ..contract.models import IndexInfo

__all__ = ["PointMap", "index_map", "frame_map", "cache_folder", "whole_column", "require_vectors"]

CACHE_FOLDER = "projections"


@dataclass(frozen=True, eq=False)
class PointMap:
    """`table` (id, namespace, metadata; one row per point) and `projection` (their coordinates, row for row)."""

    table: pd.DataFrame
    projection: Projection
    total: int
    seed: int

    @property
    def ids(self) -> list[str]:
        """The points' vector ids, in order."""
        return self.table["id"].tolist()

    @property
    def coords(self) -> np.ndarray:
        """The points' coordinates, row for row."""
        return self.projection.coords

    def describe(self) -> str:
        """"all 1,797 vectors" or "a seeded sample of ..." (see `sample.describe`)."""
        return describe(len(self.table), self.total, self.seed)

    def dump(self) -> Dumped:
        """Arrays and JSON values to keep on disk (`load` reads them back): the table's columns as lists,
        and their dtypes, without which an Int64 or UInt64 with a missing value came back float64, inexact
        past 2**53."""
        fitted = self.projection
        arrays = {"coords": fitted.coords, "mean": fitted.mean, "axes": fitted.axes, "explained": fitted.explained}
        if fitted.reference is not None:
            arrays["reference"] = fitted.reference
        value = {"method": fitted.method, "metric": fitted.metric, "total": self.total, "seed": self.seed,
                 "table": {str(name): column for name, column in self.table.to_dict(orient="list").items()},
                 "dtypes": {str(name): str(dtype) for name, dtype in self.table.dtypes.items()}}
        return arrays, value

    @classmethod
    def load(cls, arrays: dict[str, np.ndarray], value: dict[str, Any]) -> PointMap:
        """The map `dump` wrote.

        Parameters
        ----------
        arrays : dict of str to ndarray
        value : dict
            The JSON values.

        Raises
        ------
        ValueError
            The table and the coordinates disagree (a damaged entry).
        KeyError
            An entry written without dtypes (by an earlier version): recomputed, as any miss.
        """
        fitted = Projection(value["method"], arrays["coords"], arrays["mean"], arrays["axes"], arrays["explained"],
                            value["metric"], arrays.get("reference"))
        dtypes = value["dtypes"]
        table = pd.DataFrame({name: pd.Series(column, dtype=pd.api.types.pandas_dtype(dtypes[name]))
                              for name, column in value["table"].items()})
        if len(table) != len(fitted.coords):
            raise ValueError("a cached map whose table and coordinates disagree")
        return cls(table, fitted, value["total"], value["seed"])


def cache_folder(index: Index) -> Path | None:
    """Where an index's maps are kept on disk.

    Parameters
    ----------
    index : Index

    Returns
    -------
    Path or None
        `projections` in the index's own folder (which deleting the index deletes) for a local engine
        kept on disk; None in memory or over REST.
    """
    engine_folder = index.backend.folder
    if engine_folder is not None and (engine_folder / CACHE_FOLDER).is_dir():  # where earlier versions kept every map
        shutil.rmtree(engine_folder / CACHE_FOLDER, ignore_errors=True)
    folder = index.backend.index_folder(index.name)
    return None if folder is None else folder / CACHE_FOLDER


def require_vectors(index: Index, info: IndexInfo) -> None:
    """Raise ValueError where the index holds no vectors: there is nothing to draw."""
    if info.vector_count == 0:
        raise ValueError(f"index {index.name!r} holds no vectors yet, so there is nothing to draw: write some first "
                         "(df.vectorize.upsert(index, id=..., vector=...), then index.wait() until they are applied)")


def index_map(index: Index, size: int | None, method: str, *, n_components: int, n_neighbors: int, seed: int,
              progress: bool | None, check: Callable[[Sample], None] | None = None) -> PointMap:
    """A seeded sample of the index's vectors and its projection, from the cache when the same points
    were projected before (see the module docstring).

    Parameters
    ----------
    index : Index
    size : int or None
        How many vectors (None: all).
    method : {"auto", "pca", "umap"}
    n_components, n_neighbors, seed, progress
        As for `project`.
    check : callable, optional
        Called with the sample before it is projected (a misspelt column is then said at once).

    Raises
    ------
    ValueError
        The index holds no vectors.
    """
    info = index.info()
    require_vectors(index, info)
    size = None if size is None or size >= info.vector_count else size  # "all" has one key, whatever the cap
    chosen = resolve_method(method, size or info.vector_count, index.dimensions, n_components)
    params = (size, seed, chosen, n_components, n_neighbors, index.metric)
    state = info.processed_up_to_mutation
    at_state = None if state is None else CacheKey(index.name, state, params)
    known = None if at_state is None else CACHE.resolve(at_state)
    folder = cache_folder(index)
    cached = None if known is None else CACHE.get(known, folder, PointMap.load)
    if isinstance(cached, PointMap):
        return cached
    ids = sorted(index.list_ids())
    sample = sample_index(index, size, seed, ids)
    key = CacheKey(index.name, _digest("\x00".join(ids).encode()), params, _content(sample))
    found = None if key == known else CACHE.get(key, folder, PointMap.load)
    if not isinstance(found, PointMap):
        if check is not None:
            check(sample)
        fitted = Projection.fit(sample.vectors, chosen, n_components=n_components, metric=index.metric,
                                n_neighbors=n_neighbors, random_state=seed, progress=progress)
        found = PointMap(sample.table, fitted, sample.total, seed)
        CACHE.put(key, found, folder, PointMap.dump)
    if at_state is not None and index.info().processed_up_to_mutation == state:  # no write landed meanwhile
        CACHE.alias(at_state, key)
    return found


def frame_map(frame: pd.DataFrame, size: int | None, method: str, *, vector: Hashable | None, id: Hashable | None,
              metric: str, n_components: int, n_neighbors: int, seed: int, progress: bool | None,
              check: Callable[[Sample], None] | None = None) -> PointMap:
    """A seeded sample of the frame's rows and its projection (the projection cached in memory).

    Parameters
    ----------
    frame : DataFrame
        Vectors in a column, ids in a column or the row labels.
    size : int or None
        How many rows (None: all).
    method : {"auto", "pca", "umap"}
    vector, id : str, optional
        The vector and id columns (see `plot_index`).
    metric : str
        The frame's geometry.
    n_components, n_neighbors, seed, progress
        As for `project`.
    check : callable, optional
        Called with the sample before it is projected.
    """
    sample = sample_frame(frame, size, seed, vector, id)
    if not len(sample.table):
        raise ValueError("the frame has no rows: there is nothing to draw")
    if check is not None:
        check(sample)
    chosen = resolve_method(method, len(sample.table), sample.vectors.shape[1], n_components)
    key = CacheKey("frame", _digest("\x00".join(sample.ids).encode(), np.ascontiguousarray(sample.vectors).data),
                   (size, seed, chosen, n_components, n_neighbors, metric))
    fitted = CACHE.get(key)
    if fitted is None:
        fitted = Projection.fit(sample.vectors, chosen, n_components=n_components, metric=metric,
                                n_neighbors=n_neighbors, random_state=seed, progress=progress)
        CACHE.put(key, fitted)
    return PointMap(sample.table, fitted, sample.total, seed)


def whole_column(index: Index, column: Hashable) -> pd.Series | None:
    """Every value of a metadata property (or `namespace`) across the index, kept in memory per index
    state: what colours a map of a sample (see `colors`).

    Parameters
    ----------
    index : Index
    column : str

    Returns
    -------
    Series or None
        Read from a local engine's store at once (30 ms at 20,000 vectors, 180 ms at 100,000); None
        over REST, where it would take a request per 20 vectors, and when no vector holds the property.
    """
    if not index.backend.exports_at_once:
        return None
    state = index.info().processed_up_to_mutation
    key = CacheKey(index.name, state or "", ("column", str(column)))
    values = None if state is None else COLUMNS.get(key)
    if values is None:
        frame = index._export(values=False)
        values = frame[column] if column in frame.columns else pd.Series([], dtype=object)
        if state is not None:
            COLUMNS.put(key, values)
    return values if len(values) else None


def _digest(*parts: bytes | memoryview) -> str:
    digest = hashlib.sha256()  # the fastest of hashlib's where CPUs hash SHA-256 in hardware
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:32]


def _content(sample: Sample) -> str:
    """A digest of a sample's table (ids, namespaces, metadata) and vectors: 40 ms at 20,000 x 384."""
    table = orjson.dumps(sample.table.to_dict(orient="list"), default=str,
                         option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return _digest(table, np.ascontiguousarray(sample.vectors).data)
