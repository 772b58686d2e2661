"""What a query answers, row by row: each ranked id as a `Match` with the values and metadata asked
for, read from the store in one go; and a stored row as a `VectorRecord`."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from ..contract.filters import held_value
from ..contract.models import Match, QueryOptions, VectorRecord
from .columns import MISSING
from .resident import ResidentIndex, lookup
from .store import Store, VectorRow

__all__ = ["answers", "record"]

Ranked = list[tuple[list[str], np.ndarray]]


def answers(store: Store, index_id: int, resident: ResidentIndex, ranked: Ranked, options: QueryOptions,
            prefix_bytes: int) -> list[list[Match]]:
    """The matches of each query, in rank order."""
    stored: dict[str, VectorRow] = {}
    indexes: list[tuple[str, str, int]] = []
    if options.return_values or options.return_metadata != "none":
        stored = store.fetch_vectors(index_id, list(dict.fromkeys(vid for ids, _ in ranked for vid in ids)))
    if options.return_metadata == "indexed":
        indexes = store.metadata_indexes(index_id)
    return [[_match(resident, vid, float(score), stored.get(vid), options, indexes, prefix_bytes)
             for vid, score in zip(ids, scores)] for ids, scores in ranked]


def record(row: VectorRow) -> VectorRecord:
    metadata = None if row.metadata is None else orjson.loads(row.metadata)
    return VectorRecord(row.id, np.frombuffer(row.vec, dtype=np.float32).copy(), metadata, row.namespace)


def _match(resident: ResidentIndex, vid: str, score: float, stored: VectorRow | None, options: QueryOptions,
           indexes: list[tuple[str, str, int]], prefix_bytes: int) -> Match:
    values = metadata = None
    if stored is not None and options.return_values:
        values = np.frombuffer(stored.vec, dtype=np.float32).copy()
    if stored is not None and options.return_metadata == "all":
        metadata = {} if stored.metadata is None else orjson.loads(stored.metadata)
    elif stored is not None and options.return_metadata == "indexed":
        metadata = _indexed_metadata(stored, indexes, prefix_bytes)
    return Match(vid, score, values, metadata, resident.namespace_of(vid))


def _indexed_metadata(stored: VectorRow, indexes: list[tuple[str, str, int]], prefix_bytes: int) -> dict[str, Any]:
    """Only the properties with a metadata index that holds this vector, and only the values it holds (of its
    type, strings cut to the bytes it keeps); big integers come back exact, as stored."""
    source = None if stored.metadata is None else orjson.loads(stored.metadata)
    out: dict[str, Any] = {}
    for property_name, index_type, created_seq in indexes:
        path = tuple(property_name.split("."))
        value = lookup(source, path)
        if stored.seq <= created_seq or value is MISSING:
            continue
        value = held_value(index_type, value, prefix_bytes)
        if value is None:
            continue
        target = out
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return out
