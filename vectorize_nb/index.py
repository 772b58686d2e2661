"""Index: one Vectorize index, as the user sees it. Results come back as DataFrames.

    idx = client.create_index("docs", dimensions=384)
    idx.upsert(ids, X, metadata=rows)              # split into batches for you
    hits = idx.query(X[0], top_k=10, filter={"genre": "drama"}, return_metadata="all")
    idx.wait()                                      # until the last write is applied
    everything = idx.to_frame()                     # every vector, page by page
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import explain, results
from .contract import errors, validation
from .contract.backend import Backend
from .contract.errors import InvalidFilter
from .contract.filters import Filter, parse_filter, silent_misses
from .contract.limits import Limits
from .contract.models import IndexDescription, IndexInfo, Mutation, QueryOptions, VectorRecord, Vectors, WriteKind
from .filter_builder import Condition
from .mutation_log import MutationLog, wait_until_applied
from .writes import OnError, WriteOptions, Writer, WriteResult, as_vectors, documented

__all__ = ["Index"]

FilterLike = Condition | dict[str, Any] | None
"""A filter: built with `F` (checked against the index before the query) or Vectorize's JSON as a dict."""


class Index:
    """A handle on one index. Cheap to create; holds no data. Get one from `Client.create_index`,
    `Client.get_index` or `Client.indexes`.

    Parameters
    ----------
    backend : Backend
        Where the index lives.
    description : IndexDescription
        The index as the backend describes it.
    target : str
        A label of the backend's target that holds no secret.
    log : MutationLog, optional
        The mutations issued through this handle's client (what `wait` waits for).

    Attributes
    ----------
    backend : Backend
        Where the index lives: the embedded engine, or a REST backend (Cloudflare, `vectorize-nb serve`).
    description : IndexDescription
        Name, dimensions, metric, preset, description and timestamps, as the backend reported them.
    target : str
        A label of the backend's target that holds no secret ("local:.vectorize", "cloudflare:<account>").
    """

    def __init__(self, backend: Backend, description: IndexDescription, *, target: str,
                 log: MutationLog | None = None) -> None:
        self.backend = backend
        self.description = description
        self.target = target
        self.log = MutationLog() if log is None else log
        self._writer = Writer(backend, description.name, description.dimensions, self.log)

    @property
    def name(self) -> str:
        """The index's name."""
        return self.description.name

    @property
    def dimensions(self) -> int:
        """The width of every vector in the index."""
        return self.description.dimensions

    @property
    def metric(self) -> str:
        """"cosine", "euclidean" or "dot-product"."""
        return self.description.metric

    @property
    def limits(self) -> Limits:
        """The rules the backend enforces (Cloudflare's published limits by default)."""
        return self.backend.limits

    def __repr__(self) -> str:
        return (f"Index({self.name!r}, dimensions={self.dimensions}, metric={self.metric!r}, "
                f"target={self.target!r})")

    def _attrs(self, operation: str, **extra: Any) -> dict[str, Any]:
        return {"operation": operation, "index": self.name, "target": self.target, "metric": self.metric, **extra}

    def _during(self, operation: str) -> Any:
        return errors.during(f"{operation} on index {self.name!r}")

    # --- state ---------------------------------------------------------------------------------

    def info(self) -> IndexInfo:
        """Dimensions, the number of vectors, and the last mutation the index has applied."""
        with self._during("info"):
            return self.backend.index_info(self.name)

    def wait(self, mutation: Mutation | str | WriteResult | None = None, *, timeout: float = 60.0,
             interval: float = 0.25) -> IndexInfo:
        """Block until a write is applied (Vectorize applies writes a few seconds after acknowledging them).

        Parameters
        ----------
        mutation : Mutation, str or WriteResult, optional
            The write to wait for; by default this client's last write to the index.
        timeout : float, default 60
            Seconds before giving up with `WaitTimeout`.
        interval : float, default 0.25
            Seconds between two looks at `info()`.

        Returns
        -------
        IndexInfo
            The index's info once the write is applied.
        """
        target = self._mutation_id(mutation)
        if target is None:
            return self.info()
        return wait_until_applied(self.backend, self.name, self.log, target, timeout=timeout, interval=interval)

    def _mutation_id(self, mutation: Mutation | str | WriteResult | None) -> str | None:
        if isinstance(mutation, WriteResult):
            last = mutation.last_mutation
            return None if last is None else last.id
        if mutation is None:
            return self.log.last(self.name)
        return str(mutation)

    # --- writes --------------------------------------------------------------------------------

    @documented
    def insert(self, data: Any, values: Any = None, *, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None, batch_size: int | None = None,
               wait: bool = False, progress: bool | None = None, on_error: OnError = "raise") -> WriteResult:
        """Add vectors with new ids; ids already in the index keep their stored vector (the first write wins).

        Parameters
        ----------
        {write_input}
        {write_options}

        Returns
        -------
        {write_result}

        Examples
        --------
        >>> idx.insert(["a", "b"], np.eye(2, 32), metadata=[{"genre": "drama"}, None])  # doctest: +SKIP
        """
        return self.write("insert", as_vectors(data, values, metadata, namespaces, self.dimensions),
                          WriteOptions(batch_size, wait, progress, on_error))

    @documented
    def upsert(self, data: Any, values: Any = None, *, metadata: Sequence[dict[str, Any] | None] | None = None,
               namespaces: str | Sequence[str | None] | None = None, batch_size: int | None = None,
               wait: bool = False, progress: bool | None = None, on_error: OnError = "raise") -> WriteResult:
        """Add vectors, replacing whole vectors (values, metadata and namespace) whose ids exist.

        Parameters
        ----------
        {write_input}
        {write_options}

        Returns
        -------
        {write_result}
        """
        return self.write("upsert", as_vectors(data, values, metadata, namespaces, self.dimensions),
                          WriteOptions(batch_size, wait, progress, on_error))

    def write(self, kind: WriteKind, vectors: Any, options: WriteOptions | None = None) -> WriteResult:
        """Insert or upsert a batch of any size (what `insert`, `upsert` and `df.vectorize` call):
        checked whole, split to the limits, sent, reported batch by batch.

        Parameters
        ----------
        kind : {"insert", "upsert"}
            What to do with ids already stored.
        vectors : Vectors or CheckedVectors
            The batch.
        options : WriteOptions, optional
            Batch size, waiting, progress bar and error handling (the defaults of `upsert`).
        """
        return self._writer.write(kind, vectors, options or WriteOptions())

    def delete_by_ids(self, ids: Sequence[str], *, on_error: OnError = "raise") -> WriteResult:
        """Delete vectors by id (100 ids per request); unknown ids are no error.

        Parameters
        ----------
        ids : sequence of str
            The ids to delete (repeats are sent once).
        on_error : {"raise", "report"}, default "raise"
            Raise `WriteIncomplete` when a request fails, or report it in the result.
        """
        return self._writer.delete(ids, WriteOptions(on_error=on_error))

    def rewrite(self, ids: Sequence[str] | None = None, *, progress: bool | None = None,
                on_error: OnError = "raise") -> WriteResult:
        """Write stored vectors again, unchanged (all of them by default), so that metadata indexes
        created after they were written take them in.

        Parameters
        ----------
        ids : sequence of str, optional
            The vectors to rewrite; by default every vector of the index.
        progress, on_error
            As for `upsert`.
        """
        wanted = self.list_ids() if ids is None else list(dict.fromkeys(ids))
        records = self._records(wanted)
        if not records:
            return WriteResult("upsert", self.name, [], [])
        batch = Vectors([r.id for r in records], np.stack([r.values for r in records]),
                        [r.metadata for r in records], [r.namespace for r in records])
        return self.write("upsert", batch, WriteOptions(progress=progress, on_error=on_error))

    # --- queries -------------------------------------------------------------------------------

    def query(self, vector: Any, top_k: int = 5, *, filter: FilterLike = None, namespace: str | None = None,
              return_values: bool = False, return_metadata: str = "none") -> pd.DataFrame:
        """The `top_k` vectors nearest to `vector`, best first.

        Parameters
        ----------
        vector : array-like of shape (dimensions,)
            The query vector.
        top_k : int, default 5
            How many matches (at most 100; 50 with `return_values` or `return_metadata="all"`).
        filter : F condition or dict, optional
            Only vectors whose metadata passes it: `F("genre") == "drama"`, or Vectorize's JSON
            `{"genre": {"$eq": "drama"}}`. Only properties with a metadata index filter, and only
            vectors written after that index was created; `explain_filter` shows what a filter does.
        namespace : str, optional
            Search only this namespace (by default every namespace).
        return_values : bool, default False
            Add a `values` column with each match's vector.
        return_metadata : {"none", "indexed", "all"}, default "none"
            Add a column per metadata property: of every property ("all"), or only of those with a
            metadata index ("indexed", strings cut to 64 bytes).

        Returns
        -------
        DataFrame
            One row per match: rank, id, score, namespace (then values and metadata columns). Scores
            are cosine similarity (higher is closer), euclidean distance or negative dot product (lower
            is closer). `attrs` records the index, the target and the query's options.
        """
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        query = np.asarray(vector, dtype=np.float32)
        self._zero_vectors(query[None, :] if query.ndim == 1 else query)
        with self._during("query"):
            matches = self.backend.query(self.name, query, options)
        return results.matches_frame([matches], self._query_attrs("query", options), return_values=return_values)

    def query_by_id(self, vector_id: str, top_k: int = 5, *, filter: FilterLike = None,
                    namespace: str | None = None, return_values: bool = False,
                    return_metadata: str = "none") -> pd.DataFrame:
        """Like `query`, with the stored vector `vector_id` as the query (it finds itself first).

        Parameters
        ----------
        vector_id : str
            The id of a vector stored in this index (`VectorNotFound` otherwise).
        top_k, filter, namespace, return_values, return_metadata
            As for `query`.
        """
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        with self._during("query"):
            matches = self.backend.query(self.name, None, options, vector_id=vector_id)
        attrs = self._query_attrs("query_by_id", options, vector_id=vector_id)
        return results.matches_frame([matches], attrs, return_values=return_values)

    def query_many(self, vectors: Any, top_k: int = 5, *, keys: Sequence[Any] | None = None,
                   filter: FilterLike = None, namespace: str | None = None, return_values: bool = False,
                   return_metadata: str = "none") -> pd.DataFrame:
        """One query per row of `vectors`, answered in one batch where the backend can (the embedded
        engine does one matrix product; over REST, requests go several at a time).

        Parameters
        ----------
        vectors : array-like of shape (m, dimensions)
            The query vectors.
        keys : sequence, optional
            A label per query, for the `query` column (default: the row number).
        top_k, filter, namespace, return_values, return_metadata
            As for `query`.

        Returns
        -------
        DataFrame
            One long frame: `query` (the key), then the columns of `query`.
        """
        options = self._options(top_k, filter, namespace, return_values, return_metadata)
        matrix = np.asarray(vectors, dtype=np.float32)
        self._zero_vectors(matrix)
        with self._during("query"):
            answers = self.backend.query_many(self.name, matrix, options)
        labels = list(range(len(matrix))) if keys is None else keys
        return results.matches_frame(answers, self._query_attrs("query_many", options), keys=labels,
                                     return_values=return_values)

    def _options(self, top_k: int, flt: FilterLike, namespace: str | None, return_values: bool,
                 return_metadata: str) -> QueryOptions:
        if isinstance(flt, Condition):
            self.check_filter(flt)
            flt = flt.to_json()
        with self._during("query"):
            options = validation.query_options(QueryOptions(top_k, return_values, return_metadata, namespace, flt),
                                               self.limits, python=True)
            if options.filter:
                for miss in self.backend.filter_misses(self.name, options.filter):
                    errors.warn_once((id(self.backend), self.name, miss.property, miss.reason), miss.message)
        return options

    def _zero_vectors(self, queries: np.ndarray) -> None:
        """Warn that all-zero query vectors rank nothing under cosine (every score is 0, the order is by id)."""
        if self.metric != "cosine" or queries.ndim != 2 or queries.size == 0 or queries.any(axis=1).all():
            return
        zero = np.flatnonzero(~queries.any(axis=1))
        which = "the query vector is" if len(queries) == 1 else f"{len(zero)} of the {len(queries)} query vectors are"
        errors.warn_once((id(self.backend), self.name, "zero query"),
                         f"{which} all zeros: under cosine a zero vector has no direction, so every score is 0 "
                         f"and the {self.name!r} matches come in id order, not by similarity")

    def _query_attrs(self, operation: str, options: QueryOptions, **extra: Any) -> dict[str, Any]:
        return self._attrs(operation, top_k=options.top_k, filter=options.filter, namespace=options.namespace,
                           return_metadata=options.return_metadata, **extra)

    # --- what a filter does --------------------------------------------------------------------

    def check_filter(self, flt: Condition | dict[str, Any]) -> None:
        """Raise `InvalidFilter` for a clause that would match nothing on this index: its property has
        no metadata index, or its value has another type than the index. (Filters built with `F` are
        checked before every query; plain dicts go to Vectorize as they are.)"""
        misses = silent_misses(_parsed(flt, self.limits), self._metadata_index_types(), self.name)
        if misses:
            raise InvalidFilter(misses[0].message)

    def _metadata_index_types(self) -> dict[str, str]:
        with self._during("list_metadata_indexes"):
            indexes = self.backend.list_metadata_indexes(self.name)
        return {m.property_name: m.index_type for m in indexes}

    def matches_filter(self, ids: Sequence[str], filter: FilterLike = None, namespace: str | None = None, *,
                       stored: pd.DataFrame | None = None) -> pd.Series:
        """For each id, whether a query with `filter` and `namespace` could return that vector.

        Exact on the embedded engine; over REST it is worked out from the vectors' metadata and the
        index's metadata indexes, which cannot tell the vectors that predate a metadata index.

        Parameters
        ----------
        ids : sequence of str
            The vectors to test.
        filter, namespace
            As for `query`.
        stored : DataFrame, optional
            Those vectors as `get_by_ids` returns them, when the caller has them already (saves
            fetching them over REST).

        Returns
        -------
        Series of bool
            Indexed by id.
        """
        ids = list(ids)
        flt = filter.to_json() if isinstance(filter, Condition) else filter
        with self._during("filter_ids"):
            exact = self.backend.filter_ids(self.name, ids, flt, namespace)
        if exact is not None:
            return pd.Series(exact, index=ids, dtype=bool)
        if stored is None:
            stored = self.get_by_ids(ids, values=False)
        return explain.matches(stored, ids, _parsed(flt or {}, self.limits), self._metadata_index_types(),
                               namespace, self.limits.indexed_string_bytes)

    def explain_filter(self, flt: Condition | dict[str, Any]) -> pd.DataFrame:
        """What a filter does, clause by clause: the metadata index (if any) and its type, whether the
        value's type fits it, whether a string is compared on its first 64 bytes only, and, on the
        embedded engine, how many vectors predate the metadata index (a filter misses them) and how
        many the clause matches.

        Returns
        -------
        DataFrame
            One row per clause, with a `note` in words; `attrs` hold the vectors matched in all.
        """
        parsed = _parsed(flt, self.limits)
        with self._during("explain_filter"):
            counts = self.backend.explain_filter(self.name, parsed.to_json())
        frame = explain.clauses_frame(parsed, self._metadata_index_types(), counts, self.limits)
        frame.attrs.update(self._attrs("explain_filter", filter=parsed.to_json(),
                                       matching_vectors=None if counts is None else counts.matches,
                                       vectors=None if counts is None else counts.vectors))
        return frame

    # --- reads ---------------------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], *, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """Stored vectors (20 per request), in the order asked; unknown ids are left out.

        Parameters
        ----------
        ids : sequence of str
            The ids to fetch.
        values : bool, default True
            Include a `values` column (float32 arrays).
        metadata : bool, default True
            Include a column per metadata property (nested keys joined with ".").
        """
        records = self._records(list(dict.fromkeys(ids)))
        return results.records_frame(records, self._attrs("get_by_ids"), values=values, metadata=metadata)

    def list_vectors(self, count: int | None = None, cursor: str | None = None) -> pd.DataFrame:
        """One page of ids, in insertion order. The first call pins the set of ids the walk covers.

        Parameters
        ----------
        count : int, optional
            Ids per page (1 to 1000, default 100).
        cursor : str, optional
            Where to go on: the previous page's `attrs["next_cursor"]` (valid for an hour).

        Returns
        -------
        DataFrame
            An `id` column; `attrs` hold next_cursor, is_truncated, total_count, cursor_expiration.
        """
        with self._during("list_vectors"):
            page = self.backend.list_vectors(self.name, count, cursor)
        frame = pd.DataFrame({"id": pd.Series(page.ids, dtype=None if page.ids else object)})
        frame.attrs.update(self._attrs("list_vectors", next_cursor=page.next_cursor, is_truncated=page.is_truncated,
                                       total_count=page.total_count, cursor_expiration=page.cursor_expiration))
        return frame

    def iter_ids(self, page_size: int | None = None) -> Iterator[str]:
        """Every id in the index, walking all pages of one listing (pages of `page_size`, default 1000)."""
        cursor = None
        size = page_size or self.limits.max_list_count
        while True:
            with self._during("list_vectors"):
                page = self.backend.list_vectors(self.name, size, cursor)
            yield from page.ids
            if not page.is_truncated:
                return
            cursor = page.next_cursor

    def list_ids(self) -> list[str]:
        """Every id in the index, in insertion order."""
        return list(self.iter_ids())

    def to_frame(self, *, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """The whole index as one DataFrame: every id (list-vectors), then `get_by_ids` in batches.

        Parameters
        ----------
        values, metadata
            As for `get_by_ids`.
        """
        frame = self.get_by_ids(self.list_ids(), values=values, metadata=metadata)
        frame.attrs.update(self._attrs("to_frame"))
        return frame

    def _records(self, ids: Sequence[str]) -> list[VectorRecord]:
        step = self.limits.max_get_ids
        records = []
        with self._during("get_by_ids"):
            for start in range(0, len(ids), step):
                records.extend(self.backend.get_by_ids(self.name, list(ids[start:start + step])))
        return records

    # --- metadata indexes ----------------------------------------------------------------------

    def create_metadata_index(self, property_name: str, index_type: str) -> Mutation:
        """Make a metadata property filterable. Vectors already stored are not in it until rewritten
        (`rewrite()`).

        Parameters
        ----------
        property_name : str
            The property (dots reach into nested objects: "author.name").
        index_type : {"string", "number", "boolean"}
            The type of values the index holds; values of other types are left out of it.
        """
        with self._during("create_metadata_index"):
            mutation = self.backend.create_metadata_index(self.name, property_name, index_type)
        self.log.record(self.name, mutation.id)
        return mutation

    def list_metadata_indexes(self) -> pd.DataFrame:
        """The metadata indexes: property_name and index_type."""
        with self._during("list_metadata_indexes"):
            indexes = self.backend.list_metadata_indexes(self.name)
        return results.metadata_indexes_frame(indexes, self._attrs("list_metadata_indexes"))

    def delete_metadata_index(self, property_name: str) -> Mutation:
        """Stop indexing `property_name` (filters on it then match nothing)."""
        with self._during("delete_metadata_index"):
            mutation = self.backend.delete_metadata_index(self.name, property_name)
        self.log.record(self.name, mutation.id)
        return mutation


def _parsed(flt: Condition | dict[str, Any], limits: Limits) -> Filter:
    return flt.filter if isinstance(flt, Condition) else parse_filter(flt, limits)
