"""Backend results as tidy pandas DataFrames: one row per match, vector or index.

Metadata is flattened into columns (nested keys joined with "."); a metadata key that would clash
with one of the fixed columns is named `metadata["key"]`. `values` is a column of float32 vectors
(`VectorArray`: one matrix, each cell a row of it).
Where a result came from is kept in `df.attrs`.
"""

from __future__ import annotations

from datetime import datetime, UTC
from functools import lru_cache
from typing import Any, cast
from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray, ExtensionDtype

try:
    from pandas.api.internals import create_dataframe_from_blocks
except ImportError:  # pandas < 3
    create_dataframe_from_blocks = None

from .contract.flat import MetadataColumns, flatten
from .contract.models import IndexDescription, IndexExport, Match, MetadataIndex, VectorRecord
from .vector_array import VectorArray

__all__ = ["matches_frame", "records_frame", "export_frame", "indexes_frame", "metadata_indexes_frame", "flatten",
           "metadata_column", "metadata_key", "key_dtype", "MATCH_COLUMNS"]

MATCH_COLUMNS = ("query", "rank", "id", "score", "namespace", "values")


def _metadata_columns(metadata: Iterable[dict[str, Any] | None], reserved: Iterable[str]) -> dict[str, list[Any]]:
    rows = list(metadata)
    if not any(rows):
        return {}
    gathered = MetadataColumns()
    gathered.add(rows)
    return _renamed(_typed(gathered.columns), reserved)


def _typed(columns: dict[str, list[Any]]) -> dict[str, Any]:
    """Metadata columns with the dtype of the values they hold, whichever rows hold them: integers are pandas'
    Int64 (UInt64 past int64, object past both) and booleans its boolean, a row without the key <NA> (3 stays 3,
    not 3.0 as float64 would make it); anything else is what pandas infers."""
    return {name: _nullable(values) for name, values in columns.items()}


def _nullable(values: list[Any]) -> Any:
    kinds = set(map(type, values)) - {type(None)}
    if kinds == {bool}:
        return pd.array(values, dtype="boolean")
    if kinds != {int}:
        return values
    present = [value for value in values if value is not None] if None in values else values
    low, high = min(present), max(present)
    if -2**63 <= low and high < 2**63:
        return pd.array(values, dtype="Int64")
    if 0 <= low and high < 2**64:  # unsigned 64-bit hashes and ids; object would not go to_parquet
        return pd.array(values, dtype="UInt64")
    return np.array(values, dtype=object)


def _renamed(columns: dict[str, list[Any]], reserved: Iterable[str]) -> dict[str, list[Any]]:
    """The metadata columns, a key that is also a fixed column's name renamed `metadata["key"]`."""
    fixed = set(reserved)
    if fixed.isdisjoint(columns):
        return columns
    return {metadata_column(name) if name in fixed else name: values for name, values in columns.items()}


def metadata_column(key: str) -> str:
    """The column of a metadata key named like a fixed column ("id" is `metadata["id"]`): no path of keys is
    named so (a key holds no '"'), so `df.vectorize.upsert` writes it back as the key it was."""
    return f'metadata["{key}"]'


def metadata_key(column: Hashable) -> str:
    """The metadata key a column writes: the key of a `metadata_column`, else the column's name."""
    name = str(column)
    return name[10:-2] if name.startswith('metadata["') and name.endswith('"]') and len(name) > 12 else name


_STRINGS = pd.Series(["text"]).dtype
"""What pandas infers for a column of str: its string dtype (pandas 3), object before."""

_ARROW_STRING_ARRAY: Any = _STRINGS.construct_array_type() if isinstance(_STRINGS, pd.StringDtype) and \
    _STRINGS.storage == "pyarrow" and int(pd.__version__.split(".")[0]) >= 3 else None
"""pandas' string array, where it is made straight from a pyarrow array with the dtype given (pandas 3
with pyarrow; pandas 2's takes no dtype). Typed Any: pandas-stubs does not know its `dtype` yet."""

