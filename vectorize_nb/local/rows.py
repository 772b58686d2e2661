"""The rows the store reads back: an index, a logged mutation, a vector; and what the engine answers from
them (an index's description and info, an entry of the mutation log, timestamps).

A row class's fields are named as its table's columns, and the store reads them by name (`columns`), so
that a column a later format adds to a table is not read into them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, UTC
from typing import Any

from ..contract.models import IndexConfig, IndexDescription, IndexInfo

__all__ = ["IndexRow", "MutationRow", "VectorRow", "columns", "describe", "info", "log_entry", "timestamp", "iso"]


@dataclass(frozen=True, slots=True)
class IndexRow:
    id: int
    name: str
    dimensions: int
    metric: str
    preset: str | None
    description: str
    created_on: str
    modified_on: str
    deleted_on: str | None


@dataclass(frozen=True, slots=True)
class MutationRow:
    seq: int
    index_id: int
    uuid: str
    kind: str
    count: int
    payload: bytes | None
    created_at: float
    due_at: float
    applied_at: float | None


@dataclass(frozen=True, slots=True)
class VectorRow:
    id: str
    namespace: str | None
    metadata: bytes | None
    vec: bytes
    seq: int


def columns(row: type[IndexRow] | type[MutationRow]) -> str:
    """The SQL columns that fill a row class, in the order of its fields."""
    return ", ".join(field.name for field in fields(row))


def timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def iso(seconds: float) -> str:
    return timestamp(seconds).isoformat().replace("+00:00", "Z")


def describe(row: IndexRow) -> IndexDescription:
    created = datetime.fromisoformat(row.created_on)
    return IndexDescription(row.name, IndexConfig(row.dimensions, row.metric, row.preset), row.description,
                            created, datetime.fromisoformat(row.modified_on))


def info(dimensions: int, count: int, last: MutationRow | None) -> IndexInfo:
    """An index's info, given its count of vectors and the last mutation applied to it (None: none yet)."""
    if last is None:
        return IndexInfo(dimensions, count)
    applied = timestamp(last.applied_at or 0.0)  # milliseconds, as the service reports it
    return IndexInfo(dimensions, count, last.uuid, applied.replace(microsecond=applied.microsecond // 1000 * 1000))


def log_entry(mutation: MutationRow) -> dict[str, Any]:
    """A mutation as `mutation_log` lists it: id, kind, count and its timestamps."""
    applied = None if mutation.applied_at is None else timestamp(mutation.applied_at)
    return {"mutationId": mutation.uuid, "kind": mutation.kind, "count": mutation.count,
            "createdAt": timestamp(mutation.created_at), "appliedAt": applied}
