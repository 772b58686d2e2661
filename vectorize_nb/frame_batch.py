"""A DataFrame as one checked write batch (`to_vectors`): its ids and vectors read by `frames.py`, its
metadata columns and namespaces checked and encoded here, the way Vectorize stores JSON.

numpy numbers become Python numbers, timestamps ISO 8601 strings, NaN/None/NaT mean "no value" (the key
is left out), a column named with dots ("author.name") is stored nested, dicts and lists stay as they are.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .contract import arguments, errors, validation
from .contract.dates import iso_text
from .contract.limits import DEFAULT_LIMITS, Limits
from .contract.metadata_json import encoded_metadata, metadata_json_of
from .contract.models import CheckedVectors, Vectors, WriteKind
from .contract.numbers import doubles
from .results import metadata_key
from .frames import a_kind, check_columns, id_note, ids_of, in_row, is_column, is_missing, row_name, vectors_of

__all__ = ["to_vectors", "namespaces_of", "metadata_values", "MISSING"]

MISSING = object()
_ENCODED_ROWS = 65_536
_IMPLIED = (' (metadata="all" reads a column "namespace" as the namespaces, as `to_frame` names them; to store it '
            'as metadata, list the columns: metadata=[..., "namespace"])')


def _metadata_columns(frame: pd.DataFrame, columns: Sequence[Hashable] | Hashable,
                      exclude: Sequence[Hashable]) -> dict[str, list[Any]]:
    names = _metadata_names(frame, columns, exclude)
    check_columns(frame, names, "metadata")
    keys: dict[str, Hashable] = {}
    for name in names:
        other = keys.setdefault(metadata_key(name), name)
        if frame.columns.get_loc(other) != frame.columns.get_loc(name):  # by place: a label NaN != itself
            raise errors.InvalidMetadata(f"the metadata columns {other!r} and {name!r} would both be the key "
                                         f"{metadata_key(name)!r}; rename one of them")
    return {key: _json_column(frame, name) for key, name in keys.items()}


def _path(key: str) -> list[str]:
    """A column's key as a path: "author.name" (as `to_frame` names a nested property) is ["author", "name"];
    a key that could not be a path ("a..b") is itself, for the checks of metadata to refuse."""
    parts = key.split(".")
    return parts if all(parts) else [key]


def _nested(frame: pd.DataFrame, rows: list[dict[str, Any] | None], ids: Sequence[str]) -> list[dict[str, Any] | None]:
    """Rows whose keys are paths become nested objects: {"author.name": "x"} is {"author": {"name": "x"}}. Columns
    "author" and "author.name" may both be there (to_frame so exports a property that is an object in some
    vectors, a value in others), but a row may set only one of them."""
    out: list[dict[str, Any] | None] = []
    for position, row in enumerate(rows):
        if row is not None and (clash := _clash(row)) is not None:
            raise errors.InvalidMetadata(
                f"the metadata columns {clash[0]!r} and {clash[1]!r} would both set the key {clash[0]!r} in "
                f"{row_name(frame, position)}{id_note(ids, position)}; leave one empty there")
        out.append(None if row is None else _nested_row(row))
    return out


def _clash(row: dict[str, Any]) -> tuple[str, str] | None:
    """A key the row sets both as a value and as an object: ("author", "author.name"); None when there is none."""
    for key in row:
        parts = _path(key)
        for end in range(1, len(parts)):
            if (above := ".".join(parts[:end])) in row:
                return above, key
    return None


def _nested_row(row: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in row.items():
        *parents, last = _path(key)
        place = nested
        for parent in parents:
            place = place.setdefault(parent, {})
        place[last] = value
    return nested


def _rows(columns: dict[str, list[Any]], length: int) -> list[dict[str, Any] | None]:
    if not columns:
        return [None] * length
    keys = list(columns)
    if not any(type(MISSING) in set(map(type, values)) for values in columns.values()):
        return [dict(zip(keys, values)) for values in zip(*columns.values())]
    return [{key: value for key, value in zip(keys, values) if value is not MISSING} or None
            for values in zip(*columns.values())]


def _json_column(frame: pd.DataFrame, name: Hashable) -> list[Any]:
    series = frame[name]
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        return series.tolist()
    if pd.api.types.is_integer_dtype(dtype) and not series.isna().any():
        return series.tolist()
    if pd.api.types.is_float_dtype(dtype):
        values = doubles(series.to_numpy(na_value=np.nan))
        if np.isinf(values).any():
            position = int(np.flatnonzero(np.isinf(values))[0])
            raise errors.InvalidMetadata(f"metadata column {name!r} holds an infinity in {row_name(frame, position)}; "
                                         "JSON has no infinity")
        return [MISSING if math.isnan(v) else v for v in values.tolist()]
    items = series.tolist()
    if set(map(type, items)) == {str}:
        return items
    return [_json_value(frame, name, position, value) for position, value in enumerate(items)]


def _json_value(frame: pd.DataFrame, name: Hashable, position: int, value: Any) -> Any:
    if isinstance(value, str) or isinstance(value, bool):
        return value
    if is_missing(value):
        return MISSING
    if isinstance(value, (float, np.floating)):
        if math.isinf(value):
            raise errors.InvalidMetadata(f"metadata column {name!r} holds an infinity in {row_name(frame, position)}")
        return float(doubles(np.asarray(value)))
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.timedelta64):  # numpy's is an integer
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (pd.Timestamp, datetime, date, np.datetime64)):
        return iso_text(pd.Timestamp(value))
    if isinstance(value, dict):
        return {str(k): _inner_value(frame, name, position, v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_inner_value(frame, name, position, v) for v in list(value)]
    raise errors.InvalidMetadata(f"metadata column {name!r} holds {a_kind(value)} in "
                                 f"{row_name(frame, position)} ({value!r:.60}), which Vectorize cannot store; convert "
                                 "it to a string or a number")


def _inner_value(frame: pd.DataFrame, name: Hashable, position: int, value: Any) -> Any:
    """A value inside a list or dict cell: a missing one is JSON's null there, keeping the others' places."""
    item = _json_value(frame, name, position, value)
    return None if item is MISSING else item


def namespaces_of(frame: pd.DataFrame, namespace: Hashable | None, *, implied: bool = False) -> list[str | None] | None:
    """A namespace per row: from a column, or one literal string for every row (`implied`: the column
    "namespace" that metadata="all" reads, which a refusal says)."""
    if namespace is None:
        return None
    if namespace not in frame.columns:
        if isinstance(namespace, str):
            return [namespace] * len(frame)
        check_columns(frame, [namespace], "namespace")
    out: list[str | None] = []
    for position, value in enumerate(frame[namespace].tolist()):
        if is_missing(value):
            out.append(None)
        elif isinstance(value, str):
            out.append(value)
        else:
            raise errors.InvalidVector(f"namespace column {namespace!r} holds {a_kind(value)} ({value!r:.40}) in "
                                       f"{row_name(frame, position)}; namespaces are strings" + (
                                           _IMPLIED if implied else ""))
    return out


def _check_namespaces(frame: pd.DataFrame, namespaces: list[str | None] | None, ids: Sequence[str],
                      limits: Limits) -> None:
    """Every namespace within its limit in bytes; a refusal names the row."""
    if not namespaces or max(map(len, filter(None, namespaces)), default=0) * 4 <= limits.max_namespace_bytes:
        return
    for position, value in enumerate(namespaces):
        try:
            validation.namespace(value, limits, ids[position])
        except errors.VectorizeError as exc:
            raise in_row(exc, frame, position) from None


def to_vectors(frame: pd.DataFrame, *, id: Hashable, vector: Hashable | None = None,
               vectors: Sequence[Hashable] | None = None, metadata: Sequence[Hashable] | Hashable | None = None,
               namespace: Hashable | None = None, dimensions: int | None = None, limits: Limits = DEFAULT_LIMITS,
               kind: WriteKind = "upsert", embedded: Callable[[], np.ndarray] | None = None) -> CheckedVectors:
    """The whole frame as one checked batch (the write pipeline splits it for sending). Errors name the
    frame's rows; ids, namespaces and metadata are checked here against the limits, the rest of a write's
    rules by `validation.check_vectors`, which takes the metadata as already encoded.
    `embedded`: makes the rows' vectors from a text column (then no vector column is read), called once the ids,
    metadata and namespaces are found good: a batch refused for them has embedded nothing (paid, on Workers AI)."""
    ids = ids_of(frame, id, limits.max_id_bytes)
    given, namespace = namespace, _namespace_column(frame, metadata, namespace, _used(frame, id, vector, vectors, None))
    matrix = vectors_of(frame, vector, vectors, dimensions, ids) if embedded is None else np.empty((0, 0), np.float32)
    rows, encoded = None, None
    if metadata is not None:
        columns = _metadata_columns(frame, metadata, _used(frame, id, vector, vectors, namespace))
        if any(len(_path(key)) > 1 for key in columns):
            rows = _nested(frame, _rows(columns, len(frame)), ids)  # as to_frame names nested properties
        elif any({dict, list} & set(map(type, values)) for values in columns.values()):
            rows = _rows(columns, len(frame))  # nested: checked value by value
        encoded = _encoded(frame, columns, ids, limits) if rows is None else _row_json(frame, rows, ids, limits)
    namespaces = namespaces_of(frame, namespace, implied=namespace is not given)
    _check_namespaces(frame, namespaces, ids, limits)
    if embedded is not None:
        matrix = embedded()
    batch = Vectors(ids, matrix, rows, namespaces)
    return validation.check_vectors(batch, kind, matrix.shape[1], limits, metadata_json=encoded)


def _namespace_column(frame: pd.DataFrame, metadata: Sequence[Hashable] | Hashable | None,
                      namespace: Hashable | None, used: Sequence[Hashable]) -> Hashable | None:
    """The namespace a write reads: `namespace`, else with metadata="all" a column "namespace" (as `to_frame`
    names the namespaces; a property "namespace" is its column 'metadata["namespace"]'), so an export is written
    back with its namespaces."""
    if namespace is None and _all(metadata) and "namespace" in frame.columns and "namespace" not in used:
        return "namespace"
    return namespace


def _all(metadata: Sequence[Hashable] | Hashable | None) -> bool:
    return metadata is True or (isinstance(metadata, str) and metadata == "all")


def _used(frame: pd.DataFrame, id: Hashable, vector: Hashable | None, vectors: Sequence[Hashable] | None,
          namespace: Hashable | None) -> list[Hashable]:
    """The columns a write reads for other than metadata (left out of metadata="all")."""
    return [id, *([vector] if vector is not None else list(vectors or [])),
            *([namespace] if namespace is not None and namespace in frame.columns else [])]


def metadata_values(frame: pd.DataFrame, metadata: Sequence[Hashable] | Hashable, types: Mapping[str, str], *,
                    id: Hashable, vector: Hashable | None = None, vectors: Sequence[Hashable] | None = None,
                    namespace: Hashable | None = None) -> dict[str, Sequence[Any]]:
    """The values of the metadata columns written to a property of `types` (its metadata index's type), as
    `to_vectors` writes them (`MISSING` where a row has none): none where the column's dtype is of that type
    (a string column of 1M rows would make 1M str objects to tell what its dtype says)."""
    namespace = _namespace_column(frame, metadata, namespace, _used(frame, id, vector, vectors, None))
    names = _metadata_names(frame, metadata, _used(frame, id, vector, vectors, namespace))
    keys = {metadata_key(name): name for name in names}
    return {key: () if _of_type(frame[name].dtype, types[key]) else _json_column(frame, name)
            for key, name in keys.items() if key in types}


def _of_type(dtype: Any, index_type: str) -> bool:
    if index_type == "string":
        return isinstance(dtype, pd.StringDtype)
    if index_type == "boolean":
        return pd.api.types.is_bool_dtype(dtype)
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _encoded(frame: pd.DataFrame, columns: dict[str, list[Any]], ids: list[str],
             limits: Limits) -> list[bytes | None]:
    """Flat metadata columns as each row's compact JSON, a slice of rows at a time: the rows' dicts never
    all exist at once (a million of them would take a tenth of a 384-wide matrix's memory again)."""
    encoded: list[bytes | None] = []
    for start in range(0, len(ids), _ENCODED_ROWS):
        part = {key: values[start:start + _ENCODED_ROWS] for key, values in columns.items()}
        rows = _rows(part, len(ids[start:start + _ENCODED_ROWS]))
        try:
            encoded += encoded_metadata(rows, ids[start:start + _ENCODED_ROWS], limits, list(columns))
        except errors.VectorizeError:  # found again row by row, to name the frame's row
            encoded += _row_json(frame, rows, ids, limits, start)
    return encoded


def _row_json(frame: pd.DataFrame, rows: Sequence[dict[str, Any] | None], ids: Sequence[str], limits: Limits,
              start: int = 0) -> list[bytes | None]:
    """Each row's metadata checked and encoded (`rows` begin at the frame's row `start`); a refusal names the
    row."""
    encoded: list[bytes | None] = []
    for position, row in enumerate(rows, start):
        try:
            encoded.append(metadata_json_of(row, limits, ids[position]))
        except errors.VectorizeError as exc:
            raise in_row(exc, frame, position) from None
    return encoded


def _metadata_names(frame: pd.DataFrame, columns: Sequence[Hashable] | Hashable,
                    exclude: Sequence[Hashable]) -> list[Hashable]:
    if _all(columns):
        return [c for c in frame.columns if c not in exclude]
    if columns is False:
        return []
    if isinstance(columns, Iterable) and not isinstance(columns, (str, bytes, Mapping)):  # bytes: a list of ints
        return list(columns)
    if isinstance(columns, str) or is_column(frame, columns):
        return [columns]
    raise arguments.ill_typed("metadata", 'a list of columns, a column or "all"', columns)
