"""The local engine behind Cloudflare's REST API: a WSGI application (werkzeug for routing and
request parsing), so Cloudflare's own clients work against it given only a base URL.

Routes live under /client/v4/accounts/<account_id>/vectorize/v2/indexes; the account id is taken as
given. Every answer is Cloudflare's envelope with the status of the spec and the decisions page.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any
from collections.abc import Callable, Iterable

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..contract import errors, wire
from ..contract.limits import DEFAULT_LIMITS, Limits
from .engine import LocalEngine

__all__ = ["VectorizeApp", "PREFIX"]

PREFIX = "/client/v4/accounts/<account_id>/vectorize/v2/indexes"
ACCOUNT_ID = "local"
"""Any account id works in a path; this is the one the local server names as its own."""
log = logging.getLogger("vectorize_nb.server")

_ROUTES = [
    ("", "GET", "list_indexes"), ("", "POST", "create_index"),
    ("/<index>", "GET", "get_index"), ("/<index>", "DELETE", "delete_index"),
    ("/<index>/info", "GET", "info"),
    ("/<index>/insert", "POST", "insert"), ("/<index>/upsert", "POST", "upsert"),
    ("/<index>/query", "POST", "query"),
    ("/<index>/get_by_ids", "POST", "get_by_ids"), ("/<index>/delete_by_ids", "POST", "delete_by_ids"),
    ("/<index>/list", "GET", "list_vectors"),
    ("/<index>/metadata_index/create", "POST", "create_metadata_index"),
    ("/<index>/metadata_index/list", "GET", "list_metadata_indexes"),
    ("/<index>/metadata_index/list", "POST", "list_metadata_indexes"),
    ("/<index>/metadata_index/delete", "POST", "delete_metadata_index"),
]


class VectorizeApp:
    """WSGI application over one `LocalEngine`. With `token`, every request needs that bearer token."""

    def __init__(self, engine: LocalEngine, token: str | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.engine = engine
        self._token = token
        self.limits = limits
        rules = [Rule(PREFIX + path, methods=[method], endpoint=endpoint) for path, method, endpoint in _ROUTES]
        rules += [Rule("/client/v4/memberships", methods=["GET"], endpoint="memberships"),
                  Rule("/client/v4/accounts", methods=["GET"], endpoint="accounts")]
        self.url_map = Map(rules, strict_slashes=False)

    def __repr__(self) -> str:
        return f"VectorizeApp({self.engine!r}, token={'set' if self._token else 'none'})"

    def _memberships(self, request: Request) -> Any:
        """wrangler asks which accounts its token reaches when CLOUDFLARE_ACCOUNT_ID is not set."""
        return [{"id": ACCOUNT_ID, "status": "accepted", "account": {"id": ACCOUNT_ID, "name": "vectorize-nb local"}}]

    def _accounts(self, request: Request) -> Any:
        return [{"id": ACCOUNT_ID, "name": "vectorize-nb local"}]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = self.limits.max_body_bytes
        try:
            response = self.respond(request)
        finally:
            request.close()  # releases the temporary file of a multipart upload
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        try:
            self._authorize(request)
            endpoint, matched = self.url_map.bind_to_environ(request.environ).match()
            args = {key: value for key, value in matched.items() if key != "account_id"}
            result = getattr(self, f"_{endpoint}")(request, **args)
            return _json(200, wire.envelope(result))
        except errors.VectorizeError as exc:
            return _json(exc.status, exc.to_envelope())
        except RequestEntityTooLarge:
            too_large = errors.PayloadTooLarge(f"request body too large; max is {self.limits.max_body_bytes} bytes")
            return _json(too_large.status, too_large.to_envelope())
        except HTTPException:
            no_route = errors.RouteNotFound("No route for the URI")
            return _json(no_route.status, no_route.to_envelope())
        except Exception:  # a bug: say so in the envelope rather than drop the connection
            log.exception("unexpected error serving %s %s", request.method, request.path)
            internal = errors.InternalError("internal error in the local server")
            return _json(internal.status, internal.to_envelope())

    def _authorize(self, request: Request) -> None:
        if self._token is None:
            return
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self._token.encode()):
            raise errors.AuthenticationError("Authentication error")

    # --- endpoints -----------------------------------------------------------------------------

    def _list_indexes(self, request: Request) -> Any:
        return [wire.index_json(d) for d in self.engine.list_indexes()]

    def _create_index(self, request: Request) -> Any:
        body = _json_body(request)
        config = body.get("config")
        if not isinstance(config, dict):
            raise errors.InvalidIndexConfig("vectorize.index.invalid_config - Config must be provided")
        created = self.engine.create_index(body.get("name"), dimensions=config.get("dimensions"),  # type: ignore[arg-type]  # checked by the engine
                                           metric=config.get("metric"), preset=config.get("preset"),
                                           description=body.get("description") or "")
        return wire.index_json(created)

    def _get_index(self, request: Request, index: str) -> Any:
        return wire.index_json(self.engine.get_index(index))

    def _delete_index(self, request: Request, index: str) -> Any:
        self.engine.delete_index(index)
        return None

    def _info(self, request: Request, index: str) -> Any:
        return wire.info_json(self.engine.index_info(index))

    def _insert(self, request: Request, index: str) -> Any:
        return {"mutationId": self.engine.insert(index, self._vectors(request, index)).id}

    def _upsert(self, request: Request, index: str) -> Any:
        return {"mutationId": self.engine.upsert(index, self._vectors(request, index)).id}

    def _vectors(self, request: Request, index: str) -> Any:
        dimensions = self.engine.get_index(index).dimensions
        behavior = request.args.get("unparsable-behavior", "error")
        if behavior not in ("error", "discard"):
            raise errors.MalformedRequest(f"unparsable-behavior must be error or discard, got {behavior!r}")
        return wire.decode_ndjson(_ndjson_body(request), dimensions, discard_unparsable=behavior == "discard")

    def _query(self, request: Request, index: str) -> Any:
        vector, vector_id, options = wire.query_from_json(_json_body(request))
        return wire.matches_json(self.engine.query(index, vector, options, vector_id=vector_id))

    def _get_by_ids(self, request: Request, index: str) -> Any:
        return wire.records_json(self.engine.get_by_ids(index, _json_body(request).get("ids") or []))

    def _delete_by_ids(self, request: Request, index: str) -> Any:
        return {"mutationId": self.engine.delete_by_ids(index, _json_body(request).get("ids") or []).id}

    def _list_vectors(self, request: Request, index: str) -> Any:
        count = request.args.get("count")
        try:
            size = None if count is None else int(count)
        except ValueError:
            raise errors.InvalidListCount(f"count must be a whole number from 1 to 1000, got {count!r}") from None
        return wire.page_json(self.engine.list_vectors(index, size, request.args.get("cursor")))

    def _create_metadata_index(self, request: Request, index: str) -> Any:
        body = _json_body(request)
        # the engine checks what JSON brings (a missing or non-string field is its 40109 to report)
        mutation = self.engine.create_metadata_index(index, body.get("propertyName"), body.get("indexType"))  # type: ignore[arg-type]
        return {"mutationId": mutation.id}

    def _list_metadata_indexes(self, request: Request, index: str) -> Any:
        return wire.metadata_indexes_json(self.engine.list_metadata_indexes(index))

    def _delete_metadata_index(self, request: Request, index: str) -> Any:
        prop = _json_body(request).get("propertyName")
        return {"mutationId": self.engine.delete_metadata_index(index, prop).id}  # type: ignore[arg-type]


def _json(status: int, payload: Any) -> Response:
    return Response(wire.dumps(payload), status=status, content_type="application/json")


def _json_body(request: Request) -> dict[str, Any]:
    """The JSON object of a request; like the service, a JSON endpoint wants application/json."""
    if request.mimetype != "application/json":
        raise errors.MalformedRequest("Expected request with `Content-Type: application/json`")
    try:
        body = wire.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise errors.MalformedRequest(f"Failed to parse the request body as JSON: {exc}") from None
    if not isinstance(body, dict):
        raise errors.MalformedRequest("Failed to parse the request body as JSON: expected an object")
    return body


def _ndjson_body(request: Request) -> bytes:
    """NDJSON sent raw (under any content type) or as the `vectors` part of a multipart form."""
    if request.mimetype == "multipart/form-data":
        part = request.files.get("vectors")
        if part is None:
            raise errors.UnparsableVectors(
                "vectorize.upstream_error - multipart body has no part named \"vectors\"")
        return part.read()
    return request.get_data()
