"""The request rules of Vectorize v2, checked the same way by the engine and by the client.

Every check raises the exception Cloudflare's code maps to, with a message that names the limit,
the value received and the offending id where there is one.
"""

from __future__ import annotations

import re
from typing import Any
from collections.abc import Sequence

import numpy as np
import orjson

from . import arguments, errors
from .base_error import quoted
from .filters import json_kind, not_an_object
from .limits import Limits
from .metadata_json import metadata_json_of
from .models import (INDEX_TYPES, METADATA_MODES, METRICS, PRESETS, CheckedVectors, IndexConfig, QueryOptions,
                     VectorCells, Vectors, WriteKind)

__all__ = [
    "index_name", "index_not_found", "no_config", "index_config", "preset_config", "id_text", "vector_id", "id_list",
    "ids_listed", "asked_ids", "namespace", "write_count", "unique_rows", "check_vectors", "first_bad_cell",
    "recheck_cells", "first_non_finite_row", "query_option_types", "query_options", "query_vector", "list_count",
    "metadata_index_spec", "utf8_len", "wrong_width", "not_numbers",
]

_NAME = re.compile(r"[a-z][a-z0-9_-]*[a-z0-9]")
CELL_ROWS = 16384
"""Rows of a column of arrays checked at a time (24 MB of float32 at 384 dimensions)."""


_FLOAT32 = "within float32's range (±3.4e38)"


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def index_name(name: Any, limits: Limits) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or utf8_len(name) > limits.max_index_name_bytes:
        raise errors.InvalidIndexName(
            f"vectorize.index.invalid_name - Index name {name!r} is not valid; it must match "
            f"[a-z][a-z0-9_-]*[a-z0-9] and be at most {limits.max_index_name_bytes} bytes")
    return name


def index_not_found(name: str) -> errors.IndexNotFound:
    """No index of that name, in Vectorize's words (an empty name included, on every target)."""
    return errors.IndexNotFound(f'vectorize.index.not_found - Index name "{name}"')


def no_config() -> errors.InvalidIndexConfig:
    """An index asked for with no configuration at all (neither dimensions and metric nor a preset)."""
    return errors.InvalidIndexConfig("vectorize.index.invalid_config - Config must be provided")


def index_config(dimensions: Any, metric: Any, preset: Any, limits: Limits) -> IndexConfig:
    """Resolve a create-index config: either a preset, or dimensions plus metric."""
    if preset is not None:
        if not isinstance(preset, str) or preset not in PRESETS:
            raise errors.InvalidIndexConfig(
                f"vectorize.index.invalid_config - Unknown preset {preset!r}; known presets: "
                + ", ".join(PRESETS))
        return preset_config(preset, dimensions, metric)
    if dimensions is None and metric is None:
        raise no_config()
    if not arguments.is_whole(dimensions) or not limits.min_dimensions <= dimensions <= limits.max_dimensions:
        raise errors.InvalidIndexConfig(
            f"vectorize.index.invalid_config - Dimensions must be in range: "
            f"[{limits.min_dimensions}, {limits.max_dimensions}], got {dimensions!r}")
    if metric not in METRICS:
        raise errors.InvalidIndexConfig(
            f"vectorize.index.invalid_config - Metric must be one of {', '.join(METRICS)}, got {metric!r}")
    return IndexConfig(int(dimensions), metric)


def preset_config(preset: str, dimensions: Any, metric: Any) -> IndexConfig:
    """A known preset's config; dimensions or a metric given with it must be the preset's own."""
    dims, preset_metric = PRESETS[preset]
    if (dimensions is not None and dimensions != dims) or (metric is not None and metric != preset_metric):
        raise errors.InvalidIndexConfig(
            f"vectorize.index.invalid_config - Preset {preset!r} makes an index of {dims} dimensions and metric "
            f"{preset_metric}, got dimensions={dimensions!r} and metric={metric!r} with it")
    return IndexConfig(dims, preset_metric, preset)


