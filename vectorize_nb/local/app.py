"""The local engine behind Cloudflare's REST API: a WSGI application (werkzeug for routing and
request parsing), so Cloudflare's own clients work against it given only a base URL.

Routes live under /client/v4/accounts/<account_id>/vectorize/v2/indexes; the account id is taken as
given. Every answer is Cloudflare's envelope with the status of the spec and the decisions page;
the routes and answers are described by the OpenAPI document at /client/v4/openapi.json. Who may
call is the guard's business (`guard.py`); reading bodies is `bodies.py`'s; Workers AI's embedding
routes (/client/v4/accounts/<account_id>/ai/...) are `workers_ai.py`'s.
"""

from __future__ import annotations

import errno
import logging
from functools import cache
from importlib import resources
from typing import Any
from collections.abc import Callable, Iterable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from ..contract import errors, validation, wire
from ..contract.limits import DEFAULT_LIMITS, Limits
from ..contract.models import WriteKind
from ..environment import SERVED_ACCOUNT_ID as ACCOUNT_ID
from ..secret import Secret
from . import bodies
from .engine import LocalEngine
from .guard import Guard
from .readonly import FolderLocked, ReadOnlyFolder
from .workers_ai import ENDPOINTS as AI_ENDPOINTS, WorkersAIRoutes, rules as ai_rules

__all__ = ["VectorizeApp", "PREFIX", "OPENAPI_PATH", "openapi_document"]

