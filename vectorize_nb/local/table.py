"""One index in memory: the search matrix, and per row its id, namespace and metadata columns.

Rows are dense: removing a row moves the last row into its place, so the matrix never holds dead
rows and a search never has to skip them. The matrix is in search form (unit rows for cosine; see
`search.py`); the exact values a user wrote live in the store.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable, Sequence

import numpy as np

from ..contract.filters import Filter, evaluate
from . import search
from .columns import MISSING, MetadataColumn, column_for

__all__ = ["VectorTable", "lookup"]

GROWTH = 2


def lookup(metadata: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    """The value at a dotted path in a metadata object, or MISSING."""
    value: Any = metadata
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _grown(array: np.ndarray, count: int, capacity: int) -> np.ndarray:
    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[:count] = array[:count]
    return grown


class VectorTable:
    def __init__(self, dimensions: int, metric: str, prefix_bytes: int = 64, capacity: int = 0) -> None:
        self.dimensions = dimensions
        self.scorer = search.Scorer(metric)
        self.prefix_bytes = prefix_bytes
        self.count = 0
        self.matrix = np.empty((capacity, dimensions), dtype=np.float32)
        self.sqnorms = np.empty(capacity, dtype=np.float32) if metric == "euclidean" else None
        self.namespace_codes = np.full(capacity, -1, dtype=np.int32)
        self.ids: list[str] = []
        self.slots: dict[str, int] = {}
        self.namespaces: dict[str, int] = {}
        self.namespace_names: list[str] = []
        self.columns: dict[str, MetadataColumn] = {}
        self._paths: dict[str, tuple[str, ...]] = {}

    @property
    def capacity(self) -> int:
        return len(self.matrix)

    # --- writes --------------------------------------------------------------------------------

    def put(self, ids: Sequence[str], values: np.ndarray, namespaces: Sequence[str | None] | None,
            metadata: Sequence[dict[str, Any] | None] | None, indexed: bool = True) -> None:
        """Write rows (replacing rows with the same id); `ids` must be unique.

        With `indexed=False` the rows stay out of every metadata index (they predate them).
        """
        known = self.slots
        if not any(vid in known for vid in ids):
            start = self.count
            self._reserve(start + len(ids))
            known.update(zip(ids, range(start, start + len(ids))))
            self.ids.extend(ids)
            self.count += len(ids)
            self._write_rows(slice(start, self.count), values, namespaces, metadata, indexed)
            return
        slots = np.empty(len(ids), dtype=np.int64)
        fresh = 0
        for pos, vid in enumerate(ids):
            slot = known.get(vid)
            if slot is None:
                slot = known[vid] = self.count + fresh
                fresh += 1
                self.ids.append(vid)
            slots[pos] = slot
        self._reserve(self.count + fresh)
        self.count += fresh
        self._write_rows(slots, values, namespaces, metadata, indexed)

    def _write_rows(self, slots: slice | np.ndarray, values: np.ndarray, namespaces: Sequence[str | None] | None,
                    metadata: Sequence[dict[str, Any] | None] | None, indexed: bool) -> None:
        contiguous = isinstance(slots, slice)
        target = self.matrix[slots] if contiguous else np.empty_like(values, dtype=np.float32)
        if self.scorer.metric == "cosine":
            norms = np.linalg.norm(values, axis=1)
            inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
            np.multiply(values, inverse[:, None], out=target)
        else:
            target[...] = values
            if self.sqnorms is not None:
                self.sqnorms[slots] = np.einsum("ij,ij->i", target, target)
        if not contiguous:
            self.matrix[slots] = target
        self.namespace_codes[slots] = -1 if namespaces is None else [self._namespace_code(ns) for ns in namespaces]
        slot_list = list(range(slots.start, slots.stop)) if isinstance(slots, slice) else slots.tolist()
        for name, column in self.columns.items():
            if not indexed:
                column.forget(slot_list)
                continue
            path = self._paths[name]
            column.write(slot_list, [lookup(row, path) for row in metadata] if metadata is not None
                         else [MISSING] * len(slot_list))

    def _namespace_code(self, namespace: str | None) -> int:
        if namespace is None:
            return -1
        code = self.namespaces.get(namespace)
        if code is None:
            code = self.namespaces[namespace] = len(self.namespace_names)
            self.namespace_names.append(namespace)
        return code

    def namespace_of(self, vid: str) -> str | None:
        code = int(self.namespace_codes[self.slots[vid]])
        return None if code < 0 else self.namespace_names[code]

    def remove(self, ids: Iterable[str]) -> int:
        removed = 0
        for vid in ids:
            slot = self.slots.pop(vid, None)
            if slot is None:
                continue
            last = self.count - 1
            if slot != last:
                self._move(last, slot)
            self.ids.pop()
            self.count = last
            removed += 1
        return removed

    def _move(self, src: int, dst: int) -> None:
        self.matrix[dst] = self.matrix[src]
        if self.sqnorms is not None:
            self.sqnorms[dst] = self.sqnorms[src]
        self.namespace_codes[dst] = self.namespace_codes[src]
        for column in self.columns.values():
            column.move(src, dst)
        moved = self.ids[src]
        self.ids[dst] = moved
        self.slots[moved] = dst

    def _reserve(self, needed: int) -> None:
        """Room for `needed` rows. Growth doubles: pages never written stay virtual, so spare room is
        free, and doubling keeps the copying to one matrix's worth in all."""
        if needed <= self.capacity:
            return
        capacity = max(needed, self.capacity * GROWTH, 1024)
        self.matrix = _grown(self.matrix, self.count, capacity)
        if self.sqnorms is not None:
            self.sqnorms = _grown(self.sqnorms, self.count, capacity)
        self.namespace_codes = _grown(self.namespace_codes, self.count, capacity)
        for column in self.columns.values():
            column.grow(capacity)

    # --- metadata indexes ----------------------------------------------------------------------

    def add_column(self, property_name: str, index_type: str) -> None:
        """A new metadata index: every row already here predates it, so none is indexed."""
        self.columns[property_name] = column_for(index_type, self.capacity, self.prefix_bytes)
        self._paths[property_name] = tuple(property_name.split("."))

    def drop_column(self, property_name: str) -> None:
        self.columns.pop(property_name, None)
        self._paths.pop(property_name, None)

    def index_rows(self, property_name: str, ids: Sequence[str], metadata: Sequence[dict[str, Any] | None]) -> None:
        """Index rows' values (used when loading rows written after the index was created)."""
        path = self._paths[property_name]
        self.columns[property_name].write([self.slots[vid] for vid in ids], [lookup(row, path) for row in metadata])

    # --- reads ---------------------------------------------------------------------------------

    def candidates(self, namespace: str | None, flt: Filter) -> np.ndarray | None:
        """Rows that pass the namespace and the filter, or None when nothing restricts the search."""
        mask = None
        if namespace is not None:
            code = self.namespaces.get(namespace, -2)
            mask = self.namespace_codes[:self.count] == code
        filtered = evaluate(flt, self.columns, self.count)
        if filtered is not None:
            mask = filtered if mask is None else mask & filtered
        return None if mask is None else np.flatnonzero(mask)

    def nearest(self, queries: np.ndarray, k: int, rows: np.ndarray | None) -> list[tuple[list[str], np.ndarray]]:
        """For each raw query, the ids of the best `k` rows and their exact scores, best first."""
        matrix = self.matrix[:self.count]
        bias = None if self.sqnorms is None else self.sqnorms[:self.count]
        prepared = self.scorer.prepare(queries)
        wanted = k + search.MARGIN
        if len(queries) == 1:
            picked = [search.top_k(matrix, bias, prepared[0], wanted, rows)]
        else:
            picked = list(search.top_k_many(matrix, bias, prepared, wanted, rows))
        return [self._rank(chosen, query, k) for chosen, query in zip(picked, queries)]

    def _rank(self, chosen: np.ndarray, query: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
        scores = self.scorer.score(self.matrix[chosen], query)
        ids = np.array([self.ids[slot] for slot in chosen.tolist()], dtype=object)
        order = np.lexsort((ids, -scores if self.scorer.higher_is_better else scores))[:k]
        return ids[order].tolist(), scores[order]

    def row_of(self, vid: str) -> np.ndarray | None:
        """The search-form row of a stored id (a query by vectorId uses it as the query)."""
        slot = self.slots.get(vid)
        return None if slot is None else self.matrix[slot]
