"""The values that cross the Backend protocol: plain, typed, numpy where vectors are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, UTC
from typing import Any, Literal

import numpy as np

__all__ = [
    "Metric", "MetadataMode", "IndexType", "WriteKind", "METRICS", "METADATA_MODES", "INDEX_TYPES", "WRITE_KINDS",
    "PRESETS", "IndexConfig", "IndexDescription", "IndexInfo", "Mutation", "VectorCells", "Vectors", "CheckedVectors",
    "VectorRecord", "Match", "QueryOptions", "DEFAULT_QUERY", "VectorPage", "MetadataIndex", "ClauseCounts",
    "FilterCounts", "IndexExport", "Values",
]

Metric = Literal["cosine", "euclidean", "dot-product"]
MetadataMode = Literal["none", "indexed", "all"]
IndexType = Literal["string", "number", "boolean"]
WriteKind = Literal["insert", "upsert"]
"""insert: ids already stored keep their vector (the first write wins); upsert: whole vectors are replaced."""
MutationState = Literal["applied", "pending", "unknown"] | None
"""What a backend knows of a mutation (`Backend.mutation_state`); None: it cannot tell."""

METRICS: tuple[str, ...] = ("cosine", "euclidean", "dot-product")
METADATA_MODES: tuple[str, ...] = ("none", "indexed", "all")
INDEX_TYPES: tuple[str, ...] = ("string", "number", "boolean")
WRITE_KINDS: tuple[WriteKind, ...] = ("insert", "upsert")

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


UNKNOWN_TIME = datetime.fromtimestamp(0, UTC)
"""An index's creation time where a server gives none."""


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
    """The acknowledgement of an asynchronous write. `applied`: the write was applied before its answer came (the
    embedded engine with no `apply_delay`), so there is nothing to wait for."""

    id: str
    applied: bool = field(default=False, compare=False)  # a mutation is its id, whoever says it is applied

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class VectorCells:
    """A batch's vectors as one array per row (a DataFrame's column of arrays, or its `VectorArray`'s
    matrix), read as a float32 matrix a slice at a time: a frame's vectors are never all copied into one
    matrix on their way to a write. Made only of cells that `validation.first_bad_cell` passed: each
    holds `width` finite numbers."""

    cells: Sequence[Any]
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), self.width

    @property
    def ndim(self) -> int:
        return 2

    def __len__(self) -> int:
        return len(self.cells)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) as a float32 matrix."""
        part = self.cells[start:stop]
        return np.asarray(part, dtype=np.float32).reshape(len(part), self.width)

    def pick(self, rows: Sequence[int]) -> VectorCells:
        """The given rows, in the given order (still one array per row)."""
        return VectorCells([self.cells[r] for r in rows], self.width)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        matrix = self.rows(0, len(self.cells))
        return matrix if dtype is None else matrix.astype(dtype, copy=False)


Values = np.ndarray | VectorCells
"""A batch's vectors: one (n, d) matrix, or a frame's cells read a slice at a time."""


def _rows(values: Values, start: int, stop: int) -> np.ndarray:
    return values.rows(start, stop) if isinstance(values, VectorCells) else values[start:stop]


def _picked(values: Values, rows: Sequence[int]) -> Values:
    return values.pick(rows) if isinstance(values, VectorCells) else values[list(rows)]


@dataclass(frozen=True, slots=True)
class Vectors:
    """A batch of vectors to write.

    Attributes
    ----------
    ids : list of str
        One id per row (at most 64 bytes each).
    values : ndarray of shape (n, d), or VectorCells
        The vectors, float32.
    metadata : list of dict or None, optional
        One metadata object (or None) per row.
    namespaces : list of str or None, optional
        One namespace (or None) per row.
    """

    ids: list[str]
    values: Values
    metadata: list[dict[str, Any] | None] | None = None
    namespaces: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> Vectors:
        """Rows [start, stop)."""
        return Vectors(self.ids[start:stop], _rows(self.values, start, stop), _part(self.metadata, start, stop),
                       _part(self.namespaces, start, stop))

    def take(self, rows: Sequence[int]) -> Vectors:
        """The given rows, in the given order."""
        return Vectors([self.ids[r] for r in rows], _picked(self.values, rows), _pick(self.metadata, rows),
                       _pick(self.namespaces, rows))


@dataclass(frozen=True, slots=True)
class CheckedVectors:
    """A batch that passed every rule of one index (`validation.check_vectors` makes them): ids are
    unique, values are finite float32 of the index's width, and each row's metadata is encoded as the
    compact JSON that is stored and measured (`metadata_json`, None for a row without metadata).
    Backends write these without checking them again."""

    ids: list[str]
    values: Values
    metadata: list[dict[str, Any] | None] | None
    namespaces: list[str | None] | None
    metadata_json: list[bytes | None]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dimensions(self) -> int:
        return int(self.values.shape[1])

    def slice(self, start: int, stop: int) -> CheckedVectors:
        """Rows [start, stop), their values as one matrix (what backends write)."""
        return CheckedVectors(self.ids[start:stop], _rows(self.values, start, stop), _part(self.metadata, start, stop),
                              _part(self.namespaces, start, stop), self.metadata_json[start:stop])

    def take(self, rows: Sequence[int]) -> CheckedVectors:
        """The given rows, in the given order."""
        return CheckedVectors([self.ids[r] for r in rows], _picked(self.values, rows), _pick(self.metadata, rows),
                              _pick(self.namespaces, rows), [self.metadata_json[r] for r in rows])


def _part(values: list[Any] | None, start: int, stop: int) -> Any:
    return None if values is None else values[start:stop]


def _pick(values: list[Any] | None, rows: Sequence[int]) -> Any:
    return None if values is None else [values[r] for r in rows]


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """A stored vector as get_by_ids returns it: `id`, `values` (float32), `metadata` (or None) and
    `namespace` (or None)."""

    id: str
    values: np.ndarray
    metadata: dict[str, Any] | None = None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One query match: `id`, `score` (cosine similarity, euclidean distance or negative dot product),
    and `values`, `metadata` (only when asked for) and `namespace` (None when the vector has none)."""

    id: str
    score: float
    values: np.ndarray | None = None
    metadata: dict[str, Any] | None = None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """What a query asks besides its vector: `top_k` matches, `return_values`, `return_metadata`
    ("none", "indexed" or "all"), a `namespace` to search, and a `filter` in Vectorize's JSON."""

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



@dataclass(frozen=True, slots=True)
class ClauseCounts:
    """One filter clause on the local engine: the vectors it matches, those that predate its metadata
    index, and those indexed without a value of its type (None when the property has no metadata index)."""

    matches: int
    predating: int | None
    lacking: int | None = None


@dataclass(frozen=True, slots=True)
class FilterCounts:
    """What a filter does on an index, counted: the vectors in it, those the whole filter matches,
    and each clause's counts in the filter's order."""

    vectors: int
    matches: int
    clauses: list[ClauseCounts]


@dataclass(frozen=True, slots=True)
class IndexExport:
    """Every vector of an index, column by column, in insertion order: ids, namespaces (None where a
    vector has none), and, when asked for, the values as one (n, d) float32 matrix and the metadata as
    flattened columns (see `flat.MetadataColumns`) or as each row's compact JSON, exactly as stored
    (None for a row without metadata)."""

    ids: list[str]
    namespaces: list[str | None]
    values: np.ndarray | None = None
    metadata: dict[str, list[Any]] | None = None
    metadata_json: list[bytes | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)
