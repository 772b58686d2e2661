"""Cloudflare's wire format for Vectorize v2: camelCase JSON, the v4 envelope, NDJSON vectors.

Both directions live here, so the REST client and the local server cannot drift apart:
`*_json` turns a model into the JSON Cloudflare sends, `*_from_json` reads it back.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime, UTC
from typing import Any, BinaryIO
from collections.abc import Iterator, Sequence

import numpy as np
import orjson

from . import errors, validation
from .filters import is_number
from .limits import DEFAULT_LIMITS, Limits
from .metadata_json import metadata_json_of
from .models import (CheckedVectors, IndexConfig, IndexDescription, IndexInfo, Match, MetadataIndex, QueryOptions,
                     UNKNOWN_TIME, VectorPage, VectorRecord, Vectors, WriteKind)

__all__ = [
    "dumps", "loads", "envelope", "succeeded", "result_of", "index_json", "index_from_json", "info_json",
    "info_from_json",
    "query_json", "query_from_json", "matches_json", "matches_from_json", "records_json", "records_from_json",
    "page_json", "page_from_json", "metadata_indexes_json", "metadata_indexes_from_json", "encode_ndjson",
    "ndjson_lines", "NdjsonBody", "decode_ndjson", "read_ndjson", "max_ndjson_line", "malformed",
    "NDJSON_UNPARSABLE", "decimal",
]

NDJSON_UNPARSABLE = ("vectorize.upstream_error - failed to parse upsert vectors request in ndjson format: "
                     "line Some({line}) was not expected format")
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any) -> bytes:
    """JSON text; orjson's, unless it cannot write the value: metadata nested as deep as allowed inside an
    answer's envelope, or a filter's integer beyond 64 bits (JSON has no limit: its digits go out as written,
    and a reader takes the number as float64, which is how a number index compares it)."""
    try:
        return orjson.dumps(value, option=_NUMPY)
    except orjson.JSONEncodeError as exc:
        if not any(reason in str(exc) for reason in ("Recursion limit", "Integer exceeds 64-bit range")):
            raise
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def decimal(text: str, max_digits: int = 18) -> int | None:
    """A whole number sent as text (a port, a count, a cursor's offset), or None: ASCII digits only (int() takes
    "²", "+5" and " 5"), and few enough that int() takes them (it refuses over 4,300)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else None


def loads(body: bytes | str) -> Any:
    """JSON as Python values, or a ValueError saying where it is not; of bytes that are not UTF-8, which
    byte (orjson says `str is not valid UTF-8: surrogates not allowed`, at char 0, of any of them)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        if isinstance(body, bytes):
            try:
                body.decode()
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8: byte 0x{body[exc.start]:02x} at offset {exc.start}") from None
        raise


def envelope(result: Any) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": []}


def succeeded(status: int, body: Any) -> bool:
    """Whether a response is a success's envelope, whose `result` is the answer."""
    return 200 <= status < 300 and isinstance(body, dict) and body.get("success") is True and "result" in body


def result_of(status: int, body: Any, operation: str | None = None) -> Any:
    """The `result` of a response, or the exception its envelope stands for."""
    if succeeded(status, body):
        return body["result"]
    if 200 <= status < 300:
        if not (isinstance(body, dict) and body.get("success") is False):
            unread = errors.ServerError(f"HTTP {status} without a Vectorize envelope: {str(body)[:200]}",
                                        operation=operation, status=502)
            unread.maybe_applied = True  # the server took the request: a write may be done
            raise unread
    raise errors.from_envelope(status, body, operation=operation)


# --- timestamps: each field in the form Cloudflare uses -----------------------------------------

