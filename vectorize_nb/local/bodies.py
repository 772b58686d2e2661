"""Request bodies of the served engine: JSON objects checked field by field, and NDJSON vectors read
a line at a time from the request stream (raw, or the `vectors` part of a multipart form).

A missing or ill-typed field is 40026 naming the field and what was expected, as the service words
it (`Failed to parse the request body as JSON: propertyName: missing field, expected a string`).
"""

from __future__ import annotations

import io
from typing import Any

from werkzeug.wrappers import Request

from ..contract import errors, wire
from ..contract.base_error import quoted
from ..contract.filters import json_kind
from ..contract.limits import Limits
from ..contract.models import CheckedVectors, WriteKind

__all__ = ["over_limit", "check_encoding", "json_object", "field", "strings", "ndjson_vectors", "MAX_JSON_BYTES"]

MAX_JSON_BYTES = 1 << 20
"""The largest JSON body a JSON route reads (a query with 1536 values written out in full is about
40 KB): a larger one is refused before it is parsed, so it never becomes Python objects."""

_KINDS: dict[str, tuple[str, tuple[type, ...]]] = {
    "string": ("a string", (str,)),
    "number": ("a number", (int, float)),
    "object": ("an object", (dict,)),
    "array": ("an array", (list,)),
}


def over_limit(request: Request, limit: int) -> int | None:
    """The declared length of a body over `limit` bytes (for the caller's error), else None. A declared
    body is then read as the server hands it over; one of no declared length is cut by werkzeug, whose
    stream refuses once it has reached its maximum and looks for the end: a maximum one byte over the
    limit lets a body of exactly the limit in."""
    if request.content_length is None:
        request.max_content_length = limit + 1
        return None
    request.max_content_length = None
    return request.content_length if request.content_length > limit else None


def check_encoding(request: Request) -> None:
    """Refuse (415) a body sent compressed: it is read as sent, never inflated, so the limits judge the bytes that
    arrive and a small body cannot unpack into a huge one."""
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity"):
        raise errors.MalformedRequest(f"Content-Encoding {quoted(coding)} is not supported: send the body "
                                      f"uncompressed, with no Content-Encoding header", status=415)


def json_object(request: Request) -> dict[str, Any]:
    """The JSON object of a request; like the service, a JSON route wants application/json."""
    if request.mimetype != "application/json":
        raise errors.MalformedRequest("Expected request with `Content-Type: application/json`")
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise errors.PayloadTooLarge(f"JSON request body too large; max is {MAX_JSON_BYTES} bytes, "
                                     f"got {request.content_length} bytes")
    data = _stream(request).read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise errors.PayloadTooLarge(f"JSON request body too large; max is {MAX_JSON_BYTES} bytes")
    try:
        body = wire.loads(data or b"{}")
    except ValueError as exc:
        raise wire.malformed(str(exc)) from None
    if not isinstance(body, dict):
        raise wire.malformed(f"expected an object, got {json_kind(body)}")
    return body


def field(body: dict[str, Any], path: str, kind: str, *, required: bool = False) -> Any:
    """The value at `path` ("config.preset") if it is of `kind` (string, number, object, array);
    None when it is absent or null and not `required`; otherwise 40026 naming the field."""
    value: Any = body
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    expected, types = _KINDS[kind]
    if value is None:
        if required:
            raise wire.malformed(f"{path}: missing field, expected {expected}")
        return None
    if not isinstance(value, types) or isinstance(value, bool):
        raise wire.malformed(f"{path}: expected {expected}, got {json_kind(value)}")
    return value


def strings(body: dict[str, Any], path: str) -> list[str]:
    """The array of strings at `path` (empty when absent); 40026 naming the first item that is not one."""
    values: list[Any] = field(body, path, "array") or []
    for position, value in enumerate(values):
        if not isinstance(value, str):
            raise wire.malformed(f"{path}[{position}]: expected a string, got {json_kind(value)}")
    return values


def ndjson_vectors(request: Request, kind: WriteKind, dimensions: int, limits: Limits,
                   discard_unparsable: bool) -> CheckedVectors:
    """The vectors of an insert/upsert: raw NDJSON under any content type, or the `vectors` part of
    a multipart form (wrangler), read a line at a time."""
    stream = _vectors_part(request) if request.mimetype == "multipart/form-data" else _stream(request)
    return wire.read_ndjson(stream, kind, dimensions, limits, discard_unparsable=discard_unparsable)


def _vectors_part(request: Request) -> Any:
    """The `vectors` part of a form: a file (wrangler), or a field without a filename (`curl -F vectors=<f`)."""
    request.max_form_memory_size = None  # a field may be as large as the body may
    parts = [part.stream for part in request.files.getlist("vectors")]
    parts += [io.BytesIO(text.encode()) for text in request.form.getlist("vectors")]
    if not parts:
        raise errors.UnparsableVectors('vectorize.upstream_error - multipart body has no part named "vectors"')
    if len(parts) > 1:
        raise errors.UnparsableVectors(f'vectorize.upstream_error - multipart body has {len(parts)} parts named '
                                       '"vectors"; send the vectors in one')
    return parts[0]


def _stream(request: Request) -> Any:
    """The body as a buffered stream: werkzeug's limited stream is a raw one, whose reads and
    readlines would otherwise return a piece at a time or go byte by byte."""
    raw = request.stream
    return io.BufferedReader(raw, buffer_size=1 << 16) if isinstance(raw, io.RawIOBase) else raw
