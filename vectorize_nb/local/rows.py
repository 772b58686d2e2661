"""The rows the store reads back: an index, a logged mutation, a vector.

A row class's fields are named as its table's columns, and the store reads them by name (`columns`), so
that a column a later format adds to a table is not read into them."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["IndexRow", "MutationRow", "VectorRow", "columns"]


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