PREFIX = "/client/v4/accounts/<account_id>/vectorize/v2/indexes"
OPENAPI_PATH = "/client/v4/openapi.json"
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
    """WSGI application over one `LocalEngine`.

    With `token`, every request needs that bearer token. Without one, requests from web pages are
    refused unless their origin is in `allowed_origins`, and so are requests whose Host is not the
    loopback name of `host` (and `port`, when given; the server names it once it is bound).
    """

    def __init__(self, engine: LocalEngine, token: str | Secret | None = None, limits: Limits = DEFAULT_LIMITS, *,
                 allowed_origins: Iterable[str] = (), host: str = "127.0.0.1", port: int | None = None) -> None:
        self.engine = engine
        self.guard = Guard(token, allowed_origins, host, port)
        self.limits = limits
        rules = [Rule(PREFIX + path, methods=[method], endpoint=endpoint) for path, method, endpoint in _ROUTES]
        rules += [Rule("/client/v4/memberships", methods=["GET"], endpoint="memberships"),
                  Rule("/client/v4/accounts", methods=["GET"], endpoint="accounts"),
                  Rule(OPENAPI_PATH, methods=["GET"], endpoint="openapi"), *ai_rules()]
        self.ai = WorkersAIRoutes(engine)
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    def __repr__(self) -> str:
        return f"VectorizeApp({self.engine!r}, {self.guard!r})"

    def _memberships(self, request: Request) -> Any:
        """wrangler asks which accounts its token reaches when CLOUDFLARE_ACCOUNT_ID is not set."""
        return [{"id": ACCOUNT_ID, "status": "accepted", "account": {"id": ACCOUNT_ID, "name": "vectorize-nb local"}}]

    def _accounts(self, request: Request) -> Any:
        return [{"id": ACCOUNT_ID, "name": "vectorize-nb local"}]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.guard.preflight(request) or self.guard.decorate(request, self.respond(request))
        finally:
            request.close()  # releases the temporary file of a multipart upload
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """The answer to one request: the envelope of its result, or of the error it ends in."""
        try:
            self.guard.check(request)
            if (size := bodies.over_limit(request, self.limits.max_body_bytes)) is not None:
                raise errors.PayloadTooLarge(f"request body too large; max is {self.limits.max_body_bytes} bytes, "
                                             f"got {size} bytes")
            bodies.check_encoding(request)
            endpoint, matched = self.url_map.bind_to_environ(request.environ).match()
            if endpoint == "openapi":
                return Response(openapi_document(), status=200, content_type="application/json")
            if endpoint in AI_ENDPOINTS:
                return self.ai.respond(endpoint, request, matched.get("model"))
            args = {key: value for key, value in matched.items() if key != "account_id"}
            result = getattr(self, f"_{endpoint}")(request, **args)
            return _json(200, wire.envelope(result))
        except errors.ClientClosed:  # the engine it serves was closed under it (vz.serve(engine=client.backend))
            return _error(errors.StorageRefused("this server's engine was closed: it reads and writes nothing more"))
        except errors.FolderUnusable as exc:  # damaged under the server: the path and what to do are for its log
            log.error("%s", exc)
            return _error(errors.StorageRefused("this server's folder is damaged or incomplete: nothing was done "
                                                "(the server's log says what is wrong)"))
        except errors.VectorizeError as exc:
            return _error(exc)
        except RequestEntityTooLarge:
            return _error(errors.PayloadTooLarge(f"request body too large: over the maximum of "
                                                 f"{self.limits.max_body_bytes} bytes"))
        except (NotFound, MethodNotAllowed, RequestRedirect):
            return _error(errors.RouteNotFound("No route for the URI"))
        except HTTPException as exc:  # werkzeug could not read the request (a broken form, a client gone)
            return _error(errors.MalformedRequest(f"the request could not be read: {exc.description}"))
        except Exception as exc:  # a bug: say so in the envelope rather than drop the connection
            if isinstance(exc, OSError) and (refusal := _storage_refusal(exc)) is not None:
                return _error(refusal)
            log.exception("unexpected error serving %s %r", request.method, request.path)
            return _error(errors.InternalError("internal error in the local server"))

    # --- endpoints -----------------------------------------------------------------------------

    def _list_indexes(self, request: Request) -> Any:
        return [wire.index_json(d) for d in self.engine.list_indexes()]

    def _create_index(self, request: Request) -> Any:
        body = bodies.json_object(request)
        name = bodies.field(body, "name", "string", required=True)
        description = bodies.field(body, "description", "string") or ""
        config = bodies.field(body, "config", "object")
        if config is None:
            raise validation.no_config()
        preset = bodies.field(body, "config.preset", "string")
        both = preset is None and any(config.get(key) is not None for key in ("dimensions", "metric"))
        created = self.engine.create_index(
            name, dimensions=bodies.field(body, "config.dimensions", "number", required=both),
            metric=bodies.field(body, "config.metric", "string", required=both), preset=preset,
            description=description)
        return wire.index_json(created)

    def _get_index(self, request: Request, index: str) -> Any:
        return wire.index_json(self.engine.get_index(index))

    def _delete_index(self, request: Request, index: str) -> Any:
        self.engine.delete_index(index)
        return None

    def _info(self, request: Request, index: str) -> Any:
        return wire.info_json(self.engine.index_info(index))

    def _insert(self, request: Request, index: str) -> Any:
        return self._write(request, index, "insert")

    def _upsert(self, request: Request, index: str) -> Any:
        return self._write(request, index, "upsert")

    def _write(self, request: Request, index: str, kind: WriteKind) -> Any:
        dimensions = self.engine.get_index(index).dimensions
        behavior = request.args.get("unparsable-behavior", "error")
        if behavior not in ("error", "discard"):
            raise errors.MalformedRequest(f"unparsable-behavior must be error or discard, got {behavior!r}")
        vectors = bodies.ndjson_vectors(request, kind, dimensions, self.limits,
                                        discard_unparsable=behavior == "discard")
        return {"mutationId": self.engine.write(index, kind, vectors).id}

    def _query(self, request: Request, index: str) -> Any:
        vector, vector_id, options = wire.query_from_json(bodies.json_object(request))
        return wire.matches_json(self.engine.query(index, vector, options, vector_id=vector_id))

    def _get_by_ids(self, request: Request, index: str) -> Any:
        ids = bodies.strings(bodies.json_object(request), "ids")
        return wire.records_json(self.engine.get_by_ids(index, ids))

    def _delete_by_ids(self, request: Request, index: str) -> Any:
        ids = bodies.strings(bodies.json_object(request), "ids")
        return {"mutationId": self.engine.delete_by_ids(index, ids).id}

    def _list_vectors(self, request: Request, index: str) -> Any:
        count = request.args.get("count")
        size = None if count is None else wire.decimal(count)
        if count is not None and size is None:
            raise errors.InvalidListCount(f"count must be a whole number from 1 to 1000, got {count!r:.40}")
        return wire.page_json(self.engine.list_vectors(index, size, request.args.get("cursor")))

    def _create_metadata_index(self, request: Request, index: str) -> Any:
        body = bodies.json_object(request)
        prop = bodies.field(body, "propertyName", "string", required=True)
        kind = bodies.field(body, "indexType", "string", required=True)
        return {"mutationId": self.engine.create_metadata_index(index, prop, kind).id}

    def _list_metadata_indexes(self, request: Request, index: str) -> Any:
        return wire.metadata_indexes_json(self.engine.list_metadata_indexes(index))

    def _delete_metadata_index(self, request: Request, index: str) -> Any:
        prop = bodies.field(bodies.json_object(request), "propertyName", "string", required=True)
        return {"mutationId": self.engine.delete_metadata_index(index, prop).id}


@cache
def openapi_document() -> bytes:
    """The OpenAPI 3 document of the served routes, as shipped in the package."""
    return resources.files(__package__).joinpath("openapi.json").read_bytes()


def _json(status: int, payload: Any) -> Response:
    return Response(wire.dumps(payload), status=status, content_type="application/json")


def _storage_refusal(exc: OSError) -> errors.ServerError | None:
    """A write this server's folder cannot take, worded without the folder's path (the client's is not
    the server's machine): for good (507), or while another writer holds its lock (503, retried); None for
    any other OSError."""
    if isinstance(exc, ReadOnlyFolder):
        return errors.StorageRefused("this server's folder is read-only: nothing was written")
    if exc.errno == errno.ENOSPC:
        return errors.StorageRefused("this server's disk is full: nothing of this request was written")
    if isinstance(exc, FolderLocked):
        return errors.StorageBusy(f"this server's folder stayed locked by another writer for {exc.patience:g} s: "
                                  "nothing of this request was written")
    return None


def _error(error: errors.VectorizeError) -> Response:
    return _json(error.status, error.to_envelope())