def id_text(value: Any) -> Any:
    """An integer id as its decimal string (Vectorize ids are strings: 7 and "7" are one vector);
    any other value as it is, for `vector_id` to judge."""
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    return str(value) if integer else value


def vector_id(value: Any, limits: Limits, row: int | None = None) -> str:
    where = "" if row is None else f" at row {row}"
    if not isinstance(value, str):
        raise errors.InvalidVector(
            f"vector id must be a string, got {type(value).__name__} {value!r}{where}")
    if not value:
        raise errors.InvalidVector(f"vector id must not be empty{where}")
    size = utf8_len(value)
    if size > limits.max_id_bytes:
        raise errors.IdTooLong(
            f"id too long; max is {limits.max_id_bytes} bytes, got {size} bytes (id={quoted(value)})")
    return value


def id_list(ids: Any, max_count: int, limits: Limits) -> list[str]:
    """Ids for get_by_ids/delete_by_ids: a list of valid ids, at most `max_count` of them."""
    if isinstance(ids, str) or not isinstance(ids, Sequence):
        raise errors.MalformedRequest(f"ids must be a list of strings, got {type(ids).__name__}")
    if len(ids) > max_count:
        raise errors.TooManyIds(f"too many ids in payload; max id count is {max_count}, got {len(ids)}")
    return [vector_id(value, limits, row) for row, value in enumerate(ids)]


def asked_ids(ids: Any, limits: Limits) -> list[str]:
    """The ids a Python caller asks for (a list, an array or a Series; integers as their decimal
    strings), every one checked before any request is sent, repeats dropped."""
    ids_listed(ids)
    return list(dict.fromkeys(vector_id(id_text(value), limits, row) for row, value in enumerate(ids)))


def ids_listed(ids: Any, *, paired: bool = False) -> None:
    """Refuse ids that are not a list of them (a string would be read as one id per character, a frame as
    its column names). A set is taken only where no other argument's rows are `paired` with the ids."""
    if not paired and isinstance(ids, (set, frozenset)):
        return
    if isinstance(ids, str):
        advice = f"for the one id pass [{ids!r}]"
    elif hasattr(ids, "columns"):
        advice = ('a DataFrame iterates as its column names: pass its id column, df["id"], or give the frame to '
                  'df.vectorize.delete(index, id="id") or df.vectorize.fetch(index, id="id")')
    else:
        advice = ""
    arguments.listed("ids", ids, "a list of ids", advice=advice)


def namespace(value: Any, limits: Limits, vid: str | None = None) -> str | None:
    if value is None:
        return None
    owner = "" if vid is None else f" for id={quoted(vid)}"
    if not isinstance(value, str):
        raise errors.InvalidVector(f"namespace must be a string{owner}, got {json_kind(value, shown=True)}")
    size = utf8_len(value)
    if size > limits.max_namespace_bytes:
        raise errors.NamespaceTooLong(
            f"namespace too long{owner}; max is {limits.max_namespace_bytes} bytes, got {size} bytes")
    return value


def write_count(count: int, limits: Limits) -> None:
    """One insert/upsert request holds at most `limits.max_vectors_per_write` vectors."""
    if count > limits.max_vectors_per_write:
        raise errors.TooManyVectors(
            f"too many vectors in payload; max is {limits.max_vectors_per_write}, got {count}")


def unique_rows(ids: Sequence[str], kind: WriteKind) -> list[int] | None:
    """Positions that keep one row per id (insert keeps the first, upsert the last), or None when the
    ids are unique already."""
    if len(set(ids)) == len(ids):
        return None
    positions: dict[str, int] = {}
    for pos, vid in enumerate(ids):
        if kind == "insert":
            positions.setdefault(vid, pos)
        else:
            positions[vid] = pos
    return sorted(positions.values())


