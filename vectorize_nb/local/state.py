"""An index's in-memory state: built from the store on first use, kept in step afterwards.

`applied_seq` is the last applied mutation the table reflects. Mutations of one index apply in
order, so when another process has applied some, the table catches up by re-reading the rows
written after `applied_seq` and removing the ids deleted since; a metadata-index change reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from . import snapshot
from .mutations import METADATA_KINDS, decode_metadata
from .store import IndexRow, Store
from .table import VectorTable

__all__ = ["IndexState"]


@dataclass(slots=True)
class IndexState:
    row: IndexRow
    table: VectorTable | None = None
    applied_seq: int = 0
    saved_seq: int | None = None
    """The applied_seq of the snapshot on disk, when this table matches one."""

    def loaded(self, store: Store, prefix_bytes: int, snapshots: Path | None = None) -> VectorTable:
        """The table: from memory, else from a snapshot caught up with the store, else from the store."""
        if self.table is None and snapshots is not None:
            self._restore(store, snapshots, prefix_bytes)
        if self.table is None:
            with store.snapshot():
                self.table = self._load(store, prefix_bytes)
            self.save(snapshots)
        return self.table

    def _restore(self, store: Store, snapshots: Path, prefix_bytes: int) -> None:
        restored = snapshot.load(snapshots, self.row.id, self.row.dimensions, self.row.metric, prefix_bytes)
        if restored is None:
            return
        table, seq = restored
        last = store.last_applied(self.row.id)
        if last is None or seq > last.seq or (seq and store.mutation(seq) is None):
            return  # the snapshot is not of this store's history
        self.table, self.applied_seq, self.saved_seq = table, seq, seq
        self.catch_up(store)

    def save(self, snapshots: Path | None) -> None:
        """Write a snapshot of a large table that has changed since the last one."""
        table = self.table
        if snapshots is None or table is None or table.count < snapshot.MIN_ROWS or self.saved_seq == self.applied_seq:
            return
        snapshot.save(snapshots, self.row.id, table, self.applied_seq)
        self.saved_seq = self.applied_seq

    def _load(self, store: Store, prefix_bytes: int) -> VectorTable:
        row = self.row
        last = store.last_applied(row.id)
        self.applied_seq = 0 if last is None else last.seq
        table = VectorTable(row.dimensions, row.metric, prefix_bytes, capacity=store.count_vectors(row.id))
        indexes = store.metadata_indexes(row.id)
        for property_name, index_type, _ in indexes:
            table.add_column(property_name, index_type)
        for chunk in store.scan_vectors(row.id):
            ids, values, namespaces = _decode(chunk, row.dimensions)
            table.put(ids, values, namespaces, None, indexed=False)
            if indexes:
                _index_loaded(table, indexes, chunk)
        return table

    def catch_up(self, store: Store) -> None:
        """Take in mutations another process applied since this table was last in step."""
        if self.table is None:
            return
        with store.snapshot():
            mutations = store.applied_since(self.row.id, self.applied_seq)
            if not mutations:
                return
            if any(m.kind in METADATA_KINDS for m in mutations):
                self.table = None
                return
            deleted = {vid for m in mutations if m.kind == "delete" for vid in orjson.loads(m.payload or b"[]")}
            written: set[str] = set()
            for chunk in store.scan_vectors(self.row.id, since_seq=self.applied_seq):
                ids, values, namespaces = _decode(chunk, self.row.dimensions)
                metadata = decode_metadata([row[2] for row in chunk]) if self.table.columns else None
                self.table.put(ids, values, namespaces, metadata)
                written.update(ids)
            self.table.remove(deleted - written)
            self.applied_seq = mutations[-1].seq


def _index_loaded(table: VectorTable, indexes: list[tuple[str, str, int]], chunk: list[tuple[Any, ...]]) -> None:
    """Put loaded rows into the metadata indexes that were created before the row was written."""
    metadata = decode_metadata([row[2] for row in chunk])
    for property_name, _, created_seq in indexes:
        covered = [pos for pos, row in enumerate(chunk) if row[4] > created_seq]
        table.index_rows(property_name, [chunk[pos][0] for pos in covered], [metadata[pos] for pos in covered])


def _decode(chunk: list[tuple[Any, ...]], dimensions: int) -> tuple[list[str], np.ndarray, list[str | None]]:
    """Scanned rows (id, namespace, metadata, vec, seq) as ids, a float32 matrix and namespaces."""
    values = np.frombuffer(b"".join(row[3] for row in chunk), dtype=np.float32).reshape(len(chunk), dimensions)
    return [row[0] for row in chunk], values, [row[1] for row in chunk]
