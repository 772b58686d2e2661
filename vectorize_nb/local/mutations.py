"""The four kinds of mutation, each able to be logged, staged for later, committed to the store,
and mirrored into the index's resident index (`resident.py`).

`commit` runs inside the store's write transaction and returns the change to make in memory,
which the engine makes only after the transaction has committed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar
from collections.abc import Callable, Iterator

import numpy as np
import orjson

from ..contract import arguments, errors
from ..contract.flat import decoded
from ..contract.models import WRITE_KINDS, WriteKind
from .rows import IndexRow
from .store import MutationRow, Store
from .resident import ResidentIndex

__all__ = ["Change", "VectorWrite", "VectorDelete", "MetadataIndexCreate", "MetadataIndexDelete",
           "from_log", "UnreadableMutation", "queued_metadata_indexes"]

MemoryChange = Callable[[ResidentIndex], None]


class Change(ABC):
    kind: ClassVar[str]

    @property
    def count(self) -> int:
        return 1

    def payload(self) -> bytes | None:
        """What the log keeps to replay this change (vectors are staged in an SQL table of their own)."""
        return None

    def stage(self, store: Store, seq: int) -> None:
        """Keep what is needed to apply this change later."""

    @abstractmethod
    def commit(self, store: Store, index_id: int, seq: int) -> MemoryChange:
        """Write the change to the store; return the matching change to the resident index."""


@dataclass(slots=True)
class VectorWrite(Change):
    """insert (existing ids are left alone) or upsert (whole rows replaced); ids are unique."""

    write_kind: WriteKind
    ids: list[str]
    values: np.ndarray
    namespaces: list[str | None]
    metadata_json: list[bytes | None]
    metadata: list[dict[str, Any] | None] | None = None

    def __post_init__(self) -> None:  # the log keeps the kind, and no other kind is read back as a write
        arguments.choice("kind", self.write_kind, WRITE_KINDS)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.write_kind

    @property
    def count(self) -> int:
        return len(self.ids)

    def rows(self, keep: list[int] | None = None) -> Iterator[tuple[str, str | None, bytes | None, memoryview]]:
        """(id, namespace, metadata, vector bytes) per row; the bytes are views, not copies. A generator:
        a batch's rows never all exist at once, so a write does not set off the garbage collector's full
        passes (costly when the caller holds millions of objects, e.g. a frame of Python lists)."""
        width = self.values.shape[1] * 4
        blob = memoryview(np.ascontiguousarray(self.values, dtype=np.float32).reshape(-1).view(np.uint8))  # type: ignore[arg-type]
        positions = range(len(self.ids)) if keep is None else keep
        return ((self.ids[i], self.namespaces[i], self.metadata_json[i], blob[i * width:(i + 1) * width])
                for i in positions)

    def stage(self, store: Store, seq: int) -> None:
        store.stage_vectors(seq, self.rows())

    def commit(self, store: Store, index_id: int, seq: int) -> MemoryChange:
        keep = None
        if self.write_kind == "insert":
            existing = store.existing_ids(index_id, self.ids)
            keep = [i for i, vid in enumerate(self.ids) if vid not in existing]
        if keep is None:
            store.write_vectors(index_id, self.ids, self.namespaces, self.metadata_json, self.values, seq,
                                self.write_kind)
        else:
            store.write_vectors(index_id, [self.ids[i] for i in keep], [self.namespaces[i] for i in keep],
                                [self.metadata_json[i] for i in keep], self.values[keep], seq, self.write_kind)
        return lambda resident: self._mirror(resident, keep)

    def _mirror(self, resident: ResidentIndex, keep: list[int] | None) -> None:
        metadata = self.metadata
        if metadata is None and resident.columns:
            metadata = decoded(self.metadata_json)
        if keep is None:
            resident.put(self.ids, self.values, self.namespaces, metadata)
            return
        if keep:
            resident.put([self.ids[i] for i in keep], self.values[keep], [self.namespaces[i] for i in keep],
                      None if metadata is None else [metadata[i] for i in keep])

    @classmethod
    def from_staged(cls, kind: WriteKind, rows: list[tuple[str, str | None, bytes | None, bytes]],
                    dimensions: int) -> VectorWrite:
        values = np.frombuffer(b"".join(row[3] for row in rows), dtype=np.float32).reshape(len(rows), dimensions)
        return cls(kind, [row[0] for row in rows], values, [row[1] for row in rows],
                   [row[2] for row in rows])


@dataclass(slots=True)
class VectorDelete(Change):
    ids: list[str]
    kind = "delete"

    @property
    def count(self) -> int:
        return len(self.ids)

    def payload(self) -> bytes:
        return orjson.dumps(self.ids)

    def commit(self, store: Store, index_id: int, seq: int) -> MemoryChange:
        store.delete_vectors(index_id, self.ids)
        store.deleted_ids(index_id, len(self.ids))
        return self._mirror

    def _mirror(self, resident: ResidentIndex) -> None:
        resident.remove(self.ids)


@dataclass(slots=True)
class MetadataIndexCreate(Change):
    property_name: str
    index_type: str
    kind = "create_metadata_index"

    def payload(self) -> bytes:
        return orjson.dumps({"propertyName": self.property_name, "indexType": self.index_type})

    def commit(self, store: Store, index_id: int, seq: int) -> MemoryChange:
        if any(prop == self.property_name for prop, _, _ in store.metadata_indexes(index_id)):
            return lambda resident: None  # creating an existing metadata index changes nothing
        store.add_metadata_index(index_id, self.property_name, self.index_type, seq)
        return lambda resident: resident.add_column(self.property_name, self.index_type)


@dataclass(slots=True)
class MetadataIndexDelete(Change):
    property_name: str
    kind = "delete_metadata_index"

    def payload(self) -> bytes:
        return orjson.dumps({"propertyName": self.property_name})

    def commit(self, store: Store, index_id: int, seq: int) -> MemoryChange:
        store.drop_metadata_index(index_id, self.property_name)
        return lambda resident: resident.drop_column(self.property_name)


METADATA_KINDS = (MetadataIndexCreate.kind, MetadataIndexDelete.kind)


class UnreadableMutation(Exception):
    """A logged change that no change reads back: the error its index's calls raise while it waits (as do the
    index's later changes, behind it)."""

    def __init__(self, unusable: errors.FolderUnusable) -> None:
        super().__init__(str(unusable))
        self.unusable = unusable