def check_vectors(vectors: Vectors | CheckedVectors, kind: WriteKind, dimensions: int, limits: Limits, *,
                  metadata_json: Sequence[bytes | None] | None = None) -> CheckedVectors:
    """Every rule of a write, for a batch of any size, before anything is written: one row per id
    (insert keeps the first of a repeated id, upsert the last), ids, values, namespaces and metadata.

    `metadata_json`: the rows' metadata already encoded by `metadata_json.encoded_metadata` (a DataFrame's flat
    columns); otherwise each row's metadata is checked and encoded here.
    """
    if isinstance(vectors, CheckedVectors) and metadata_json is None:
        metadata_json = vectors.metadata_json
    keep = unique_rows(vectors.ids, kind)
    if keep is not None:
        vectors = vectors.take(keep)
        metadata_json = None if metadata_json is None else [metadata_json[r] for r in keep]
    count = len(vectors)
    _check_strings(vectors.ids, limits.max_id_bytes, lambda row, vid: vector_id(vid, limits, row))
    values = vectors.values if isinstance(vectors.values, VectorCells) else \
        np.ascontiguousarray(vectors.values, dtype=np.float32)
    if values.ndim != 2 or values.shape[0] != count:
        raise errors.InvalidVector(f"values must be an array of shape ({count}, {dimensions}), got {values.shape}")
    if values.shape[1] != dimensions:
        raise wrong_width(vectors.ids[0] if count else "?", dimensions, values.shape[1])
    if isinstance(values, np.ndarray) and (row := first_non_finite_row(values)) is not None:
        col = int(np.flatnonzero(~np.isfinite(values[row]))[0])
        raise errors.InvalidVector(
            f"invalid vector for id={quoted(vectors.ids[row])}: values must be finite numbers {_FLOAT32}, "
            f"got {values[row, col]} at position {col}")
    if vectors.namespaces is not None:
        ids = vectors.ids
        _check_strings(vectors.namespaces, limits.max_namespace_bytes,
                       lambda row, value: namespace(value, limits, ids[row]), optional=True)
    metadata = vectors.metadata
    if metadata_json is None:
        metadata_json = [None] * count if metadata is None else [
            None if md is None else metadata_json_of(md, limits, vid) for md, vid in zip(metadata, vectors.ids)]
        metadata = None  # the caller's objects may hold numpy's float32: what is filtered is the JSON stored
    return CheckedVectors(list(vectors.ids), values, metadata, vectors.namespaces, list(metadata_json))


def _check_strings(values: Sequence[Any], max_bytes: int, explain: Any, optional: bool = False) -> None:
    """Ids or namespaces: a pass in C for the usual case (all short, non-empty strings), then a row by
    row pass that calls `explain(row, value)` to raise the precise error for a bad one."""
    present = [v for v in values if v is not None] if optional else values
    if not present or (set(map(type, present)) == {str} and min(map(len, present)) > 0
                       and max(map(len, present)) * 4 <= max_bytes):
        return
    for row, value in enumerate(values):
        if value is None and optional:
            continue
        if type(value) is not str or not value or (len(value) * 4 > max_bytes and utf8_len(value) > max_bytes):
            explain(row, value)


def first_bad_cell(cells: Sequence[Any], width: int) -> tuple[int, str] | None:
    """For vectors given as one array per row: the first row that is not `width` finite numbers, and
    what is wrong with it ("width", "finite" or "type"), else None. Read CELL_ROWS rows at a time, so
    that checking them never copies them all into one matrix."""
    for start in range(0, len(cells), CELL_ROWS):
        part = cells[start:start + CELL_ROWS]
        with np.errstate(over="ignore", invalid="ignore"):  # a number beyond float32 becomes inf, found below
            try:
                matrix = np.asarray(part, dtype=np.float32)
            except (TypeError, ValueError):  # ragged, or not numbers: find the row
                matrix = None
            if matrix is None or matrix.ndim != 2 or matrix.shape[1] != width:
                position, what = _first_odd_cell(part, width)
                return start + position, what
            if (row := first_non_finite_row(matrix)) is not None:
                return start + row, "finite"
    return None


