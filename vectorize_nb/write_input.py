"""What `Index.insert/upsert` accept, as one batch: a `Vectors` as it is, a list of `{"id", "values",
...}` records, or ids plus a 2-D array of values (`as_vectors`). The batch is checked later, whole,
by the `Writer` (`writes.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import numpy as np

from .contract import arguments, errors, validation
from .contract.filters import is_number
from .contract.models import CheckedVectors, Vectors

__all__ = ["as_vectors", "vectors_from_records"]

_RECORD_KEYS = {"id", "values", "metadata", "namespace"}


def vectors_from_records(records: Sequence[Any], dimensions: int | None = None) -> Vectors:
    """`{"id", "values", "metadata"?, "namespace"?}` records as a `Vectors` batch, the values a list, a
    tuple or a 1-D array. A record of another shape, or with other keys (a metadata property beside them,
    which would be lost), is an `InvalidVector` error naming the record; a record whose length differs
    from `dimensions` (or from the first record's) names its id."""
    ids: list[str] = []
    rows: list[Any] = []
    for pos, record in enumerate(records):
        values = record.get("values") if isinstance(record, dict) else None
        if values is None or "id" not in record or not (isinstance(values, (list, tuple)) or
                                                        (isinstance(values, np.ndarray) and values.ndim == 1)):
            given = f"; got {record!r:.80}: for ids, pass their values too, index.upsert(ids, values)" \
                if isinstance(record, (str, int)) else ""
            raise errors.InvalidVector(f'record {pos} is not a vector: a dict with an "id" and "values" (a list, '
                                       f"a tuple or a 1-D NumPy array){given}")
        if unknown := record.keys() - _RECORD_KEYS:  # a metadata property beside them would be lost
            named = ", ".join(f'"{key}"' for key in sorted(map(str, unknown)))
            raise errors.InvalidVector(f'record {pos} (id="{record["id"]}") has keys that are not a vector\'s: '
                                       f'{named}; a record holds "id", "values", and optionally "metadata" (a dict: '
                                       '{"genre": ...}) and "namespace"')
        ids.append(record["id"])
        rows.append(values)
    width = dimensions if dimensions is not None else (len(rows[0]) if rows else 0)
    for pos, row in enumerate(rows):
        if len(row) != width:
            raise validation.wrong_width(ids[pos], width, len(row))
    try:
        matrix = np.array(rows, dtype=np.float32).reshape(len(rows), width)
    except (TypeError, ValueError):
        _refuse_row(ids, rows, width, "record")
    metadata = [record.get("metadata") for record in records]
    namespaces = [record.get("namespace") for record in records]
    return Vectors(ids, matrix, metadata if any(m is not None for m in metadata) else None,
                   namespaces if any(n is not None for n in namespaces) else None)


def as_vectors(data: Any, values: Any = None, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None,
               dimensions: int | None = None) -> Vectors | CheckedVectors:
    """What `Index.insert/upsert` accept, as a batch: a `Vectors` or `CheckedVectors` as it is, a list
    of `{"id", "values", ...}` records, or ids plus a 2-D array of values. Integer ids become their
    decimal strings, as `df.vectorize` makes them (Vectorize ids are strings)."""
    if isinstance(data, (Vectors, CheckedVectors)):
        return data
    if values is None:
        if isinstance(data, dict):
            raise errors.InvalidVector(
                f"records are a list of dicts, got a dict of {len(data)} entries: for a dict of id to vector, pass "
                "list(d) and list(d.values()) as ids and values; for one record, put it in a list")
        records = [{**r, "id": validation.id_text(r["id"])} if isinstance(r, dict) and "id" in r else r for r in data]
        return vectors_from_records(records, dimensions)
    validation.ids_listed(data, paired=True)
    ids = [validation.id_text(vid) for vid in data]
    try:
        matrix = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):  # a text among the numbers, or rows of several lengths
        if not isinstance(values, Iterable):
            raise errors.InvalidRequest(f"values must be a 2-D array with one row per id ({len(ids)}), got "
                                        f"{type(values).__name__} {values!r:.40}") from None
        _refuse_row(ids, list(values), dimensions, "values row")
    if matrix.ndim != 2 or len(matrix) != len(ids):
        raise errors.InvalidRequest(
            f"values must be a 2-D array with one row per id ({len(ids)}), got shape {matrix.shape}")
    if isinstance(namespaces, str):
        namespaces = [namespaces] * len(ids)
    _per_id("metadata", metadata, len(ids), "a list of one dict (or None) per id")
    _per_id("namespaces", namespaces, len(ids), "a string, or a list of one string (or None) per id")
    return Vectors(ids, matrix, None if metadata is None else list(metadata),
                   None if namespaces is None else list(namespaces))


def _per_id(name: str, given: Any, count: int, expected: str) -> None:
    """`given` (unless None) holds one entry per id, and is not itself one entry (a dict, a number)."""
    if given is None:
        return
    arguments.listed(name, given, expected)
    if not hasattr(given, "__len__"):
        raise arguments.ill_typed(name, expected, given)
    if len(given) != count:
        raise errors.InvalidRequest(f"{name} must have one entry per id ({count}), got {len(given)}")


def _refuse_row(ids: Sequence[str], rows: Sequence[Any], width: int | None, what: str) -> NoReturn:
    """Raise for the first of `rows` (named `what` and its position, with its id) that is not a sequence of
    numbers, or not `width` of them (by default the first row's length)."""
    for pos, (vid, row) in enumerate(zip(ids, rows)):
        if not isinstance(row, (list, tuple, np.ndarray)) or not all(is_number(x) for x in row):
            raise errors.InvalidVector(f'{what} {pos} (id="{vid}"): its values are not all numbers')
        width = len(row) if width is None else width
        if len(row) != width:
            raise validation.wrong_width(vid, width, len(row))
    raise errors.InvalidRequest(f"values must be a 2-D array of numbers with one row per id ({len(ids)})")
