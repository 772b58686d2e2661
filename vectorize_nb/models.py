"""The values that cross the Backend protocol: plain, typed, numpy where vectors are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

__all__ = [
    "Metric", "MetadataMode", "IndexType", "METRICS", "METADATA_MODES", "INDEX_TYPES", "PRESETS",
    "IndexConfig", "IndexDescription", "IndexInfo", "Mutation", "Vectors", "VectorRecord", "Match",
    "QueryOptions", "DEFAULT_QUERY", "VectorPage", "MetadataIndex",
]

Metric = Literal["cosine", "euclidean", "dot-product"]
MetadataMode = Literal["none", "indexed", "all"]
IndexType = Literal["string", "number", "boolean"]

METRICS: tuple[str, ...] = ("cosine", "euclidean", "dot-product")
METADATA_MODES: tuple[str, ...] = ("none", "indexed", "all")
INDEX_TYPES: tuple[str, ...] = ("string", "number", "boolean")

PRESETS: dict[str, tuple[int, str]] = {
    "@cf/baai/bge-small-en-v1.5": (384, "cosine"),
    "@cf/baai/bge-base-en-v1.5": (768, "cosine"),
    "@cf/baai/bge-large-en-v1.5": (1024, "cosine"),
    "openai/text-embedding-ada-002": (1536, "cosine"),
    "cohere/embed-multilingual-v2.0": (768, "cosine"),
}
"""Preset name -> (dimensions, metric): the models' native widths, all cosine."""


@dataclass(frozen=True, slots=True)
class IndexConfig:
    dimensions: int
    metric: str
    preset: str | None = None


@dataclass(frozen=True, slots=True)
class IndexDescription:
    """What create/get/list return for an index."""

    name: str
    config: IndexConfig
    description: str
    created_on: datetime
    modified_on: datetime

    @property
    def dimensions(self) -> int:
        return self.config.dimensions

    @property
    def metric(self) -> str:
        return self.config.metric


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """`info`: counts and the last applied mutation (absent before the first one)."""

    dimensions: int
    vector_count: int
    processed_up_to_mutation: str | None = None
    processed_up_to_datetime: datetime | None = None


@dataclass(frozen=True, slots=True)
class Mutation:
    """The acknowledgement of an asynchronous write."""

    id: str

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class Vectors:
    """A batch of vectors to write: ids, an (n, d) float32 matrix, and optional per-row fields."""

    ids: list[str]
    values: np.ndarray
    metadata: list[dict[str, Any] | None] | None = None
    namespaces: list[str | None] | None = None
    checked_metadata: list[bytes | None] | None = field(default=None, repr=False, compare=False)
    """The metadata as compact JSON, once validation has checked it (saves checking it twice)."""

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> Vectors:
        return Vectors(
            self.ids[start:stop], self.values[start:stop],
            None if self.metadata is None else self.metadata[start:stop],
            None if self.namespaces is None else self.namespaces[start:stop],
            None if self.checked_metadata is None else self.checked_metadata[start:stop],
        )


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """A stored vector as get_by_ids returns it."""

    id: str
    values: np.ndarray
    metadata: dict[str, Any] | None = None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One query match; `values` and `metadata` only when asked for."""

    id: str
    score: float
    values: np.ndarray | None = None
    metadata: dict[str, Any] | None = None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class QueryOptions:
    top_k: int = 5
    return_values: bool = False
    return_metadata: str = "none"
    namespace: str | None = None
    filter: dict[str, Any] | None = None


DEFAULT_QUERY = QueryOptions()


@dataclass(frozen=True, slots=True)
class VectorPage:
    """One page of list-vectors."""

    ids: list[str]
    total_count: int
    is_truncated: bool
    next_cursor: str | None = None
    cursor_expiration: datetime | None = None

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class MetadataIndex:
    property_name: str
    index_type: str