def _iso_micro(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iso_milli(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _iso_nano(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000+00:00"


def _parse_time(text: str | None) -> datetime | None:
    """RFC 3339 with any number of fraction digits (Python keeps microseconds)."""
    if not text:
        return None
    head, _, rest = text.replace("Z", "+00:00").partition(".")
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:digits][:6].ljust(6, "0") + rest[digits:]
        text = f"{head}.{rest}"
    else:
        text = head
    return datetime.fromisoformat(text)


# --- indexes ------------------------------------------------------------------------------------

def index_json(description: IndexDescription) -> dict[str, Any]:
    config: dict[str, Any] = {"dimensions": description.dimensions, "metric": description.metric}
    if description.config.preset is not None:
        config["preset"] = description.config.preset
    return {"name": description.name, "description": description.description, "config": config,
            "created_on": _iso_micro(description.created_on), "modified_on": _iso_micro(description.modified_on)}


def index_from_json(data: dict[str, Any]) -> IndexDescription:
    config = data.get("config") or {}
    created = _parse_time(data.get("created_on")) or UNKNOWN_TIME
    return IndexDescription(data["name"], IndexConfig(int(config.get("dimensions") or 0), str(config.get("metric")),
                                                      config.get("preset")),
                            data.get("description") or "", created, _parse_time(data.get("modified_on")) or created)


def info_json(info: IndexInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"dimensions": info.dimensions, "vectorCount": info.vector_count}
    if info.processed_up_to_mutation is not None:
        out["processedUpToMutation"] = info.processed_up_to_mutation
        out["processedUpToDatetime"] = _iso_milli(info.processed_up_to_datetime) \
            if info.processed_up_to_datetime else None
    return out


def info_from_json(data: dict[str, Any]) -> IndexInfo:
    return IndexInfo(int(data.get("dimensions") or 0), int(data.get("vectorCount") or 0),
                     data.get("processedUpToMutation"),
                     _parse_time(data.get("processedUpToDatetime")))


# --- queries ------------------------------------------------------------------------------------

def query_json(vector: np.ndarray | None, options: QueryOptions, vector_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"topK": options.top_k, "returnValues": options.return_values,
                            "returnMetadata": options.return_metadata}
    if vector is not None:
        body["vector"] = np.asarray(vector, dtype=np.float32)
    if vector_id is not None:
        body["vectorId"] = vector_id
    if options.namespace is not None:
        body["namespace"] = options.namespace
    if options.filter is not None:
        body["filter"] = options.filter
    return body


def query_from_json(body: Any) -> tuple[Any, str | None, QueryOptions]:
    """(vector, vectorId, options) of a query body; wrong field types are 40026, as on the service."""
    if not isinstance(body, dict):
        raise malformed("expected an object")
    top_k = body.get("topK", 5)
    return_values = body.get("returnValues", False)
    return_metadata = body.get("returnMetadata", "none")
    validation.query_option_types(top_k, return_values, return_metadata)
    vector = body.get("vector")
    if vector is not None and (not isinstance(vector, list) or not all(is_number(x) for x in vector)):
        raise malformed("vector: expected an array of numbers")
    vector_id = body.get("vectorId")
    if vector_id is not None and not isinstance(vector_id, str):
        raise malformed("vectorId: expected a string")
    namespace = body.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise malformed("namespace: expected a string")
    # topK stays as sent (a float such as 2.5 is the engine's InvalidQuery to report)
    options = QueryOptions(top_k, return_values, return_metadata, namespace,
                           body.get("filter"))
    return vector, vector_id, options


def malformed(detail: str) -> errors.MalformedRequest:
    """40026 as the service words it: `Failed to parse the request body as JSON: <field>: <problem>`."""
    return errors.MalformedRequest(f"Failed to parse the request body as JSON: {detail}")



def _values_json(values: np.ndarray) -> np.ndarray:
    # float32 values printed as the doubles they are: 58.8 stored reads back 58.79999923706055
    return values.astype(np.float64)


def matches_json(matches: Sequence[Match]) -> dict[str, Any]:
    out = []
    for match in matches:
        item: dict[str, Any] = {"id": match.id, "score": match.score}
        if match.values is not None:
            item["values"] = _values_json(match.values)
        if match.metadata is not None:
            item["metadata"] = match.metadata
        if match.namespace is not None:
            item["namespace"] = match.namespace
        out.append(item)
    return {"count": len(out), "matches": out}


def matches_from_json(data: dict[str, Any]) -> list[Match]:
    with np.errstate(over="ignore"):  # a value past float32's range becomes inf, for the caller to refuse
        return [Match(item["id"], float(item["score"]),
                      None if item.get("values") is None else np.asarray(item["values"], dtype=np.float32),
                      item.get("metadata"), item.get("namespace")) for item in data.get("matches") or []]


# --- vectors ------------------------------------------------------------------------------------

def records_json(records: Sequence[VectorRecord]) -> list[dict[str, Any]]:
    out = []
    for record in records:
        item: dict[str, Any] = {"id": record.id, "values": _values_json(record.values),
                                "metadata": record.metadata if record.metadata is not None else {}}
        if record.namespace is not None:
            item["namespace"] = record.namespace
        out.append(item)
    return out


def records_from_json(data: Sequence[dict[str, Any]]) -> list[VectorRecord]:
    with np.errstate(over="ignore"):  # a value past float32's range becomes inf, for the caller to refuse
        return [VectorRecord(item["id"], np.asarray(item.get("values") or [], dtype=np.float32),
                             item.get("metadata") or None, item.get("namespace")) for item in data]


def page_json(page: VectorPage) -> dict[str, Any]:
    return {"count": page.count, "totalCount": page.total_count, "isTruncated": page.is_truncated,
            "nextCursor": page.next_cursor,
            "cursorExpirationTimestamp": None if page.cursor_expiration is None else _iso_nano(page.cursor_expiration),
            "vectors": [{"id": vid} for vid in page.ids]}


def page_from_json(data: dict[str, Any]) -> VectorPage:
    return VectorPage([item["id"] for item in data["vectors"]], data.get("totalCount", 0),  # required, as isTruncated
                      bool(data["isTruncated"]), data.get("nextCursor"),
                      _parse_time(data.get("cursorExpirationTimestamp")))


def metadata_indexes_json(indexes: Sequence[MetadataIndex]) -> dict[str, Any]:
    return {"metadataIndexes": [{"propertyName": m.property_name, "indexType": m.index_type} for m in indexes]}


def metadata_indexes_from_json(data: dict[str, Any]) -> list[MetadataIndex]:
    return [MetadataIndex(item["propertyName"], item["indexType"]) for item in data.get("metadataIndexes") or []]


# --- NDJSON -------------------------------------------------------------------------------------

def ndjson_lines(vectors: CheckedVectors) -> list[bytes]:
    """One JSON object per vector; float32 values in their shortest exact form. Records are assembled
    from pieces encoded once each (a dict per record would cost twice as much at small widths)."""
    metadata = vectors.metadata_json
    namespaces = vectors.namespaces
    lines = []
    for row, (vid, values) in enumerate(zip(vectors.ids, np.asarray(vectors.values))):
        extra = b""  # metadata and namespace are small: join them first, then copy each line once
        encoded = metadata[row]
        if encoded is not None:
            extra = b',"metadata":' + encoded
        if namespaces is not None and namespaces[row] is not None:
            extra += b',"namespace":' + orjson.dumps(namespaces[row])
        lines.append(b'{"id":%b,"values":%b%b}' % (orjson.dumps(vid), orjson.dumps(values, option=_NUMPY), extra))
    return lines


def encode_ndjson(vectors: CheckedVectors) -> bytes:
    return b"\n".join(ndjson_lines(vectors))


class NdjsonBody:
    """An NDJSON request body sent in ~1 MB pieces, with its length known up front (so it goes with a
    Content-Length, not chunked). It never builds the whole body as one object: a batch body is tens of
    megabytes, and allocating that afresh for every request costs more in page faults than the copy."""

    PIECE = 1 << 20

    def __init__(self, lines: list[bytes]) -> None:
        self.lines = lines
        self.size = sum(map(len, lines)) + max(len(lines) - 1, 0)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Any:  # a fresh pass each time, so a retried request sends it all again
        start, filled = 0, 0
        for end, line in enumerate(self.lines, start=1):
            filled += len(line) + 1
            if filled >= self.PIECE or end == len(self.lines):
                if start:
                    yield b"\n"
                yield b"\n".join(self.lines[start:end])
                start, filled = end, 0


def decode_ndjson(body: bytes, dimensions: int, discard_unparsable: bool = False,
                  limits: Limits = DEFAULT_LIMITS, kind: WriteKind = "upsert") -> CheckedVectors:
    """The checked vectors of a whole NDJSON body, with their metadata as objects; see `read_ndjson`."""
    vectors = read_ndjson(io.BytesIO(body), kind, dimensions, limits, discard_unparsable=discard_unparsable)
    if all(blob is None for blob in vectors.metadata_json):
        return vectors
    return replace(vectors, metadata=[None if blob is None else orjson.loads(blob) for blob in vectors.metadata_json])


def max_ndjson_line(dimensions: int, limits: Limits) -> int:
    """The longest line `read_ndjson` reads: room for every value written out in full (up to 64
    characters each) and for an id, a namespace and metadata escaped character by character."""
    return dimensions * 64 + 16 * limits.max_metadata_bytes + 4096


def read_ndjson(stream: BinaryIO, kind: WriteKind, dimensions: int, limits: Limits = DEFAULT_LIMITS, *,
                discard_unparsable: bool = False) -> CheckedVectors:
    """Vectors from an NDJSON stream, read and checked one line at a time, so that a body never
    exists as Python objects all at once.

    A line that is not one vector record (a JSON object with a string `id` and a `values` array) is
    a 40023 error naming the line (counted from 0), or is skipped with `discard_unparsable`; two
    records on one line are not one record. Reading stops at the first record past
    `limits.max_vectors_per_write` (40106) and at the first record whose width is not `dimensions`
    (40012). Metadata is checked as it is read and kept only as its compact JSON; then the batch is
    checked whole (`validation.check_vectors`: ids, values, namespaces, repeated ids), so the engine
    takes it as it is.
    """
    ids: list[str] = []
    rows: list[np.ndarray] = []
    namespaces: list[Any] = []
    metadata: list[bytes | None] = []
    for number, line in _lines(stream, max_ndjson_line(dimensions, limits)):
        record = _record(line)
        if record is None:
            if discard_unparsable:
                continue
            raise errors.UnparsableVectors(NDJSON_UNPARSABLE.format(line=number))
        vid = record["id"]
        if len(ids) == limits.max_vectors_per_write:
            raise errors.TooManyVectors(f"too many vectors in payload; max is {limits.max_vectors_per_write}, "
                                        f"got more (vector {len(ids) + 1}, id={vid!r}, is on line {number})")
        rows.append(_row(vid, record["values"], dimensions))
        metadata.append(metadata_json_of(record.get("metadata"), limits, vid))
        namespaces.append(record.get("namespace"))
        ids.append(vid)
    values = np.vstack(rows) if rows else np.empty((0, dimensions), dtype=np.float32)
    batch = Vectors(ids, values, None, namespaces if any(n is not None for n in namespaces) else None)
    return validation.check_vectors(batch, kind, dimensions, limits, metadata_json=metadata)


def _lines(stream: BinaryIO, longest: int) -> Iterator[tuple[int, bytes | None]]:
    """(number, line) for each line that is not blank; None for a line longer than `longest`, whose
    bytes are skipped without being kept."""
    number = -1
    while line := stream.readline(longest + 1):
        number += 1
        if len(line) > longest and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        elif line.strip():
            yield number, line


def _record(line: bytes | None) -> dict[str, Any] | None:
    if line is None:
        return None
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return record if _is_record(record) else None


def _row(vid: str, values: list[Any], dimensions: int) -> np.ndarray:
    """One record's values as float32 (a value beyond float32's range becomes an infinity, which the
    engine refuses by name); anything but numbers, booleans included, is a 40023 naming the id."""
    if len(values) != dimensions:
        raise validation.wrong_width(vid, dimensions, len(values))
    try:
        row = np.array(values)
    except (TypeError, ValueError, OverflowError):
        row = None
    if row is None or row.dtype.kind not in "iuf" or row.ndim != 1 or _booleans(row, values):
        raise validation.not_numbers(vid)
    with np.errstate(over="ignore"):
        return row.astype(np.float32)


def _booleans(row: np.ndarray, values: list[Any]) -> bool:
    """Whether true or false hide among the numbers: numpy reads them as 1 and 0, so only a row holding
    a 1 or a 0 has its values' types looked at."""
    return bool(((row == 0) | (row == 1)).any()) and any(type(value) is bool for value in values)


def _is_record(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get("id"), str) and isinstance(record.get("values"), list)
