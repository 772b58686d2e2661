"""RestBackend: the Backend protocol over Cloudflare's Vectorize v2 REST API.

It works against any Vectorize-compatible base URL: Cloudflare's (https://api.cloudflare.com/client/v4)
or the project's own `vectorize-nb serve`. Error envelopes come back as the same exception classes
the local engine raises; a success whose `result` is not of the answer's shape is a `ServerError` (502).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import quote

import numpy as np

from ..contract import errors, validation, wire
from ..contract.limits import DEFAULT_LIMITS, Limits
from ..contract.backend import Backend, PreparedWrite
from ..contract.embedding_models import get_model
from ..contract.filters import FilterMiss, parse_filter, silent_misses
from ..contract.models import (DEFAULT_QUERY, CheckedVectors, IndexDescription, IndexInfo, Match, MetadataIndex,
                               Mutation, QueryOptions, VectorPage, VectorRecord, Vectors, WriteKind)
from ..rest_options import REST_DEFAULTS as DEFAULTS
from .ai import WorkersAI
from .transport import Transport

__all__ = ["RestBackend", "UNKNOWN_MUTATION"]

UNKNOWN_MUTATION = Mutation("")
"""What a write returns when it was done by an attempt whose answer (and so its mutation id) was lost."""
log = logging.getLogger("vectorize_nb.rest")

_VALUES_PER_SLICE = 16_384  # about half a millisecond of encoding
INDEXES = "/vectorize/v2/indexes"
INDEX_TYPES_TTL = 10.0
"""Seconds a list of metadata indexes read for `filter_misses` is trusted."""
_Read = TypeVar("_Read")


@dataclass(frozen=True, slots=True)
class EncodedWrite(PreparedWrite):
    """An insert/upsert request with its NDJSON body encoded."""

    path: str
    body: wire.NdjsonBody


def _mutation(result: Any, operation: str) -> Mutation:
    if not isinstance(result, dict) or not isinstance(result.get("mutationId"), str):
        unread = errors.ServerError(f"the answer has no mutationId: {str(result)[:200]}", operation=operation,
                                    status=502)
        unread.maybe_applied = True  # a success: the write was taken, its id is what is missing
        raise unread
    return Mutation(result["mutationId"])


def _read(reader: Callable[[Any], _Read], result: Any, operation: str) -> _Read:
    """`reader(result)`; a result of another shape than the operation's answer (null, a string, a
    field missing or of the wrong type) is a ServerError naming it, as for a body that is not JSON."""
    try:
        return reader(result)
    except errors.VectorizeError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise errors.ServerError(
            f"the server's result is not the answer {operation} expects ({type(exc).__name__}: {exc}): "
            f"{str(result)[:200]}", operation=operation, status=502) from None


def _only_asked(records: list[VectorRecord], asked: Sequence[str], operation: str) -> list[VectorRecord]:
    """The records of a get-by-ids answer, each of an id asked for, only once, with finite values: a
    ServerError if not."""
    wanted, seen = set(asked), set()
    for record in records:
        if record.id in seen or record.id not in wanted:
            problem = "twice" if record.id in seen else "which was not asked for"
            raise errors.ServerError(f"the server's answer holds the record of id {record.id!r}, {problem}",
                                     operation=operation, status=502)
        _finite(record.id, record.values, operation)
        seen.add(record.id)
    return records


def _finite_matches(matches: list[Match], operation: str) -> list[Match]:
    """The matches of a query answer, whose values (if returned) are finite numbers: a ServerError if not."""
    for found in matches:
        if found.values is not None:
            _finite(found.id, found.values, operation)
    return matches


def _finite(vid: str, values: np.ndarray, operation: str) -> None:
    """Vectorize stores float32: a null (NaN once read), a NaN or a number past its range (inf) is the server's."""
    if not np.isfinite(values).all():
        raise errors.ServerError(f"the server's answer holds values of id {vid!r} that are not finite "
                                 "numbers (null, NaN, or past float32's range)", operation=operation, status=502)


