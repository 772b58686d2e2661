"""An index's in-memory state: built from the store on first use, kept in step afterwards.

`applied_seq` is the last applied mutation the resident index reflects. Mutations of one index apply in
order, so when another process has applied some, the resident index catches up by taking in the rows written
after `applied_seq` and removing the ids deleted since; a metadata-index change, or a compaction of
the vector file by another process, reloads; so does a delete whose ids the log no longer keeps.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

import orjson

from . import snapshot
from ..contract.filters import Filter, FilterMiss, predating_miss, silent_misses
from ..contract.flat import decoded
from .mutations import METADATA_KINDS, VectorDelete
from .store import IndexRow, Store
from .resident import ResidentIndex
from .vectorfile import ShortFile

__all__ = ["IndexState"]


@dataclass(slots=True)
class IndexState:
    row: IndexRow
    resident: ResidentIndex | None = None
    applied_seq: int = 0
    saved_seq: int | None = None
    """The applied_seq of the snapshot on disk, when this resident index matches one."""
    saved_end: int = 0
    """The resident index's slots when its snapshot was saved: a quarter more, and the next write saves again."""
    predating_counts: dict[str, tuple[tuple[int, int], int]] = field(default_factory=dict)
    """Per property, the vectors that predate its metadata index, as of (applied_seq, count of vectors)."""

    def misses(self, flt: Filter, resident: ResidentIndex) -> list[FilterMiss]:
        """What `flt` silently leaves out of `resident` (this index's): clauses on properties without a metadata
        index, values of another type, and the vectors written before a metadata index."""
        types = {prop: column.index_type for prop, column in resident.columns.items()}
        misses = silent_misses(flt, types, self.row.name)
        for prop in flt.keys:
            predating = self._predating(prop, resident) if prop in resident.columns else 0
            if predating:
                misses.append(predating_miss(prop, predating, resident.count, self.row.name))
        return misses

    def _predating(self, prop: str, resident: ResidentIndex) -> int:
        """The vectors written before the metadata index on `prop`, counted once per applied write."""
        known = self.predating_counts.get(prop)
        if known is None or known[0] != (self.applied_seq, resident.count):
            known = ((self.applied_seq, resident.count), resident.predating(prop))
            self.predating_counts[prop] = known
        return known[1]

    def loaded(self, store: Store, prefix_bytes: int, snapshots: Path | None = None) -> ResidentIndex:
        """The resident index: from memory, else from a snapshot caught up with the store, else from the store."""
        try:
            return self._loaded(store, prefix_bytes, snapshots)
        except FileNotFoundError:  # another process compacted the vector file away as this one read it
            return self._loaded(store, prefix_bytes, snapshots)

    def _loaded(self, store: Store, prefix_bytes: int, snapshots: Path | None) -> ResidentIndex:
        if self.resident is None and snapshots is not None:
            self._restore(store, snapshots, prefix_bytes)
        if self.resident is None:
            with store.reading():
                self.resident = self._load(store, prefix_bytes)
            self.save(snapshots)
        return self.resident

    def _restore(self, store: Store, snapshots: Path, prefix_bytes: int) -> None:
        row = self.row
        with store.reading():
            generation, _ = store.vector_extent(row.id)
            restored = snapshot.load(snapshots, row.id, row.created_on, row.metric, prefix_bytes,
                                     lambda: store.vector_file(row.id), generation)
            if restored is None:
                return
            resident, seq = restored
            last = store.last_applied(row.id)
            if last is None or seq > last.seq or (seq and store.mutation(seq) is None):
                return  # the snapshot is not of this store's history
        self.resident, self.applied_seq, self.saved_seq = resident, seq, seq
        self.catch_up(store)

    def save(self, snapshots: Path | None) -> None:
        """Write a snapshot of a large resident index that has changed since the last one."""
        resident = self.resident
        if (snapshots is None or resident is None or resident.count < snapshot.MIN_ROWS
                or self.saved_seq == self.applied_seq):
            return
        snapshot.save(snapshots, self.row.id, self.row.created_on, resident, self.applied_seq)
        self.saved_seq, self.saved_end = self.applied_seq, resident.end

    def _load(self, store: Store, prefix_bytes: int) -> ResidentIndex:
        row = self.row
        last = store.last_applied(row.id)
        self.applied_seq = 0 if last is None else last.seq
        generation, slots = store.vector_extent(row.id)
        resident = ResidentIndex(row.dimensions, row.metric, prefix_bytes, capacity=slots,
                            vectors=store.vector_file(row.id), generation=generation)
        indexes = store.metadata_indexes(row.id)
        for property_name, index_type, _ in indexes:
            resident.add_column(property_name, index_type)
        for chunk in store.scan_vectors(row.id):
            ids, namespaces, metadata, slot_numbers, seqs = zip(*chunk)
            resident.place(ids, slot_numbers, namespaces, None, indexed=False, new=True)
            if indexes:
                _index_loaded(resident, indexes, slot_numbers, decoded(list(metadata)), seqs)
        return resident

    def apply(self, mirror: Callable[[ResidentIndex], None], seq: int, store: Store, prefix_bytes: int,
              snapshots: Path | None) -> None:
        """Follow a change this engine committed: mirror it into the resident index, or load that while the
        index is small (so that an ingest from empty keeps its resident index, and saves its snapshot as it grows
        by a quarter and at the end, and a reopen after it does not read SQLite); then compact the
        vector file if rewritten and deleted vectors have left too many holes in it."""
        if self.resident is not None:
            mirror(self.resident)
            self.applied_seq = seq
        elif store.vector_extent(self.row.id)[1] <= snapshot.MIN_ROWS:
            self.loaded(store, prefix_bytes, snapshots)  # this change included
        grown = 0 if self.resident is None else self.resident.end - self.saved_end
        if grown >= max(snapshot.MIN_ROWS, self.saved_end // 4):
            self.save(snapshots)
        if store.compaction_due(self.row.id):
            with contextlib.suppress(OSError):  # the change itself is committed; the next write tries again
                self._compact(store)

    def _compact(self, store: Store) -> None:
        with store.transaction():
            self.catch_up(store)
            moved = store.compact(self.row.id)
            generation, live = store.vector_extent(self.row.id)
        if moved is None or self.resident is None:
            return
        if self.resident.count == live:  # in step with the store, as catch_up made it
            self.resident.compacted(*moved, store.vector_file(self.row.id), generation)
            self.saved_seq, self.saved_end = None, 0
        else:
            self.resident = None

    def catch_up(self, store: Store) -> None:
        """Take in mutations another process applied since this resident index was last in step. A vector file
        found cut short drops the resident index: the next call on this index reads the file again and says what
        is wrong, while the calls on the other indexes (which catch up on every index) go on."""
        try:
            self._catch_up(store)
        except ShortFile:
            self.resident = None

    def _catch_up(self, store: Store) -> None:
        if self.resident is None:
            return
        with store.reading():
            if store.vector_extent(self.row.id)[0] != self.resident.generation:
                self.resident = None
                return
            mutations = store.applied_since(self.row.id, self.applied_seq)
            if not mutations:
                return
            if any(m.kind in METADATA_KINDS or (m.kind == VectorDelete.kind and m.payload is None) for m in mutations):
                self.resident = None  # a delete whose ids the log let go (`deleted_ids.py`)
                return
            deleted = {vid for m in mutations if m.kind == "delete" for vid in orjson.loads(m.payload or b"[]")}
            written: set[str] = set()
            for chunk in store.scan_vectors(self.row.id, since_seq=self.applied_seq):
                ids, namespaces, blobs, slots, _ = zip(*chunk)
                self.resident.place(ids, slots, namespaces, decoded(list(blobs)) if self.resident.columns else None)
                written.update(ids)
            self.resident.remove(deleted - written)
            self.applied_seq = mutations[-1].seq


def _index_loaded(resident: ResidentIndex, indexes: list[tuple[str, str, int]], slots: Sequence[int],
                  metadata: list[dict[str, Any] | None], seqs: Sequence[int]) -> None:
    """Put loaded rows into the metadata indexes that were created before the row was written."""
    for property_name, _, created_seq in indexes:
        if min(seqs) > created_seq:
            resident.index_rows(property_name, slots, metadata)
            continue
        covered = [pos for pos, seq in enumerate(seqs) if seq > created_seq]
        resident.index_rows(property_name, [slots[pos] for pos in covered], [metadata[pos] for pos in covered])