def recheck_cells(vectors: CheckedVectors) -> CheckedVectors:
    """A checked batch whose values are a frame's arrays, read again (a retry reads them after the user
    may have changed them): the same batch, or the error naming the first id whose array went bad."""
    values = vectors.values
    if not isinstance(values, VectorCells) or (problem := first_bad_cell(values.cells, values.width)) is None:
        return vectors
    row, what = problem
    vid = vectors.ids[row]
    if what == "width":
        raise wrong_width(vid, values.width, int(np.size(values.cells[row])))
    if what == "finite":
        raise errors.InvalidVector(f"invalid vector for id={quoted(vid)}: values must be finite numbers {_FLOAT32}")
    raise not_numbers(vid)


def _first_odd_cell(cells: Sequence[Any], width: int) -> tuple[int, str]:
    for position, cell in enumerate(cells):
        shape = np.shape(cell)
        if len(shape) != 1:
            return position, "type"
        if shape[0] != width:
            return position, "width"
        try:
            np.asarray(cell, dtype=np.float32)
        except (TypeError, ValueError):
            return position, "type"
    raise AssertionError("no odd cell among cells that did not stack")  # pragma: no cover


def first_non_finite_row(values: np.ndarray) -> int | None:
    """The first row of a 2-D matrix holding NaN or an infinity, else None. The usual case costs one
    pass of BLAS row sums (a quarter of a float64 sum's time); only a sum that is not finite, which
    overflowing float32 numbers can also cause, leads to the exact check."""
    if values.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values @ np.ones(values.shape[1], dtype=values.dtype)).all():
            return None
    bad = ~np.isfinite(values).all(axis=1)
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def wrong_width(vid: Any, expected: int, got: int) -> errors.VectorDimensionMismatch:
    """40012 for a vector of the wrong width, as the service words it."""
    error = errors.VectorDimensionMismatch(
        f"invalid vector for id={quoted(str(vid))}, expected {expected} dimensions, and got {got} dimensions")
    error.width = got
    return error


def not_numbers(vid: Any) -> errors.UnparsableVectors:
    """40023 for a vector whose values are not all numbers."""
    return errors.UnparsableVectors(
        f"vectorize.upstream_error - failed to parse vectors: values of id={quoted(str(vid))} are not all numbers")


def _ill_typed(field: str, expected: str, got: Any, python: bool) -> errors.MalformedRequest:
    """A field of the wrong type: in the request body's terms (camelCase, as the service words it), or
    in the Python caller's (snake_case)."""
    if python:
        return arguments.ill_typed(re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower(), expected, got)
    shown = orjson.dumps(got, option=orjson.OPT_SERIALIZE_NUMPY, default=repr).decode()
    return errors.MalformedRequest(f"Failed to parse the request body as JSON: {field}: expected {expected}, "
                                   f"got {shown}")


def query_option_types(top_k: Any, return_values: Any, return_metadata: Any, *, python: bool = False) -> None:
    """40026 for a query option of the wrong type: in a request body's terms (as the service words them:
    a boolean returnMetadata is `returnMetadata: expected value`), or, with `python`, in a Python caller's
    (`return_metadata must be one of 'none', 'indexed', 'all'; got 'al'`)."""
    if not isinstance(return_metadata, str) or return_metadata not in METADATA_MODES:
        if not python and not isinstance(return_metadata, str):
            raise errors.MalformedRequest("Failed to parse the request body as JSON: returnMetadata: expected value")
        modes = ", ".join(repr(m) if python else f'"{m}"' for m in METADATA_MODES)
        raise _ill_typed("returnMetadata", f"one of {modes}", return_metadata, python)
    if not isinstance(return_values, (bool, np.bool_) if python else bool):
        raise _ill_typed("returnValues", "True or False" if python else "a boolean", return_values, python)
    if isinstance(top_k, bool) or not isinstance(top_k, (int, float, np.integer, np.floating)):
        raise _ill_typed("topK", "a whole number" if python else "a number", top_k, python)


