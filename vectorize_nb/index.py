"""Index: one Vectorize index, as the user sees it. Results come back as DataFrames.

    idx = client.create_index("docs", dimensions=384)
    idx.upsert(ids, X, metadata=rows)              # split into batches for you
    hits = idx.query(X[0], top_k=10, filter={"genre": "drama"}, return_metadata="all")
    idx.wait()                                      # until the last write is applied
    everything = idx.to_frame()                     # every vector, page by page
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from . import explain, tables, validation, writes
from .errors import InvalidFilter, InvalidRequest, VectorizeError, WaitTimeout
from .filter_builder import Condition
from .filters import Filter, parse_filter
from .models import IndexDescription, IndexInfo, Mutation, QueryOptions, Vectors

if TYPE_CHECKING:
    from .client import Client

__all__ = ["Index", "as_vectors"]


@contextmanager
def _operation(name: str, index: str) -> Iterator[None]:
    try:
        yield
    except VectorizeError as exc:
        exc.with_operation(f"{name} on index {index!r}")
        raise


def as_vectors(data: Any, values: Any = None, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None, dimensions: int | None = None) -> Vectors:
    """Accept a `Vectors`, a list of `{"id", "values", ...}` records, or ids plus a 2-D array."""
    if isinstance(data, Vectors):
        return data
    if values is None:
        return validation.vectors_from_records(list(data), dimensions)
    ids = list(data)
    matrix = np.asarray(values, dtype=np.float32)
    if matrix.ndim != 2 or len(matrix) != len(ids):
        raise InvalidRequest(f"values must be a 2-D array with one row per id ({len(ids)}), got shape {matrix.shape}")
    if isinstance(namespaces, str):
        namespaces = [namespaces] * len(ids)
    if metadata is not None and len(metadata) != len(ids):
        raise InvalidRequest(f"metadata must have one entry per id ({len(ids)}), got {len(metadata)}")
    if namespaces is not None and len(namespaces) != len(ids):
        raise InvalidRequest(f"namespaces must have one entry per id ({len(ids)}), got {len(namespaces)}")
    return Vectors(ids, matrix, None if metadata is None else list(metadata),
                   None if namespaces is None else list(namespaces))


class Index:
    """A handle on one index of a `Client`. Cheap to create; holds no data."""

    def __init__(self, client: Client, description: IndexDescription) -> None:
        self.client = client
        self.description = description

    @property
    def name(self) -> str:
        return self.description.name

    @property
    def dimensions(self) -> int:
        return self.description.dimensions

    @property
    def metric(self) -> str:
        return self.description.metric

    @property
    def backend(self) -> Any:
        return self.client.backend

    def __repr__(self) -> str:
        return (f"Index({self.name!r}, dimensions={self.dimensions}, metric={self.metric!r}, "
                f"target={self.client.target!r})")

    def _attrs(self, operation: str, **extra: Any) -> dict[str, Any]:
        return {"operation": operation, "index": self.name, "target": self.client.target, "metric": self.metric,
                **extra}

    # --- state ---------------------------------------------------------------------------------

    def info(self) -> IndexInfo:
        with _operation("info", self.name):
            return self.backend.index_info(self.name)

    def wait(self, mutation: Mutation | str | writes.WriteResult | None = None, *, timeout: float = 60.0,
             interval: float = 0.25) -> IndexInfo:
        """Block until `mutation` (default: this client's last write to the index) is applied."""
        target = self._mutation_id(mutation)
        if target is None:
            return self.info()
        later = self.client.mutations_after(self.name, target)
        deadline = time.monotonic() + timeout
        while True:
            info = self.info()
            if info.processed_up_to_mutation in later:
                return info
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"mutation {target} not applied after {timeout:g} s; the index has processed up to "
                    f"{info.processed_up_to_mutation}", operation=f"wait on index {self.name!r}")
            time.sleep(interval)

    def _mutation_id(self, mutation: Mutation | str | writes.WriteResult | None) -> str | None:
        if isinstance(mutation, writes.WriteResult):
            last = mutation.last_mutation
            return None if last is None else last.id
        if mutation is None:
            return self.client.last_mutation(self.name)
        return str(mutation)

    # --- writes --------------------------------------------------------------------------------

    def insert(self, data: Any, values: Any = None, *, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None, batch_size: int | None = None,
               progress: bool | None = None, on_error: str = "raise") -> writes.WriteResult:
        """Add vectors with new ids; ids already in the index are left untouched (the first write wins)."""
        return self._write("insert", as_vectors(data, values, metadata, namespaces, self.dimensions),
                           batch_size, progress, on_error)

    def upsert(self, data: Any, values: Any = None, *, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None, batch_size: int | None = None,
               progress: bool | None = None, on_error: str = "raise") -> writes.WriteResult:
        """Add vectors, replacing whole vectors (values, metadata, namespace) whose ids exist."""
        return self._write("upsert", as_vectors(data, values, metadata, namespaces, self.dimensions),
                           batch_size, progress, on_error)

    def _write(self, operation: str, vectors: Vectors, batch_size: int | None, progress: bool | None,
               on_error: str) -> writes.WriteResult:
        if on_error not in ("raise", "report"):
            raise ValueError(f"on_error is 'raise' or 'report', got {on_error!r}")
        with _operation(operation, self.name):
            keep = writes.unique_rows(vectors.ids, "first" if operation == "insert" else "last")
            if keep is not None:
                vectors = _take(vectors, keep)
            metadata_json = writes.validate_all(vectors, self.dimensions, self.backend.limits)
            vectors = replace(vectors, checked_metadata=metadata_json)
        batches = writes.plan_batches(vectors, metadata_json, self.backend.limits, batch_size)
        # A backend that can build a request apart from sending it (REST) gets the next body built
        # while earlier requests are in flight; the local engine just writes each batch.
        prepare_write = getattr(self.backend, "prepare_write", None)

        def prepare(batch: writes.Batch) -> Any:
            return self.backend.prepare_write(self.name, operation, vectors.slice(batch.start, batch.stop))

        def send_one(item: Any) -> Mutation:  # a prepared request, or a Batch for the engine to write
            with _operation(operation, self.name):
                if prepare_write is None:
                    mutation = getattr(self.backend, operation)(self.name, vectors.slice(item.start, item.stop))
                else:
                    mutation = self.backend.send_write(item)
            self.client.record_mutation(self.name, mutation.id)
            return mutation

        outcomes = writes.send_batches(batches, send_one, self.backend.max_concurrency, progress,
                                       None if prepare_write is None else prepare)
        result = writes.WriteResult(operation, self.name, vectors.ids, outcomes,
                                    lambda rows: self._write(operation, _take(vectors, rows), batch_size,
                                                             progress, on_error))
        return result.raise_for_failures() if on_error == "raise" else result

    def delete_by_ids(self, ids: Sequence[str], *, on_error: str = "raise") -> writes.WriteResult:
        """Delete vectors by id, 100 ids per request."""
        ids = list(dict.fromkeys(ids))
        step = self.backend.limits.max_delete_ids
        batches = [writes.Batch(n + 1, start, min(start + step, len(ids)))
                   for n, start in enumerate(range(0, len(ids), step))]

        def send_one(batch: writes.Batch) -> Mutation:
            with _operation("delete_by_ids", self.name):
                mutation = self.backend.delete_by_ids(self.name, ids[batch.start:batch.stop])
            self.client.record_mutation(self.name, mutation.id)
            return mutation

        outcomes = writes.send_batches(batches, send_one, self.backend.max_concurrency, False)
        result = writes.WriteResult("delete", self.name, ids, outcomes,
                                    lambda rows: self.delete_by_ids([ids[r] for r in rows], on_error=on_error))
        return result.raise_for_failures() if on_error == "raise" else result

    # --- queries -------------------------------------------------------------------------------

    def query(self, vector: Any, top_k: int = 5, *, filter: Any = None, namespace: str | None = None,
              return_values: bool = False, return_metadata: str = "none") -> pd.DataFrame:
        """The `top_k` nearest vectors, best first, as a DataFrame (rank, id, score, namespace, ...)."""
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        with _operation("query", self.name):
            matches = self.backend.query(self.name, np.asarray(vector, dtype=np.float32), options)
        return tables.matches_frame([matches], self._query_attrs("query", options), return_values=return_values)

    def query_by_id(self, vector_id: str, top_k: int = 5, *, filter: Any = None, namespace: str | None = None,
                    return_values: bool = False, return_metadata: str = "none") -> pd.DataFrame:
        """Like `query`, using the stored vector `vector_id` as the query."""
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        with _operation("query", self.name):
            matches = self.backend.query(self.name, None, options, vector_id=vector_id)
        attrs = self._query_attrs("query_by_id", options, vector_id=vector_id)
        return tables.matches_frame([matches], attrs, return_values=return_values)

    def query_many(self, vectors: Any, top_k: int = 5, *, keys: Sequence[Any] | None = None, filter: Any = None,
                   namespace: str | None = None, return_values: bool = False,
                   return_metadata: str = "none") -> pd.DataFrame:
        """One query per row of `vectors`, answered in one batch where the backend can; a long frame
        whose `query` column holds `keys[i]` (default: the row number)."""
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        matrix = np.asarray(vectors, dtype=np.float32)
        with _operation("query", self.name):
            results = self.backend.query_many(self.name, matrix, options)
        labels = list(range(len(matrix))) if keys is None else keys
        return tables.matches_frame(results, self._query_attrs("query_many", options), keys=labels,
                                    return_values=return_values)

    def _options(self, top_k: int, flt: Any, namespace: str | None, return_values: bool,
                 return_metadata: str) -> QueryOptions:
        if isinstance(flt, Condition):
            self.check_filter(flt)
            flt = flt.to_json()
        return QueryOptions(top_k, return_values, return_metadata, namespace, flt)

    def check_filter(self, flt: Condition | dict[str, Any]) -> None:
        """Raise `InvalidFilter` for a clause that would match nothing on this index: its property has no
        metadata index, or its value has another type than the index. (Filters built with `F` are checked
        before every query; plain dicts go to Vectorize as they are.)"""
        types = self._metadata_index_types()
        for clause in _parsed(flt, self.backend.limits).clauses:
            kind = types.get(clause.key)
            if kind is None:
                raise InvalidFilter(
                    f'filter on "{clause.key}": index {self.name!r} has no metadata index for "{clause.key}", so '
                    f'this clause matches nothing; create one with create_metadata_index("{clause.key}", type) '
                    "(vectors written before it need writing again); explain_filter() says more")
            if not explain.operand_fits(kind, clause):
                raise InvalidFilter(
                    f'filter on "{clause.key}": its metadata index holds {kind} values, so {clause.op} '
                    f"{clause.operand!r} matches nothing")

    def _metadata_index_types(self) -> dict[str, str]:
        with _operation("list_metadata_indexes", self.name):
            indexes = self.backend.list_metadata_indexes(self.name)
        return {m.property_name: m.index_type for m in indexes}

    def matches_filter(self, ids: Sequence[str], filter: Any = None, namespace: str | None = None, *,
                       stored: pd.DataFrame | None = None) -> pd.Series:
        """For each id, whether a query with `filter` and `namespace` could return that vector (a boolean
        Series indexed by id). Exact on the local engine; over REST it is worked out from the vectors'
        metadata and the index's metadata indexes, which cannot tell vectors that predate an index.
        `stored`: those vectors as `get_by_ids` returns them, when the caller has them already."""
        ids = list(ids)
        flt = filter.to_json() if isinstance(filter, Condition) else filter
        exact = getattr(self.backend, "filter_ids", None)
        if exact is not None:
            with _operation("filter_ids", self.name):
                return pd.Series(exact(self.name, ids, flt, namespace), index=ids, dtype=bool)
        if stored is None:
            stored = self.get_by_ids(ids, values=False)
        return explain.matches(stored, ids, _parsed(flt or {}, self.backend.limits), self._metadata_index_types(),
                               namespace, self.backend.limits.indexed_string_bytes)

    def explain_filter(self, flt: Condition | dict[str, Any]) -> pd.DataFrame:
        """Per clause: the metadata index (if any) and its type, whether the value's type fits it, whether
        a string is compared on its first 64 bytes only, and, on the local engine, how many vectors
        predate the metadata index (a filter misses them) and how many the clause matches."""
        parsed = _parsed(flt, self.backend.limits)
        counts = None
        counter = getattr(self.backend, "explain_filter", None)
        if counter is not None:
            with _operation("explain_filter", self.name):
                counts = counter(self.name, parsed.to_json())
        frame = explain.clauses_frame(parsed, self._metadata_index_types(), counts, self.backend.limits)
        frame.attrs.update(self._attrs("explain_filter", filter=parsed.to_json(),
                                       matching_vectors=None if counts is None else counts["matches"],
                                       vectors=None if counts is None else counts["vectors"]))
        return frame

    def _query_attrs(self, operation: str, options: QueryOptions, **extra: Any) -> dict[str, Any]:
        return self._attrs(operation, top_k=options.top_k, filter=options.filter, namespace=options.namespace,
                           return_metadata=options.return_metadata, **extra)

    # --- reads ---------------------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], *, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """Stored vectors for `ids` (20 per request), in the order asked; unknown ids are left out."""
        records = self._records(list(dict.fromkeys(ids)))
        return tables.records_frame(records, self._attrs("get_by_ids"), values=values, metadata=metadata)

    def list_vectors(self, count: int | None = None, cursor: str | None = None) -> pd.DataFrame:
        """One page of ids; `attrs` hold next_cursor, is_truncated, total_count, cursor_expiration."""
        with _operation("list_vectors", self.name):
            page = self.backend.list_vectors(self.name, count, cursor)
        frame = pd.DataFrame({"id": pd.Series(page.ids, dtype=None if page.ids else object)})
        frame.attrs.update(self._attrs("list_vectors", next_cursor=page.next_cursor, is_truncated=page.is_truncated,
                                       total_count=page.total_count, cursor_expiration=page.cursor_expiration))
        return frame

    def iter_ids(self, page_size: int | None = None) -> Iterator[str]:
        """Every id in the index, walking all pages of one snapshot."""
        cursor = None
        size = page_size or self.backend.limits.max_list_count
        while True:
            with _operation("list_vectors", self.name):
                page = self.backend.list_vectors(self.name, size, cursor)
            yield from page.ids
            if not page.is_truncated:
                return
            cursor = page.next_cursor

    def list_ids(self) -> list[str]:
        return list(self.iter_ids())

    def to_frame(self, *, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """The whole index as one DataFrame (list-vectors, then get_by_ids in allowed batch sizes)."""
        frame = self.get_by_ids(self.list_ids(), values=values, metadata=metadata)
        frame.attrs.update(self._attrs("to_frame"))
        return frame

    def rewrite(self, ids: Sequence[str] | None = None, *, progress: bool | None = None,
                on_error: str = "raise") -> writes.WriteResult:
        """Write stored vectors again, unchanged (all of them by default), so that metadata indexes created
        after they were written take them in."""
        wanted = self.list_ids() if ids is None else list(dict.fromkeys(ids))
        records = self._records(wanted)
        if not records:
            return writes.WriteResult("upsert", self.name, [], [])
        batch = Vectors([r.id for r in records], np.stack([r.values for r in records]),
                        [r.metadata for r in records], [r.namespace for r in records])
        return self.upsert(batch, progress=progress, on_error=on_error)

    def _records(self, ids: Sequence[str]) -> list[Any]:
        step = self.backend.limits.max_get_ids
        records = []
        with _operation("get_by_ids", self.name):
            for start in range(0, len(ids), step):
                records.extend(self.backend.get_by_ids(self.name, list(ids[start:start + step])))
        return records

    # --- metadata indexes ----------------------------------------------------------------------

    def create_metadata_index(self, property_name: str, index_type: str) -> Mutation:
        """Make a metadata property filterable. Vectors already stored are not in it until rewritten."""
        with _operation("create_metadata_index", self.name):
            mutation = self.backend.create_metadata_index(self.name, property_name, index_type)
        self.client.record_mutation(self.name, mutation.id)
        return mutation

    def list_metadata_indexes(self) -> pd.DataFrame:
        with _operation("list_metadata_indexes", self.name):
            indexes = self.backend.list_metadata_indexes(self.name)
        return tables.metadata_indexes_frame(indexes, self._attrs("list_metadata_indexes"))

    def delete_metadata_index(self, property_name: str) -> Mutation:
        with _operation("delete_metadata_index", self.name):
            mutation = self.backend.delete_metadata_index(self.name, property_name)
        self.client.record_mutation(self.name, mutation.id)
        return mutation


def _parsed(flt: Condition | dict[str, Any], limits: Any) -> Filter:
    return flt.filter if isinstance(flt, Condition) else parse_filter(flt, limits)


def _take(vectors: Vectors, rows: Sequence[int]) -> Vectors:
    rows = list(rows)
    return Vectors([vectors.ids[r] for r in rows], vectors.values[rows],
                   None if vectors.metadata is None else [vectors.metadata[r] for r in rows],
                   None if vectors.namespaces is None else [vectors.namespaces[r] for r in rows])
