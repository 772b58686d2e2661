"""The resident index: what the engine keeps in memory of one index to search it, per slot of its
vector file the id, namespace and metadata columns. ("Table" is kept for SQL tables, in `store.py`.)

The vectors are not copied: searches read the rows of the index's vector file (a memory map; see
`vectorfile.py`) where they lie. A slot whose vector was rewritten or deleted is a hole, never a
candidate, until compaction moves the last rows into the holes. Per slot the resident index also
keeps what turns a row's dot product with a query into a similarity (see `search.py`), derived from
the norms the vector file computed in float64.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable, Sequence

import numpy as np

from ..contract.filters import Clause, Filter, evaluate
from ..contract.models import ClauseCounts, FilterCounts
from . import search
from .columns import ABSENT, MISSING, NOT_INDEXED, MetadataColumn, column_for
from .vectorfile import VectorFile

__all__ = ["ResidentIndex", "lookup"]

GROWTH = 2


def lookup(metadata: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    """The value at a dotted path in a metadata object, or MISSING."""
    value: Any = metadata
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def lookups(metadata: Sequence[dict[str, Any] | None], path: tuple[str, ...]) -> list[Any]:
    """`lookup` of one path in many metadata objects (a property at the top level costs one dict get)."""
    if len(path) == 1:
        key = path[0]
        return [MISSING if row is None else row.get(key, MISSING) for row in metadata]
    return [lookup(row, path) for row in metadata]


def _grown(array: np.ndarray, count: int, capacity: int, fill: Any) -> np.ndarray:
    grown = np.full((capacity, *array.shape[1:]), fill, dtype=array.dtype)
    grown[:count] = array[:count]
    return grown


class ResidentIndex:
    """The searchable state of one index.

    Parameters
    ----------
    dimensions, metric
        The index's.
    prefix_bytes
        How many bytes of a string a metadata index keeps.
    capacity
        Slots to make room for up front.
    vectors
        The index's vector file, which the store writes; without one the resident index keeps its own, in
        memory, and `put` writes the values there.
    generation
        Which generation of the vector file `vectors` is.
    """

    def __init__(self, dimensions: int, metric: str, prefix_bytes: int = 64, capacity: int = 0,
                 vectors: VectorFile | None = None, generation: int = 0) -> None:
        self.dimensions = dimensions
        self.scorer = search.Scorer(metric)
        self.prefix_bytes = prefix_bytes
        self.vectors = VectorFile(dimensions) if vectors is None else vectors
        self.generation = generation
        self._own_vectors = vectors is None
        self.count = 0
        """Live rows (vectors); `end` counts slots, holes included."""
        self.end = 0
        self.ids: list[str | None] = []
        self._slots: dict[str, int] | None = None
        self.live = np.zeros(capacity, dtype=bool)
        self.extreme = np.zeros(capacity, dtype=bool)
        self.weights = None if metric == "dot-product" else np.zeros(capacity, dtype=np.float32)
        self.namespace_codes = np.full(capacity, -1, dtype=np.int32)
        self.namespaces: dict[str, int] = {}
        self.namespace_names: list[str] = []
        self.columns: dict[str, MetadataColumn] = {}
        self._paths: dict[str, tuple[str, ...]] = {}
        self._excluded: np.ndarray | None = None
        self._extreme_rows: np.ndarray | None = None
        self._ranked: dict[str, int] = {}
        """The slots of the ids the last `nearest` returned, so that their namespaces can be looked up
        without the id map (which a reopened resident index builds only when it must)."""

    @property
    def capacity(self) -> int:
        return len(self.live)

    @property
    def matrix(self) -> np.ndarray:
        """The rows of slots 0..end (holes included), float32, as written."""
        return self.vectors.rows(self.end)

    @property
    def slots(self) -> dict[str, int]:
        """id -> slot, built on first use (a reopened resident index answers queries without it)."""
        if self._slots is None:
            self._slots = {vid: slot for slot, vid in enumerate(self.ids) if vid is not None}
        return self._slots

    # --- writes --------------------------------------------------------------------------------

    def put(self, ids: Sequence[str], values: np.ndarray, namespaces: Sequence[str | None] | None,
            metadata: Sequence[dict[str, Any] | None] | None, indexed: bool = True) -> None:
        """Write rows (replacing rows with the same id); `ids` must be unique. The rows are those the
        store just appended to the vector file, or, for a resident index with its own vectors, go to its end.

        With `indexed=False` the rows stay out of every metadata index (they predate them).
        """
        start = self.vectors.take_append(list(ids))
        if start is None:
            if not self._own_vectors:
                raise RuntimeError("rows of a stored index reach its resident index only through the store")
            start = self.end
            self.vectors.write(start, values)
        self.place(ids, np.arange(start, start + len(ids)), namespaces, metadata, indexed)

    def place(self, ids: Sequence[str], slots: Sequence[int] | np.ndarray, namespaces: Sequence[str | None] | None,
              metadata: Sequence[dict[str, Any] | None] | None, indexed: bool = True, new: bool = False) -> None:
        """Take in rows already in the vector file at `slots`, replacing rows with the same id (unless
        the caller knows them to be `new`)."""
        if not len(ids):
            return
        where = np.asarray(slots, dtype=np.int64)
        if self.count and not new:
            self.remove(ids)
        self._reserve(int(where.max()) + 1)
        slot_list = self._set_ids(ids, where)
        self.count += len(ids)
        self.live[where] = True
        self._weigh(where)
        if namespaces is None or namespaces.count(None) == len(namespaces):
            self.namespace_codes[where] = -1
        else:
            self.namespace_codes[where] = [self._namespace_code(ns) for ns in namespaces]
        for name, column in self.columns.items():
            if not indexed:
                column.forget(slot_list)
                continue
            path = self._paths[name]
            column.write(slot_list, lookups(metadata, path) if metadata is not None else [MISSING] * len(slot_list))

    def _set_ids(self, ids: Sequence[str], where: np.ndarray) -> list[int]:
        slot_list: list[int] = where.tolist()
        if np.array_equal(where, np.arange(len(self.ids), len(self.ids) + len(ids))):
            self.ids.extend(ids)  # the usual case: rows appended in order
        else:
            self.ids.extend([None] * max(0, int(where.max()) + 1 - len(self.ids)))
            for vid, slot in zip(ids, slot_list):
                self.ids[slot] = vid
        if self._slots is not None:
            self._slots.update(zip(ids, slot_list))
        self.end = len(self.ids)
        return slot_list

    def restore(self, ids: list[str | None], live: np.ndarray) -> None:
        """Take back the ids of a saved resident index (None for a hole) and which of its slots are live."""
        self._reserve(len(ids))
        self.ids, self._slots = ids, None
        self.end, self.count = len(ids), int(live.sum())
        self.live[:self.end] = live
        self._weigh(slice(0, self.end))

    def _weigh(self, slots: np.ndarray | slice) -> None:
        weights, extreme = self.scorer.weights(self.vectors.norms(self.end)[slots])
        if self.weights is not None and weights is not None:
            self.weights[slots] = weights
        self.extreme[slots] = extreme
        self._excluded = self._extreme_rows = None
        self._ranked = {}

    def _namespace_code(self, namespace: str | None) -> int:
        if namespace is None:
            return -1
        code = self.namespaces.get(namespace)
        if code is None:
            code = self.namespaces[namespace] = len(self.namespace_names)
            self.namespace_names.append(namespace)
        return code

    def namespace_of(self, vid: str) -> str | None:
        slot = self._ranked.get(vid)
        code = int(self.namespace_codes[self.slots[vid] if slot is None else slot])
        return None if code < 0 else self.namespace_names[code]

    def remove(self, ids: Iterable[str]) -> int:
        """Make holes of the slots of these ids; returns how many were here."""
        slots = self.slots
        holes = [slots.pop(vid) for vid in slots.keys() & ids]  # the intersection in C: an ingest's ids are new
        if holes:
            for slot in holes:
                self.ids[slot] = None
            self.live[holes] = False
            self.namespace_codes[holes] = -1
            for column in self.columns.values():
                column.forget(holes)
            self.count -= len(holes)
            self._excluded = self._extreme_rows = None
            self._ranked = {}
        return len(holes)

    def compacted(self, sources: np.ndarray, targets: np.ndarray, vectors: VectorFile, generation: int) -> None:
        """Follow a compaction of the vector file: row `sources[i]` moved to hole `targets[i]`, and the
        file (now `vectors`) ends at the live rows."""
        for src, dst in zip(sources.tolist(), targets.tolist()):
            self._move(src, dst)
        self.end = self.count
        del self.ids[self.end:]
        self.live[self.end:] = self.extreme[self.end:] = False
        self.vectors, self.generation = vectors, generation
        self._excluded = self._extreme_rows = None
        self._ranked = {}

    def _move(self, src: int, dst: int) -> None:
        for array in (self.live, self.extreme, self.weights, self.namespace_codes):
            if array is not None:
                array[dst] = array[src]
        for column in self.columns.values():
            column.move(src, dst)
        moved = self.ids[src]
        self.ids[dst], self.ids[src] = moved, None
        if self._slots is not None and moved is not None:
            self._slots[moved] = dst

    def _reserve(self, needed: int) -> None:
        """Room for `needed` slots. Growth doubles, so the copying is one resident index's worth in all."""
        if needed <= self.capacity:
            return
        capacity = max(needed, self.capacity * GROWTH, 1024)
        self.live = _grown(self.live, self.end, capacity, False)
        self.extreme = _grown(self.extreme, self.end, capacity, False)
        if self.weights is not None:
            self.weights = _grown(self.weights, self.end, capacity, 0)
        self.namespace_codes = _grown(self.namespace_codes, self.end, capacity, -1)
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

    def index_rows(self, property_name: str, slots: Sequence[int], metadata: Sequence[dict[str, Any] | None]) -> None:
        """Index rows' values (used when loading rows written after the index was created)."""
        path = self._paths[property_name]
        self.columns[property_name].write(slots, lookups(metadata, path))

    # --- reads ---------------------------------------------------------------------------------

    def candidates(self, namespace: str | None, flt: Filter) -> np.ndarray | None:
        """Rows that pass the namespace and the filter, or None when nothing restricts the search."""
        mask = None
        if namespace is not None:
            code = self.namespaces.get(namespace, -2)
            mask = self.namespace_codes[:self.end] == code
        filtered = evaluate(flt, self.columns, self.end)
        if filtered is not None:
            mask = filtered if mask is None else mask & filtered
        if mask is None:
            return None
        if self.count < self.end:
            mask &= self.live[:self.end]
        return np.flatnonzero(mask)

    def predating(self, property_name: str) -> int:
        """The vectors written before the metadata index on this property existed (0 without one)."""
        column = self.columns.get(property_name)
        if column is None:
            return 0
        return int(((column.state[:self.end] == NOT_INDEXED) & self.live[:self.end]).sum())

    def filter_counts(self, flt: Filter) -> FilterCounts:
        """The counts behind a filter: the vectors it matches, and per clause the vectors that clause matches
        and those that predate its metadata index."""
        rows = self.candidates(None, flt)
        return FilterCounts(self.count, self.count if rows is None else len(rows),
                            [self._clause_counts(clause) for clause in flt.clauses])

    def _clause_counts(self, clause: Clause) -> ClauseCounts:
        """For one filter clause: the vectors it matches, those that predate its metadata index and those indexed
        without a value of its type (None when the property has none)."""
        column = self.columns.get(clause.key)
        if column is None:
            return ClauseCounts(0, None)
        live = self.live[:self.end]
        matched = int((column.match(clause.op, clause.operand, self.end) & live).sum())
        lacking = int(((column.state[:self.end] == ABSENT) & live).sum())
        return ClauseCounts(matched, self.predating(clause.key), lacking)

    def nearest(self, queries: np.ndarray, k: int, rows: np.ndarray | None) -> list[tuple[list[str], np.ndarray]]:
        """For each raw query, the ids of the best `k` rows and their exact scores, best first, ties broken by id."""
        prepared, exact = self.scorer.prepare(queries)
        wanted = k + search.MARGIN
        self._ranked = {}
        extreme = self._extreme_among(rows)
        if extreme is not None and rows is not None:
            rows = rows[~self.extreme[rows]]
        scan = self.scorer.scan(self.matrix, None if self.weights is None else self.weights[:self.end],
                                self._excluded_rows())
        if len(queries) == 1:
            picked = [search.top_k(scan, prepared[0], wanted, rows)]
        else:
            picked = list(search.top_k_many(scan, prepared, wanted, rows))
        answers = []
        for fast, ready, query, whole in zip(picked, prepared, queries, exact):
            count = wanted
            while (answer := self._rank(self._candidates(fast, query, whole, rows, extreme, count), query, k,
                                        count)) is None:
                count *= 2  # a tie at the k-th score goes on past the candidates: take twice as many
                fast = fast if whole else search.top_k(scan, ready, count, rows)
            answers.append(answer)
        return answers

    def _candidates(self, fast: np.ndarray, query: np.ndarray, whole: bool, rows: np.ndarray | None,
                    extreme: np.ndarray | None, count: int) -> list[np.ndarray]:
        """Groups of candidate rows for one query, each the best `count` of its own share of the rows (or
        all of that share): the fast pass's, and the extreme rows' scored exactly; or, for a query too
        large for the fast pass, all rows scored exactly."""
        if whole:
            return [self._exact(self._all_rows(rows, extreme), query, count)]
        fast = fast[fast >= 0]  # -1: the batch found fewer rows than `count`
        fast = fast[self.live[fast] & ~self.extreme[fast]]  # the holes the fast pass had to fill up with
        return [fast] if extreme is None else [fast, self._exact(extreme, query, count)]

    def _extreme_among(self, rows: np.ndarray | None) -> np.ndarray | None:
        """The extreme rows to score exactly (among `rows` when given), or None when there are none."""
        if self._extreme_rows is None:
            self._extreme_rows = np.flatnonzero(self.extreme[:self.end] & self.live[:self.end])
        if not len(self._extreme_rows):
            return None
        if rows is None:
            return self._extreme_rows
        extreme = rows[self.extreme[rows]]
        return extreme if len(extreme) else None

    def _excluded_rows(self) -> np.ndarray | None:
        """The slots the float32 pass never picks (holes and extreme rows), or None when there are none."""
        if self.count == self.end and self._extreme_among(None) is None:
            return None
        if self._excluded is None:
            self._excluded = np.flatnonzero(~self.live[:self.end] | self.extreme[:self.end])
        return self._excluded

    def _all_rows(self, rows: np.ndarray | None, extreme: np.ndarray | None) -> np.ndarray:
        if rows is None:
            return np.flatnonzero(self.live[:self.end])
        return rows if extreme is None else np.concatenate([rows, extreme])

    def _exact(self, rows: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
        return search.best_exact(self.scorer, self.matrix, rows, query, k)

    def _rank(self, groups: list[np.ndarray], query: np.ndarray, k: int,
              count: int) -> tuple[list[str], np.ndarray] | None:
        """The best `k` of the candidates by exact score, then id; None when a group of `count` rows
        may have been cut inside a tie at the k-th score (its worst row ties with the k-th best)."""
        chosen = np.concatenate(groups)
        scores = self.scorer.score(self.matrix[chosen], query)
        keys = -scores if self.scorer.higher_is_better else scores
        if len(chosen) > k:
            kth = np.partition(keys, k - 1)[k - 1]
            ends = np.cumsum([len(group) for group in groups])
            for group, end in zip(groups, ends):
                if len(group) >= count and keys[end - len(group):end].max() <= kth:
                    return None
        ids = np.array([self.ids[slot] for slot in chosen.tolist()], dtype=object)
        order = np.lexsort((ids, keys))[:k]
        self._ranked.update(zip(ids[order].tolist(), chosen[order].tolist()))
        return ids[order].tolist(), scores[order]

    def row_of(self, vid: str) -> np.ndarray | None:
        """The stored row of an id (a query by vectorId uses it as the query)."""
        slot = self.slots.get(vid)
        return None if slot is None else self.matrix[slot]
