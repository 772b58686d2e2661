"""An index's in-memory state: built from the store on first use, kept in step afterwards.

`applied_seq` is the last applied mutation the table reflects. Mutations of one index apply in
order, so when another process has applied some, the table catches up by re-reading the rows
written after `applied_seq` and removing the ids deleted since; a metadata-index change reloads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson

from .mutations import METADATA_KINDS, decode_metadata
from .store import IndexRow, Store, VectorRow
from .table import VectorTable

__all__ = ["IndexState"]


@dataclass(slots=True)
class IndexState:
    row: IndexRow
    table: VectorTable | None = None
    applied_seq: int = 0

    def loaded(self, store: Store, prefix_bytes: int) -> VectorTable:
        """The table, read from the store if it is not in memory yet."""
        if self.table is None:
            with store.snapshot():
                self.table = self._load(store, prefix_bytes)
        return self.table

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
            for property_name, _, created_seq in indexes:
                for vector in chunk:
                    if vector.seq > created_seq:
                        table.index_row(property_name, vector.id,
                                        None if vector.metadata is None else orjson.loads(vector.metadata))
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
                metadata = decode_metadata([v.metadata for v in chunk]) if self.table.columns else None
                self.table.put(ids, values, namespaces, metadata)
                written.update(ids)
            self.table.remove(deleted - written)
            self.applied_seq = mutations[-1].seq


def _decode(chunk: list[VectorRow], dimensions: int) -> tuple[list[str], np.ndarray, list[str | None]]:
    values = np.frombuffer(b"".join(v.vec for v in chunk), dtype=np.float32).reshape(len(chunk), dimensions)
    return [v.id for v in chunk], values, [v.namespace for v in chunk]