def _ndjson_lines(vectors: CheckedVectors) -> list[bytes]:
    """Encode a slice at a time, letting other threads run between slices. The encoder holds the
    interpreter lock; without the pauses a sender that needs it for a moment (to send a body, to read
    an answer) waits out the 5 ms switch interval again and again while the next body is built."""
    width = vectors.values.shape[1] if vectors.values.ndim == 2 and vectors.values.shape[1] else 1
    step = max(1, _VALUES_PER_SLICE // width)
    lines: list[bytes] = []
    for start in range(0, len(vectors), step):
        lines += wire.ndjson_lines(vectors.slice(start, start + step))
        time.sleep(0)
    return lines


def _path(name: str, suffix: str = "") -> str:
    return "/" + quote(name, safe="") + suffix


class RestBackend(Backend):
    """One account of a Vectorize-compatible REST API. `max_concurrency` requests may be in flight."""

    builds_requests = True

    def __init__(self, transport: Transport, *, limits: Limits = DEFAULT_LIMITS,
                 max_concurrency: int = DEFAULTS.concurrency) -> None:
        self.transport = transport
        self.limits = limits
        self.max_concurrency = max_concurrency
        self._index_types: dict[str, tuple[float, dict[str, str]]] = {}
        self.workers_ai = WorkersAI(transport)

    @property
    def embedding_source(self) -> str:  # type: ignore[override]
        return "workers-ai" if self.transport.target.cloudflare else "served"

    def __repr__(self) -> str:
        return f"RestBackend({self.transport.base_url!r}, account_id={self.transport.account_id!r})"

    def close(self) -> None:
        self.transport.close()

    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        return self.transport.request(method, INDEXES + path, operation=operation, **kwargs)

    @staticmethod
    def _checked(operation: str, check: Any, *args: Any) -> Any:
        """A check run before the request, naming the operation if it fails."""
        with errors.during(operation):
            return check(*args)

    # --- indexes -------------------------------------------------------------------------------

    def create_index(self, name: str, *, dimensions: int | None = None, metric: str | None = None,
                     preset: str | None = None, description: str = "") -> IndexDescription:
        """Create an index. When an attempt got no answer and a retry is told the name is taken (3002),
        the index of that name is read: with the configuration asked for, it is the one created."""
        config = {"preset": preset} if preset is not None else {"dimensions": dimensions, "metric": metric}
        body = {"name": name, "config": config, "description": description}
        operation = f"create_index {name!r}"
        self._index_types.pop(name, None)  # a new index has no metadata indexes, whatever its name had
        try:
            result = self._call("POST", "", operation, json=body)
        except errors.DuplicateIndexName as exc:
            if not exc.maybe_applied:
                raise
            return self._created_unanswered(exc, name, dimensions, metric, preset, description)
        return _read(wire.index_from_json, result, operation)

    def _created_unanswered(self, refused: errors.DuplicateIndexName, name: str, dimensions: int | None,
                            metric: str | None, preset: str | None, description: str) -> IndexDescription:
        """The index an unanswered attempt created, if the one of that name is what was asked for;
        else `refused` again."""
        try:
            wanted = validation.index_config(dimensions, metric, preset, self.limits)
            existing = self.get_index(name)
        except errors.VectorizeError:
            raise refused from None
        have = existing.config
        if (have.dimensions, have.metric, existing.description) != (wanted.dimensions, wanted.metric, description) \
                or (wanted.preset is not None and have.preset != wanted.preset):
            raise refused
        log.info("create_index %r: an attempt got no answer, and the index it asked for exists", name)
        return existing

    def list_indexes(self) -> list[IndexDescription]:
        result = self._call("GET", "", "list_indexes") or []
        return _read(lambda items: [wire.index_from_json(item) for item in items], result, "list_indexes")

    def get_index(self, name: str) -> IndexDescription:
        operation = f"get_index {name!r}"
        return _read(wire.index_from_json, self._call("GET", _path(name), operation), operation)

    def delete_index(self, name: str) -> None:
        """Delete an index; an index not found (3000) or deleted (3005) after an attempt that got no
        answer is that attempt's work, and no error."""
        self._index_types.pop(name, None)
        try:
            self._call("DELETE", _path(name), f"delete_index {name!r}")
        except errors.IndexNotFound as exc:
            if not exc.maybe_applied:
                raise
            if isinstance(exc, errors.IndexDeleted):
                log.info("delete_index %r: an attempt got no answer, and the index is deleted", name)
            else:  # Cloudflare may answer 3000 for an index just deleted, and for a name that never was
                log.warning("delete_index %r: an attempt got no answer, and now no index has that name: taken as "
                            "deleted by that attempt (check the name if it was never created)", name)

    def index_info(self, name: str) -> IndexInfo:
        return self.index_info_within(name, None)

    def index_info_within(self, name: str, seconds: float | None) -> IndexInfo:
        """`index_info`, given up (TransportError) after `seconds` whatever the deadlines allow: what
        `Index.wait` calls, so that it ends at its own timeout however the server behaves."""
        operation = f"info on index {name!r}"
        result = self._call("GET", _path(name, "/info"), operation, within=seconds)
        return _read(wire.info_from_json, result, operation)

    # --- vectors -------------------------------------------------------------------------------

    def write(self, name: str, kind: WriteKind, vectors: Vectors | CheckedVectors) -> Mutation:
        """Check, encode and send one insert/upsert request."""
        label = f"{kind} on index {name!r}"
        if not isinstance(vectors, CheckedVectors):
            width = vectors.values.shape[1] if vectors.values.ndim == 2 else 0
            with errors.during(label):
                vectors = validation.check_vectors(vectors, kind, width, self.limits)
        return self.send_write(self.prepare_write(name, kind, vectors))

    def prepare_write(self, name: str, kind: WriteKind, vectors: CheckedVectors) -> EncodedWrite:
        """Encode one insert/upsert request (the CPU-bound half of a write)."""
        label = f"{kind} on index {name!r}"
        with errors.during(label):
            validation.write_count(len(vectors), self.limits)
        body = wire.NdjsonBody(_ndjson_lines(vectors))
        if len(body) > self.limits.max_body_bytes:
            raise errors.PayloadTooLarge(
                f"request body too large; max is {self.limits.max_body_bytes} bytes, got {len(body)} bytes",
                operation=label)
        return EncodedWrite(name, kind, vectors, _path(name, f"/{kind}"), body)

    def send_write(self, prepared: PreparedWrite) -> Mutation:
        """Send a prepared insert/upsert (the half that waits on the network)."""
        if not isinstance(prepared, EncodedWrite):
            prepared = self.prepare_write(prepared.name, prepared.kind, prepared.vectors)
        label = f"{prepared.kind} on index {prepared.name!r}"
        # unparsable-behavior=error: a line this client failed to encode must never be dropped silently
        result = self._call("POST", prepared.path, label, data=prepared.body,
                            params={"unparsable-behavior": "error"}, content_type="application/x-ndjson")
        return _mutation(result, label)

    def query(self, name: str, vector: Any = None, options: QueryOptions = DEFAULT_QUERY, *,
              vector_id: str | None = None) -> list[Match]:
        operation = f"query on index {name!r}"
        if vector is not None:
            vector = self._checked(operation, validation.query_vector, vector)
        options = self._checked(operation, validation.query_options, options, self.limits)
        body = wire.query_json(vector, options, vector_id)
        answer = self._call("POST", _path(name, "/query"), operation, json=body)
        return _finite_matches(_read(wire.matches_from_json, answer, operation), operation)

    def query_many(self, name: str, vectors: np.ndarray, options: QueryOptions = DEFAULT_QUERY) -> list[list[Match]]:
        """One request per vector (the API has no batch query), `max_concurrency` at a time."""
        rows = list(self._checked(f"query on index {name!r}", validation.query_matrix, vectors))
        if len(rows) <= 1 or self.max_concurrency <= 1:
            return [self.query(name, row, options) for row in rows]
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="vectorize-query") as pool:
            return list(pool.map(lambda row: self.query(name, row, options), rows))

    def embed(self, texts: list[str], model: str, pooling: str) -> np.ndarray:
        """Texts to vectors on Workers AI (`POST /accounts/{id}/ai/run/{model}`), one request."""
        return self.workers_ai.embed(texts, get_model(model), pooling)

    def get_by_ids(self, name: str, ids: Sequence[str]) -> list[VectorRecord]:
        operation = f"get_by_ids on index {name!r}"
        checked = self._checked(operation, validation.id_list, ids, self.limits.max_get_ids, self.limits)
        result = self._call("POST", _path(name, "/get_by_ids"), operation, json={"ids": checked})
        return _only_asked(_read(wire.records_from_json, result or [], operation), checked, operation)

    def get_many(self, name: str, ids: Sequence[str]) -> Iterator[list[VectorRecord]]:
        """`max_concurrency` get-by-ids requests in flight, their records in the order asked."""
        step = self.limits.max_get_ids
        if len(ids) <= step or self.max_concurrency <= 1:
            yield from super().get_many(name, ids)
            return
        starts = iter(range(0, len(ids), step))
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="vectorize-get") as pool:
            ahead = deque(pool.submit(self.get_by_ids, name, ids[start:start + step])
                          for start in itertools.islice(starts, 2 * self.max_concurrency))
            try:
                while ahead:  # a few requests ahead of the caller: the records waiting stay few
                    records = ahead.popleft().result()
                    for start in itertools.islice(starts, 1):
                        ahead.append(pool.submit(self.get_by_ids, name, ids[start:start + step]))
                    yield records
            finally:  # an error, or a caller that stops early: no more requests
                for batch in ahead:
                    batch.cancel()

    def delete_by_ids(self, name: str, ids: Sequence[str]) -> Mutation:
        operation = f"delete_by_ids on index {name!r}"
        checked = self._checked(operation, validation.id_list, ids, self.limits.max_delete_ids, self.limits)
        result = self._call("POST", _path(name, "/delete_by_ids"), operation, json={"ids": checked})
        return _mutation(result, operation)

    def list_vectors(self, name: str, count: int | None = None, cursor: str | None = None) -> VectorPage:
        operation = f"list_vectors on index {name!r}"
        if count is not None:
            count = self._checked(operation, validation.list_count, count, self.limits)
        params = {key: value for key, value in (("count", count), ("cursor", cursor)) if value is not None}
        return _read(wire.page_from_json, self._call("GET", _path(name, "/list"), operation, params=params), operation)

    def filter_misses(self, name: str, filter: dict[str, Any]) -> list[FilterMiss]:
        """Clauses on properties without a metadata index, or with values of another type; the list of
        metadata indexes is read at most once every `INDEX_TYPES_TTL` seconds (it is one cheap GET), and
        only for a filter that can be sent."""
        parsed = parse_filter(filter, self.limits)
        seen = self._index_types.get(name)
        if seen is None or time.monotonic() - seen[0] > INDEX_TYPES_TTL:
            types = {m.property_name: m.index_type for m in self.list_metadata_indexes(name)}
            seen = self._index_types[name] = (time.monotonic(), types)
        return silent_misses(parsed, seen[1], name)

    # --- metadata indexes ----------------------------------------------------------------------

    def create_metadata_index(self, name: str, property_name: str, index_type: str) -> Mutation:
        operation = f"create_metadata_index on index {name!r}"
        self._index_types.pop(name, None)
        result = self._call("POST", _path(name, "/metadata_index/create"), operation,
                            json={"propertyName": property_name, "indexType": index_type})
        return _mutation(result, operation)

    def list_metadata_indexes(self, name: str) -> list[MetadataIndex]:
        operation = f"list_metadata_indexes on index {name!r}"
        result = self._call("GET", _path(name, "/metadata_index/list"), operation)
        return _read(wire.metadata_indexes_from_json, result or {}, operation)

    def delete_metadata_index(self, name: str, property_name: str) -> Mutation:
        """Stop indexing a property. When an attempt got no answer and a retry finds no metadata index
        (40005), that attempt deleted it: its mutation id is lost, and `UNKNOWN_MUTATION` says so."""
        operation = f"delete_metadata_index on index {name!r}"
        self._index_types.pop(name, None)
        try:
            result = self._call("POST", _path(name, "/metadata_index/delete"), operation,
                                json={"propertyName": property_name})
        except errors.MetadataIndexNotFound as exc:
            if not exc.maybe_applied:
                raise
            log.info("delete_metadata_index %r on %r: an attempt got no answer, and the metadata index is gone",
                     property_name, name)
            return UNKNOWN_MUTATION
        return _mutation(result, operation)