if _ARROW_STRING_ARRAY is not None:
    import pyarrow


def _text(values: list[Any]) -> Any:
    """A column of strings (or None) as pandas infers it (object when all are missing); an empty one has the
    dtype of strings too, so that an empty page has the dtypes of a full one."""
    if not isinstance(_STRINGS, pd.StringDtype) or (values and values.count(None) == len(values)):
        return np.array(values, dtype=object)
    if _ARROW_STRING_ARRAY is not None:
        # pyarrow's converter without pandas' checks of each value: 2-3x faster for an export's ids,
        # and 0.55x of pd.array for a query's ids right after a scan has emptied the caches
        return _ARROW_STRING_ARRAY(pyarrow.chunked_array([values], type=pyarrow.large_string()), dtype=_STRINGS)
    return pd.array(values, dtype=_STRINGS)


def _frame(columns: dict[str, Any], attrs: dict[str, Any]) -> pd.DataFrame:
    index = pd.RangeIndex.from_range(range(len(next(iter(columns.values()))) if columns else 0))
    if create_dataframe_from_blocks is None or not columns:
        frame = pd.DataFrame(columns, index=index, copy=False)
        # pandas 2 leaves a block per column it was told not to copy, and past 100 blocks warns at every
        # new column; one per dtype, as pandas 3 makes, copies only the numpy columns (not `values`)
        cast(Any, frame)._consolidate_inplace()
    else:
        # typed blocks leave pandas nothing to infer: a query's frame in 0.2 ms right after a scan has
        # emptied the caches, where its constructor takes 0.4 ms
        arrays = [_array(values) for values in columns.values()]
        frame = create_dataframe_from_blocks(_blocks(arrays), index, _labels(tuple(columns)).view())
    return stamped(frame, attrs)


def stamped(frame: pd.DataFrame, attrs: dict[str, Any]) -> pd.DataFrame:
    """`frame` with where it came from in its `attrs`, and when, as every result frame has."""
    frame.attrs.update(attrs)
    frame.attrs.setdefault("retrieved_at", datetime.now(UTC).isoformat())
    return frame


def _blocks(arrays: list[Any]) -> list[tuple[Any, np.ndarray]]:
    """The blocks pandas' constructor would make: each extension array on its own, the numpy columns of
    one dtype stacked together (a frame of over 100 blocks warns when a column is added)."""
    blocks: list[tuple[Any, np.ndarray]] = []
    places: dict[np.dtype[Any], list[int]] = {}
    for place, array in enumerate(arrays):
        if isinstance(array, ExtensionArray):
            blocks.append((array, np.array([place])))
        else:
            places.setdefault(array.dtype, []).append(place)
    for group in places.values():
        stacked = arrays[group[0]].reshape(1, -1) if len(group) == 1 else np.vstack([arrays[p] for p in group])
        blocks.append((stacked, np.array(group)))
    return blocks


@lru_cache(maxsize=256)
def _labels(names: tuple[str, ...]) -> pd.Index:
    """The column labels of a frame, built once per set of names (each frame gets a view of its own)."""
    return pd.Index(names)


def _array(values: Any) -> Any:
    """A column as pandas' constructor would make it: a list inferred, a Series as it is typed, numpy and
    extension arrays as they are (an object array here never holds strings, which pandas 3 would infer)."""
    if isinstance(values, (np.ndarray, ExtensionArray)):
        return values
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return series.array if isinstance(series.dtype, ExtensionDtype) else series.to_numpy()


