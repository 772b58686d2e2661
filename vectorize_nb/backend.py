"""The Backend protocol: Vectorize v2's 14 operations, typed. `LocalEngine` and `RestBackend` implement it.

A backend does one request's worth of work per call and enforces (or lets the service enforce) the
limits; splitting large writes, waiting for mutations and building DataFrames are the client's job.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable
from collections.abc import Sequence

import numpy as np

from .limits import Limits
from .models import (DEFAULT_QUERY, IndexDescription, IndexInfo, Match, MetadataIndex, Mutation, QueryOptions,
                     VectorPage, VectorRecord, Vectors)

__all__ = ["Backend"]


@runtime_checkable
class Backend(Protocol):
    limits: Limits
    max_concurrency: int
    """How many requests the client may have in flight at once (1 for the in-process engine)."""

    def create_index(self, name: str, *, dimensions: int | None = None, metric: str | None = None,
                     preset: str | None = None, description: str = "") -> IndexDescription: ...

    def list_indexes(self) -> list[IndexDescription]: ...

    def get_index(self, name: str) -> IndexDescription: ...

    def delete_index(self, name: str) -> None: ...

    def index_info(self, name: str) -> IndexInfo: ...

    def insert(self, name: str, vectors: Vectors) -> Mutation: ...

    def upsert(self, name: str, vectors: Vectors) -> Mutation: ...

    def query(self, name: str, vector: Any = None, options: QueryOptions = DEFAULT_QUERY, *,
              vector_id: str | None = None) -> list[Match]: ...

    def query_many(self, name: str, vectors: np.ndarray,
                   options: QueryOptions = DEFAULT_QUERY) -> list[list[Match]]: ...

    def get_by_ids(self, name: str, ids: Sequence[str]) -> list[VectorRecord]: ...

    def delete_by_ids(self, name: str, ids: Sequence[str]) -> Mutation: ...

    def list_vectors(self, name: str, count: int | None = None, cursor: str | None = None) -> VectorPage: ...

    def create_metadata_index(self, name: str, property_name: str, index_type: str) -> Mutation: ...

    def list_metadata_indexes(self, name: str) -> list[MetadataIndex]: ...

    def delete_metadata_index(self, name: str, property_name: str) -> Mutation: ...

    def close(self) -> None: ...
