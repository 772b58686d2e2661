"""The Backend contract: every operation `Index` and `Client` use, declared once.

`LocalEngine` (in process) and `RestBackend` (Cloudflare's REST API, or `vectorize-nb serve`) implement
it. The 14 operations of Vectorize v2 are abstract (insert and upsert are one `write` with a
`WriteKind`); the optional capabilities have a default here that every backend can live with, and a
backend that can do better overrides them:

    export                       every vector at once (by default list-vectors and get-by-ids;
                                 `exports_at_once` says whether it costs one read, not a request per page)
    prepare_write / send_write   build a request apart from sending it (REST: encode the next body
                                 while earlier requests are in flight); by default the write is sent as is
    filter_ids / explain_filter  exact answers about a filter; None where a backend cannot know
                                 (the client then works it out from metadata, or says it cannot count)
    filter_misses                what a filter silently leaves out, for the client to warn about
    folder                       where a backend keeps files (the local engine's folder), for caches
    index_folder                 a folder for files computed from one index, deleted with the index
    index_info_within            info given up after some seconds (REST), so that a wait ends in time

A backend does one request's worth of work per call and enforces (or lets the service enforce) the
limits; splitting large writes, waiting for mutations and building DataFrames are the client's job.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import errors
from .flat import MetadataColumns
from .filters import FilterMiss, parse_filter, silent_misses
from .limits import Limits
from .metadata_json import metadata_json_of
from .models import (DEFAULT_QUERY, CheckedVectors, FilterCounts, IndexDescription, IndexExport, IndexInfo, Match,
                     MetadataIndex, Mutation, MutationState, QueryOptions, VectorPage, VectorRecord, Vectors,
                     WriteKind)

__all__ = ["Backend", "PreparedWrite"]


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """One insert/upsert request, ready to send (a backend may subclass it to carry an encoded body)."""

    name: str
    kind: WriteKind
    vectors: CheckedVectors


class Backend(ABC):
    """One account of Vectorize: its indexes, vectors and metadata indexes."""

    limits: Limits
    """The rules this backend enforces; the client sizes batches with them and fails fast."""
    max_concurrency: int = 1
    """How many requests the client may have in flight at once (1 for the in-process engine)."""
    builds_requests: ClassVar[bool] = False
    """Whether `prepare_write` does real work worth overlapping with sending (REST encodes NDJSON)."""
    embedding_source: str = "local"
    """Who makes the vectors `embed` returns of Workers AI's models, as the embedding cache keeps them apart:
    "local" (this machine), "workers-ai" (Cloudflare's), "served" (another server, such as `vectorize-nb serve`);
    anything but "local" is a REST backend that runs them remotely."""
    exports_at_once: ClassVar[bool] = False
    """Whether `export` reads every vector in one go (the engine), not a request per page (REST)."""
    embedded_engine: ClassVar[bool] = False
    """Whether this is the embedded engine: it holds Vectorize's index-name rules itself, and counts the vectors
    written before a metadata index at each query. REST leaves the first to the service (whose name rules the
    record does not pin down), which never tells the second."""

    # --- indexes -------------------------------------------------------------------------------

    @abstractmethod
    def create_index(self, name: str, *, dimensions: int | None = None, metric: str | None = None,
                     preset: str | None = None, description: str = "") -> IndexDescription:
        """Create an index from dimensions and a metric, or from a preset."""

    @abstractmethod
    def list_indexes(self) -> list[IndexDescription]:
        """Every index of the account."""

    @abstractmethod
    def get_index(self, name: str) -> IndexDescription:
        """One index's description; `IndexNotFound` (or `IndexDeleted`) when there is none."""

    @abstractmethod
    def delete_index(self, name: str) -> None:
        """Delete an index and its vectors."""

    @abstractmethod
    def index_info(self, name: str) -> IndexInfo:
        """Counts and the last applied mutation."""

    # --- vectors -------------------------------------------------------------------------------

    @abstractmethod
    def write(self, name: str, kind: WriteKind, vectors: Vectors | CheckedVectors) -> Mutation:
        """Insert or upsert one request's worth of vectors (at most `limits.max_vectors_per_write`)."""

    def insert(self, name: str, vectors: Vectors | CheckedVectors) -> Mutation:
        """`write(name, "insert", vectors)`: ids already stored keep their vector."""
        return self.write(name, "insert", vectors)

    def upsert(self, name: str, vectors: Vectors | CheckedVectors) -> Mutation:
        """`write(name, "upsert", vectors)`: stored vectors with the same ids are replaced whole."""
        return self.write(name, "upsert", vectors)

    @abstractmethod
    def query(self, name: str, vector: Any = None, options: QueryOptions = DEFAULT_QUERY, *,
              vector_id: str | None = None) -> list[Match]:
        """The best `options.top_k` matches of one vector, or of the stored vector `vector_id`."""

    def query_many(self, name: str, vectors: np.ndarray, options: QueryOptions = DEFAULT_QUERY) -> list[list[Match]]:
        """One answer per row of `vectors` (by default one query after the other)."""
        return [self.query(name, row, options) for row in np.asarray(vectors, dtype=np.float32)]

    @abstractmethod
    def get_by_ids(self, name: str, ids: Sequence[str]) -> list[VectorRecord]:
        """Stored vectors in the order asked (at most `limits.max_get_ids`); unknown ids left out."""

    def get_many(self, name: str, ids: Sequence[str]) -> Iterator[list[VectorRecord]]:
        """`get_by_ids` of any number of ids: each request's records in the order asked (by default one
        request after the other)."""
        step = self.limits.max_get_ids
        return (self.get_by_ids(name, ids[start:start + step]) for start in range(0, len(ids), step))

    @abstractmethod
    def delete_by_ids(self, name: str, ids: Sequence[str]) -> Mutation:
        """Delete vectors by id (at most `limits.max_delete_ids`); unknown ids are no error."""

    @abstractmethod
    def list_vectors(self, name: str, count: int | None = None, cursor: str | None = None) -> VectorPage:
        """One page of ids; the first call pins the set of ids its cursor walks."""

    def walk_ids(self, name: str, count: int) -> Iterator[list[str]]:
        """The ids of every page of one listing, pages of `count`. A server that would walk on forever (a
        truncated page without a new cursor, or ids past twice its total) is a ServerError."""
        cursor, seen, listed = None, set(), 0
        while True:
            page = self.list_vectors(name, count, cursor)
            listed += len(page.ids)
            yield page.ids
            if not page.is_truncated:
                return
            cursor = page.next_cursor
            stuck = cursor is None or cursor in seen
            if stuck or listed > 2 * page.total_count + count:
                raise errors.ServerError(
                    f"the server's listing of index {name!r} does not end: a truncated page with "
                    f"{'no new cursor' if stuck else 'ids past its total'} after {listed} ids",
                    operation=f"list_vectors on index {name!r}", status=502)
            seen.add(cursor)

    @abstractmethod
    def embed(self, texts: list[str], model: str, pooling: str) -> np.ndarray:
        """Texts to float32 unit vectors with a Workers AI model, one request's worth (at most the model's
        `max_texts`): on Workers AI over REST, on this machine from the model's open weights locally."""

    # --- metadata indexes ----------------------------------------------------------------------

    @abstractmethod
    def create_metadata_index(self, name: str, property_name: str, index_type: str) -> Mutation:
        """Make a metadata property filterable (for vectors written from now on)."""

    @abstractmethod
    def list_metadata_indexes(self, name: str) -> list[MetadataIndex]:
        """The metadata indexes of an index."""

    @abstractmethod
    def delete_metadata_index(self, name: str, property_name: str) -> Mutation:
        """Stop indexing a property."""

    # --- optional capabilities, with defaults --------------------------------------------------

    def prepare_write(self, name: str, kind: WriteKind, vectors: CheckedVectors) -> PreparedWrite:
        """Build one write request (the CPU-bound half of a write); nothing to build by default."""
        return PreparedWrite(name, kind, vectors)

    def send_write(self, prepared: PreparedWrite) -> Mutation:
        """Send a request `prepare_write` built (the half that waits)."""
        return self.write(prepared.name, prepared.kind, prepared.vectors)

    def export(self, name: str, *, values: bool = True, metadata: bool = True,
               metadata_json: bool = False) -> IndexExport:
        """Every vector of an index, column by column: by default a walk of list-vectors pages and
        get-by-ids requests (which is what Vectorize offers); the embedded engine reads its store at once.
        With `metadata_json`, the metadata comes as each row's compact JSON (`IndexExport.metadata_json`),
        not as flattened columns: exact (a null, an empty object) and ready to write elsewhere."""
        ids = list(dict.fromkeys(vid for page in self.walk_ids(name, self.limits.max_list_count) for vid in page))
        matrix = np.empty((len(ids), self.get_index(name).dimensions), np.float32)  # filled as records come
        found: list[str] = []
        namespaces: list[str | None] = []
        rows: list[dict[str, Any] | None] = []
        for records in self.get_many(name, ids):
            for record in records:
                if record.values.shape != matrix.shape[1:]:
                    raise errors.ServerError(
                        f"the server's record {record.id!r} has {record.values.size} dimensions where index "
                        f"{name!r} has {matrix.shape[1]}", operation=f"export of index {name!r}", status=502)
                matrix[len(found)] = record.values
                found.append(record.id)
                namespaces.append(record.namespace)
                rows.append(record.metadata)
        if len(found) < len(ids):  # deleted since they were listed
            matrix = matrix[:len(found)].copy()
        flat = metadata and not metadata_json
        columns = MetadataColumns()
        columns.add(rows if flat else [])
        blobs = [metadata_json_of(row, self.limits, vid) for vid, row in zip(found, rows)] if metadata_json else None
        return IndexExport(found, namespaces, matrix if values else None, columns.columns if flat else None, blobs)

    def filter_ids(self, name: str, ids: Sequence[str], filter: dict[str, Any] | None = None,
                   namespace: str | None = None) -> list[bool] | None:
        """For each id, whether a query with `filter` and `namespace` could return it; None when this
        backend cannot tell exactly (vectors that predate a metadata index are invisible to REST)."""
        return None

    def filter_misses(self, name: str, filter: dict[str, Any]) -> list[FilterMiss]:
        """The clauses of `filter` that silently leave vectors out on this index (Vectorize says nothing of
        them; the client warns). By default: properties without a metadata index, and values of another
        type than the index."""
        types = {m.property_name: m.index_type for m in self.list_metadata_indexes(name)}
        return silent_misses(parse_filter(filter, self.limits), types, name)

    def explain_filter(self, name: str, filter: dict[str, Any]) -> FilterCounts | None:
        """Counts behind a filter, clause by clause; None when this backend cannot count them."""
        return None

    @property
    def folder(self) -> Path | None:
        """A folder this backend keeps its files in, where caches may live beside them; None if none."""
        return None

    def mutation_state(self, name: str, mutation_id: str) -> MutationState:
        """Whether index `name` has applied the mutation `mutation_id` ("applied", "pending"), never issued it
        ("unknown"), or None where the backend cannot tell (over REST: Vectorize reports only the last mutation it
        applied, which may be another writer's). The embedded engine records each mutation and when it applied it."""
        return None

    def index_info_within(self, name: str, seconds: float | None) -> IndexInfo:
        """`index_info`, given up (TransportError) after `seconds` whatever else the backend allows; by
        default plain `index_info`, for a backend whose calls do not wait on a network."""
        return self.index_info(name)

    def index_folder(self, name: str) -> Path | None:
        """A folder for files computed from index `name` (its maps), which deleting the index deletes
        too, and a new index of that name does not see; None where the backend keeps no files."""
        return None

    def close(self) -> None:
        """Release connections and files (nothing to release by default)."""