def matches_frame(results: Sequence[Sequence[Match]], attrs: dict[str, Any], *, keys: Sequence[Any] | None = None,
                  return_values: bool = False, dimensions: int = 0) -> pd.DataFrame:
    """One row per match. With `keys`, the answer to query i is labelled keys[i] in a `query` column, of the
    keys' dtype; with `return_values`, the vectors (of `dimensions`, also where nothing matched)."""
    query: list[Any] = []
    ranks: list[int] = []
    matches: list[Match] = []
    for pos, result in enumerate(results):
        matches.extend(result)
        ranks.extend(range(1, len(result) + 1))
        if keys is not None:
            query.extend([keys[pos]] * len(result))
    columns: dict[str, Any] = {}
    if keys is not None:
        columns["query"] = pd.Series(query, dtype=key_dtype(keys))
    columns["rank"] = np.asarray(ranks, dtype=np.int64)
    columns["id"] = _text([m.id for m in matches])
    columns["score"] = np.asarray([m.score for m in matches], dtype=np.float64)
    columns["namespace"] = _text([m.namespace for m in matches])
    if return_values:
        columns["values"] = _vectors([m.values for m in matches], dimensions)
    columns.update(_metadata_columns((m.metadata for m in matches), MATCH_COLUMNS))
    return _frame(columns, attrs)


def key_dtype(keys: Sequence[Any]) -> Any:
    """The dtype of a `query` column: the keys' own, or what pandas infers from all of them (so that an answer
    where nothing matched has the dtype of one where something did)."""
    return keys.dtype if hasattr(keys, "dtype") else pd.Series(keys).dtype


def _vectors(values: list[Any], dimensions: int) -> VectorArray:
    """Stored vectors as one column; none is an empty one of the index's width, as a full one has."""
    return VectorArray._from_sequence(values) if values else VectorArray(np.empty((0, dimensions), np.float32))


def records_frame(records: Sequence[VectorRecord], attrs: dict[str, Any], *, values: bool = True,
                  metadata: bool = True, dimensions: int = 0) -> pd.DataFrame:
    """One row per stored vector: id, namespace, values (float32 vectors of `dimensions`), metadata columns."""
    columns: dict[str, Any] = {
        "id": _text([r.id for r in records]),
        "namespace": _text([r.namespace for r in records]),
    }
    if values:
        columns["values"] = _vectors([r.values for r in records], dimensions)
    if metadata:
        columns.update(_metadata_columns((r.metadata for r in records), ("id", "namespace", "values")))
    return _frame(columns, attrs)


def export_frame(export: IndexExport, attrs: dict[str, Any]) -> pd.DataFrame:
    """A whole index, one row per vector: id, namespace, values (the export's matrix, not a copy),
    metadata columns; the columns the export holds."""
    columns: dict[str, Any] = {"id": _text(export.ids), "namespace": _text(export.namespaces)}
    if export.values is not None:
        columns["values"] = VectorArray(export.values)
    if export.metadata is not None:
        columns.update(_renamed(_typed(export.metadata), ("id", "namespace", "values")))
    return _frame(columns, attrs)


def ids_frame(ids: Sequence[str], attrs: dict[str, Any]) -> pd.DataFrame:
    return _frame({"id": _text(list(ids))}, attrs)


def indexes_frame(descriptions: Sequence[IndexDescription], attrs: dict[str, Any]) -> pd.DataFrame:
    return _frame({
        "name": _text([d.name for d in descriptions]),
        "dimensions": np.asarray([d.dimensions for d in descriptions], dtype=np.int64),
        "metric": _text([d.metric for d in descriptions]),
        "description": _text([d.description for d in descriptions]),
        "created_on": _dates([d.created_on for d in descriptions]),
        "modified_on": _dates([d.modified_on for d in descriptions]),
    }, attrs)


def _dates(values: list[Any]) -> pd.Series:
    """UTC times to the microsecond, as Cloudflare writes them (pandas would give an empty column seconds)."""
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True).dt.as_unit("us")


def metadata_indexes_frame(indexes: Sequence[MetadataIndex], attrs: dict[str, Any]) -> pd.DataFrame:
    return _frame({
        "property_name": _text([m.property_name for m in indexes]),
        "index_type": _text([m.index_type for m in indexes]),
    }, attrs)
