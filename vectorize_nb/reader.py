"""IndexReader: everything about one index that only reads. `Index` (index.py) builds on it.

    idx.get_by_ids(["a", "b"])          # stored vectors as a DataFrame
    idx.to_frame()                      # the whole index
    idx.explain_filter(F("genre") == "drama")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from . import explain, results
from .contract import arguments, errors, validation
from .contract.backend import Backend
from .contract.errors import InvalidFilter
from .contract.filters import Filter, FilterMiss, parse_filter, silent_misses
from .contract.limits import Limits
from .contract.models import METADATA_MODES, IndexDescription, IndexInfo, VectorRecord
from .filter_builder import Condition

__all__ = ["IndexReader", "FilterLike"]

FilterLike = Condition | dict[str, Any] | None
"""A filter: built with `F` (checked against the index before the query) or Vectorize's JSON as a dict."""


class IndexReader:
    """What can be read of one index: its description and info, its vectors, its metadata indexes,
    and what a filter does on it. `Index` adds the writes and the queries.

    Parameters
    ----------
    backend : Backend
        Where the index lives: the embedded engine, or a REST backend (Cloudflare, `vectorize-nb serve`).
    description : IndexDescription
        Name, dimensions, metric, preset, description and timestamps, as the backend reported them.
    target : str
        A label of the backend's target that holds no secret ("local:<its folder>", "cloudflare:<account>").
    """

    def __init__(self, backend: Backend, description: IndexDescription, *, target: str) -> None:
        self.backend = backend
        self.description = description
        self.target = target

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

    # --- what a filter does --------------------------------------------------------------------

    def check_filter(self, flt: Condition | dict[str, Any]) -> None:
        """Raise `InvalidFilter` for a clause that would match nothing on this index: its property has
        no metadata index, or its value has another type than the index. (Filters built with `F` are
        checked before every query; plain dicts go to Vectorize as they are.)"""
        misses = self._said(silent_misses(_parsed(flt, self.limits), self._metadata_index_types(), self.name))
        if misses:
            raise InvalidFilter(misses[0].message)

    def _said(self, misses: list[FilterMiss]) -> list[FilterMiss]:
        """Filter misses as this handle words them (an `Index` knows the metadata indexes it made, not yet applied)."""
        return misses

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
        with self._during("filter_ids"):
            if isinstance(ids, (Mapping, Condition)):
                raise arguments.malformed(f"ids must be a list of ids, got a filter ({ids!r:.60}): the ids come first, "
                                          "index.matches_filter(ids, filter)")
            ids = validation.asked_ids(ids, self.limits)
            flt = filter.to_json() if isinstance(filter, Condition) else filter
            exact = self.backend.filter_ids(self.name, ids, flt, namespace)
        if exact is not None:
            return pd.Series(exact, index=ids, dtype=bool)
        if stored is None:
            stored = self._read_ids(ids, values=False)
        return explain.matches(stored, ids, _parsed(flt or {}, self.limits), self._metadata_index_types(),
                               namespace, self.limits.indexed_string_bytes)

    def explain_filter(self, flt: Condition | dict[str, Any]) -> pd.DataFrame:
        """What a filter does, clause by clause: the metadata index (if any) and its type, whether the
        value's type fits it, whether a string is compared on its first 64 bytes only, and, on the
        embedded engine, how many vectors predate the metadata index (a filter misses them), how many
        hold no value of its type (missing, or of another type) and how many the clause matches.

        Returns
        -------
        DataFrame
            One row per clause, with a `note` in words; `attrs` hold the vectors matched in all.
        """
        parsed = _parsed(flt, self.limits)
        with self._during("explain_filter"):
            counts = self.backend.explain_filter(self.name, parsed.to_json())
        types = self._metadata_index_types()
        frame = explain.clauses_frame(parsed, types, counts, self.limits)
        if pending := self._unapplied_notes(sorted({c.key for c in parsed.clauses} - set(types))):
            made = frame["property"].isin(list(pending))
            frame.loc[made, "note"] = frame.loc[made, "property"].map(pending)
        return results.stamped(frame, self._attrs("explain_filter", filter=parsed.to_json(),
                                                  matching_vectors=None if counts is None else counts.matches,
                                                  vectors=None if counts is None else counts.vectors))

    def _unapplied_notes(self, properties: list[str]) -> dict[str, str]:
        """What a clause on each of `properties` (none has a metadata index) is told where the metadata index this
        client made on it is not applied yet; a reader that knows of no such index tells nothing."""
        return {}

    # --- reads ---------------------------------------------------------------------------------

    def _read_back(self) -> None:
        """Said after a read by id or an export: a reader wrote nothing, so has nothing to say of its writes."""

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

        Raises
        ------
        IdTooLong
            An id over 64 bytes of UTF-8.
        """
        found = self._read_ids(ids, values=values, metadata=metadata)
        self._read_back()
        return found

    def _read_ids(self, ids: Sequence[str], *, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """`get_by_ids` without a word of this client's pending writes: the package's own reads (a panel's, a
        view's) say what their user sees themselves."""
        with self._during("get_by_ids"):
            values, metadata = _flags(values, metadata)
            wanted = validation.asked_ids(ids, self.limits)
        records = self._records(wanted)
        return results.records_frame(records, self._attrs("get_by_ids"), values=values, metadata=metadata,
                                     dimensions=self.dimensions)

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

        Raises
        ------
        InvalidListCount
            `count` outside 1 to 1000.
        InvalidCursor
            A cursor that is not this index's, or whose walk cannot go on (expired).
        """
        with self._during("list_vectors"):
            page = self.backend.list_vectors(self.name, count, arguments.text("cursor", cursor, optional=True))
        return results.ids_frame(page.ids, self._attrs("list_vectors", next_cursor=page.next_cursor,
                                                       is_truncated=page.is_truncated, total_count=page.total_count,
                                                       cursor_expiration=page.cursor_expiration))

    def iter_ids(self, page_size: int | None = None) -> Iterator[str]:
        """Every id in the index, walking all pages of one listing (pages of `page_size`, default 1000).

        Raises
        ------
        InvalidListCount
            `page_size` outside 1 to 1000 (at the call, before any page is read).
        """
        with self._during("iter_ids"):
            size = self.limits.max_list_count if page_size is None else \
                validation.list_count(page_size, self.limits, name="page_size")
        return self._walked(self.backend.walk_ids(self.name, size))

    def _walked(self, pages: Iterator[list[str]]) -> Iterator[str]:
        while True:
            with self._during("list_vectors"):
                page = next(pages, None)
            if page is None:
                return
            yield from page

    def list_ids(self) -> list[str]:
        """Every id in the index, in insertion order."""
        return list(self.iter_ids())

    def to_frame(self, *, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """The whole index as one DataFrame, in insertion order: id, namespace, values, metadata columns.

        The embedded engine reads its store at once; over REST it is every page of list-vectors, then
        get-by-ids in the batch sizes Vectorize allows. The `values` cells are rows of one float32 matrix.

        Parameters
        ----------
        values, metadata
            As for `get_by_ids`.
        """
        exported = self._export(values=values, metadata=metadata)
        self._read_back()
        return exported

    def _export(self, *, values: bool = True, metadata: bool = True) -> pd.DataFrame:
        """`to_frame` without a word of this client's pending writes, as `_read_ids`."""
        with self._during("to_frame"):
            values, metadata = _flags(values, metadata)
            export = self.backend.export(self.name, values=values, metadata=metadata)
        return results.export_frame(export, self._attrs("to_frame"))

    def _stored(self, vector_id: str) -> bool:
        """Whether a vector of this id is stored (False for a string that cannot be an id)."""
        try:
            return bool(self.backend.get_by_ids(self.name, [vector_id]))
        except errors.VectorizeError:
            return False

    def _records(self, ids: Sequence[str]) -> list[VectorRecord]:
        with self._during("get_by_ids"):
            return [record for records in self.backend.get_many(self.name, list(ids)) for record in records]

    def list_metadata_indexes(self) -> pd.DataFrame:
        """The metadata indexes: property_name and index_type."""
        with self._during("list_metadata_indexes"):
            indexes = self.backend.list_metadata_indexes(self.name)
        return results.metadata_indexes_frame(indexes, self._attrs("list_metadata_indexes"))


def _flags(values: Any, metadata: Any) -> tuple[bool, bool]:
    """values= and metadata= of a read by id, each True or False (a query's metadata mode said to be one)."""
    advice = "metadata=True reads every property and False none; 'none', 'indexed' and 'all' are query's " \
        "return_metadata" if isinstance(metadata, str) and metadata in METADATA_MODES else ""
    return arguments.flag("values", values), arguments.flag("metadata", metadata, advice=advice)


def _parsed(flt: Condition | dict[str, Any], limits: Limits) -> Filter:
    return flt.filter if isinstance(flt, Condition) else parse_filter(flt, limits)