def query_options(options: QueryOptions, limits: Limits, *, python: bool = False) -> QueryOptions:
    """Check topK, the return modes and the namespace; return the options with topK as an int.
    `python`: word type errors for a Python caller rather than for a request body."""
    query_option_types(options.top_k, options.return_values, options.return_metadata, python=python)
    top_k = options.top_k
    if not arguments.is_whole(top_k) or top_k < 1:
        raise errors.InvalidQuery(f"topK must be a whole number of at least 1, got {top_k!r}")
    cap = limits.top_k_cap(options.return_values, options.return_metadata)
    if top_k > cap:
        if cap == limits.max_top_k:
            message = f"max top K is {limits.max_top_k}, but got {int(top_k)}"
        else:
            message = (f"with returnValues=true or returnMetadata=all, max top K is {cap}, but got "
                       f"{int(top_k)}; for a top K up to {limits.max_top_k}, retry with "
                       "returnValues=false and returnMetadata=indexed")
        raise errors.TopKTooLarge(message)
    if options.namespace is not None and not isinstance(options.namespace, str):
        raise _ill_typed("namespace", "a string", options.namespace, python)
    namespace(options.namespace, limits)
    if options.filter is not None and not isinstance(options.filter, dict):
        raise not_an_object(options.filter)
    if isinstance(top_k, int) and not isinstance(top_k, np.integer) and isinstance(options.return_values, bool):
        return options
    return QueryOptions(int(top_k), bool(options.return_values), options.return_metadata,
                        options.namespace, options.filter)


def query_vector(vector: Any, dimensions: int | None = None) -> np.ndarray:
    """The query vector as float32, checked for finiteness and (when given) the index's dimensions."""
    try:
        with np.errstate(over="ignore"):  # a number beyond float32 becomes an infinity, refused below
            array = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError):
        raise errors.MalformedRequest(
            "Failed to parse the request body as JSON: vector: expected an array of numbers") from None
    if array.ndim != 1:
        width = "" if dimensions is None else f" of {dimensions} dimensions"
        raise errors.QueryDimensionMismatch(
            f"invalid query vector, expected one vector{width}, and got an array of shape {array.shape}")
    if dimensions is not None and array.shape[0] != dimensions:
        error = errors.QueryDimensionMismatch(
            f"invalid query vector, expected {dimensions} dimensions, and got {array.shape[0]} dimensions")
        error.width = array.shape[0]
        raise error
    if not (finite := np.isfinite(array)).all():
        col = int(np.flatnonzero(~finite)[0])
        raise errors.InvalidQuery(f"the query vector must hold finite numbers {_FLOAT32}, got {array[col]} at "
                                  f"position {col}")
    return array


def query_matrix(vectors: Any, dimensions: int | None = None) -> np.ndarray:
    """Query vectors, one per row, as float32: a 2-D array whose rows `query_vector` would take."""
    try:
        with np.errstate(over="ignore"):
            queries = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError):
        raise errors.MalformedRequest(
            "Failed to parse the request body as JSON: vector: expected an array of numbers") from None
    if queries.ndim != 2:
        raise errors.InvalidQuery(f"query_many takes a 2-D array of vectors, got shape {queries.shape}")
    if (dimensions is not None and queries.shape[1] != dimensions) or not np.isfinite(queries).all():
        for row in queries:
            query_vector(row, dimensions)
    return queries


def list_count(count: Any, limits: Limits, *, name: str = "count") -> int:
    """A page size of a listing (the default where None), refused in the words of the argument `name`."""
    if count is None:
        return limits.default_list_count
    if not arguments.is_whole(count) or not limits.min_list_count <= count <= limits.max_list_count:
        raise errors.InvalidListCount(
            f"{name} must be a whole number from {limits.min_list_count} to {limits.max_list_count}, "
            f"got {count!r}")
    return int(count)


def metadata_index_spec(property_name: Any, index_type: Any) -> tuple[str, str]:
    if index_type not in INDEX_TYPES:
        raise errors.InvalidMetadataIndex(
            f"indexType must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
    if not isinstance(property_name, str) or not property_name or any(
            not part or part.startswith("$") or '"' in part for part in property_name.split(".")):
        raise errors.InvalidMetadataIndex(
            f"propertyName must be a non-empty key (dots for nesting; no '\"', no leading '$'), "
            f"got {property_name!r}")
    return property_name, index_type