def from_log(store: Store, mutation: MutationRow, index: IndexRow) -> Change:
    """Rebuild a logged, not yet applied change of `index`."""
    if mutation.kind in WRITE_KINDS:
        kind: WriteKind = "insert" if mutation.kind == "insert" else "upsert"
        return VectorWrite.from_staged(kind, store.staged_vectors(mutation.seq), index.dimensions)
    fields = orjson.loads(mutation.payload or b"null")
    if mutation.kind == VectorDelete.kind and isinstance(fields, list):
        return VectorDelete(fields)
    if mutation.kind == MetadataIndexCreate.kind:
        return MetadataIndexCreate(fields["propertyName"], fields["indexType"])
    if mutation.kind == MetadataIndexDelete.kind:
        return MetadataIndexDelete(fields["propertyName"])
    raise UnreadableMutation(_unreadable(index.name, mutation))


def _unreadable(name: str, mutation: MutationRow) -> errors.FolderUnusable:
    """What the calls on index `name` say while `mutation`, which no change reads back, waits: a write of
    another kind than insert or upsert, which an older version logged (Index.write took any kind)."""
    error = errors.FolderUnusable(
        f"Index {name!r} cannot apply mutation {mutation.uuid}: logged as {mutation.kind!r} of {mutation.count} "
        "vectors, it cannot be read back (an older vectorize-nb logged Index.write of any kind as that kind), "
        f"and the index's later writes wait behind it. To go on with the index, delete it "
        f"(delete_index({name!r})) and write it anew, or restore the folder from a copy")
    error.hint = ""
    return error


def queued_metadata_indexes(store: Store, index_id: int) -> dict[str, str | None]:
    """An index's metadata-index changes still queued: property -> type (None when queued for deletion)."""
    queued: dict[str, str | None] = {}
    for mutation in store.pending(index_id):
        if mutation.kind == MetadataIndexCreate.kind:
            fields = orjson.loads(mutation.payload or b"{}")
            queued[fields["propertyName"]] = fields["indexType"]
        elif mutation.kind == MetadataIndexDelete.kind:
            queued[orjson.loads(mutation.payload or b"{}")["propertyName"]] = None
    return queued
