"""Workers AI's text embedding endpoints, answered by the local engine's own runtime, so Cloudflare's
clients (the SDK's `ai.run`, langchain-cloudflare, OpenAI clients) embed text with no network.

    POST /client/v4/accounts/<id>/ai/run/<model>      {"text": str | [str], "pooling": "mean" | "cls"}
    POST /client/v4/accounts/<id>/ai/v1/embeddings    {"model", "input": str | [str], "encoding_format"}

The model id may come with literal slashes (curl, langchain, SDK 4.x) or percent-encoded ones (SDK
5.x): the server has decoded the path before it is routed. The body is JSON whatever its content
type, as Workers AI reads it. Every catalog model is known; the ones the runtime cannot run here
(no local form, or weights not in the cache and not reachable) are refused with 400, since sending
the same request again cannot help. Errors come in the v4 envelope with `result: {}`, as Workers AI
answers model errors; the routing and the guard's errors keep `result: null`.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..contract import errors, wire
from ..contract.embedding_models import MODELS, EmbeddingModel, resolve_pooling
from ..embeddings import loader
from ..embeddings.static import StaticModel
from ..embeddings.texts import for_rows
from ..embeddings.transformer import TransformerModel
from . import bodies
from .engine import LocalEngine

__all__ = ["WorkersAIRoutes", "rules", "ENDPOINTS", "MAX_BODY_BYTES", "NOT_RUNNABLE_CODE", "BAD_INPUT_PREFIX"]

_PREFIX = "/client/v4/accounts/<account_id>/ai"
_ROUTES = (("/run/<path:model>", "ai.run"), ("/v1/embeddings", "ai.embeddings"))
ENDPOINTS = frozenset(endpoint for _, endpoint in _ROUTES)
MAX_BODY_BYTES = 10_000_000
"""Workers AI takes payloads under 10 MB; a larger body is refused (413, code 3006) as it arrives."""
NOT_RUNNABLE_CODE = errors.ModelNotAvailable.code
"""[project] A catalog model this server cannot run (no local form, or its weights are missing)."""
BAD_INPUT_PREFIX = "AiError: Bad input: Error: "
_SERVED = {m.model: m for m in MODELS}
_ECHOED_CHARS = 80
"""A value of the request that a message repeats is cut after this many characters (as ids are)."""
_JSON_TYPES = ((str, "string"), (bool, "boolean"), (int, "number"), (float, "number"), (list, "array"),
               (dict, "object"))


def rules() -> list[Rule]:
    """The routes, as werkzeug rules for one application's map."""
    return [Rule(_PREFIX + path, methods=["POST"], endpoint=endpoint) for path, endpoint in _ROUTES]


class WorkersAIRoutes:
    """The embedding endpoints of Workers AI over one engine (see the module's docstring)."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return f"WorkersAIRoutes({self.engine!r})"

    def respond(self, endpoint: str, request: Request, model: str | None = None) -> Response:
        """The answer of `endpoint` ("ai.run" with the model of the path, or "ai.embeddings")."""
        try:
            if endpoint == "ai.run":
                return _json(200, wire.envelope(self.run(request, model or "")))
            return _json(200, self.embeddings(request))
        except errors.VectorizeError as exc:
            return _model_error(exc)

    def run(self, request: Request, model: str) -> dict[str, Any]:
        """Workers AI's native route: `{shape, data}` (and `pooling` for models that take one)."""
        spec = _runnable(model)
        if request.args.get("queueRequest", "").lower() == "true":
            raise _not_emulated()
        body = _body(request)
        if "requests" in body:
            raise _not_emulated()
        texts = _texts(body.get("text"), spec, "/text")
        pooling = resolve_pooling(spec, _pooling(body))
        result: dict[str, Any] = {"shape": [len(texts), spec.dimensions],
                                  "data": self._embed(spec, texts, pooling, "/text", body.get("text"))}
        if spec.poolings:
            result["pooling"] = pooling
        return result

    def embeddings(self, request: Request) -> dict[str, Any]:
        """The OpenAI-compatible route: OpenAI's list object, base64 strings when asked for."""
        body = _body(request)
        model = body.get("model")
        if model is None:
            raise errors.BadEmbeddingInput("required properties at '/' are 'model'")
        if not isinstance(model, str):
            raise _typed("/model", model, "string")
        spec = _runnable(model)
        texts = _texts(body.get("input"), spec, "/input")
        if not texts:  # OpenAI's arrays hold 1 to 2048 inputs; the native route's schema sets no minimum
            raise errors.BadEmbeddingInput("'/input' has no items; an array of inputs takes at least 1")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise errors.BadEmbeddingInput(f"'/encoding_format' must be 'float' or 'base64', got "
                                           f"{_echoed(repr(encoding))}")
        dimensions = body.get("dimensions")
        if dimensions is not None and dimensions != spec.dimensions:
            raise errors.BadEmbeddingInput(f"'/dimensions' is {_echoed(repr(dimensions))}, but {spec.model} makes "
                                           f"{spec.dimensions}-dimension vectors and cannot shorten them")
        vectors = self._embed(spec, texts, resolve_pooling(spec, _pooling(body)), "/input", body.get("input"))
        tokens = _token_count(spec, texts)
        return {"object": "list", "model": spec.model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                "data": [{"object": "embedding", "index": i, "embedding": _encoded(row, encoding)}
                         for i, row in enumerate(vectors)]}

    def _embed(self, spec: EmbeddingModel, texts: list[str], pooling: str, where: str, raw: Any) -> np.ndarray:
        try:
            return self.engine.embed(texts, spec.model, pooling)
        except errors.BadEmbeddingInput as exc:  # a text over the token limit: name it by its place in the body
            raise for_rows(exc, lambda row: [row], lambda row: f"'{_place(where, raw, row)}'") from None


def _runnable(model: str) -> EmbeddingModel:
    """A catalog model this runtime can run; one it cannot is refused before its inputs are judged (they
    may be of a shape only that model takes)."""
    spec = _served(model)
    try:
        loader.load(spec)
    except errors.ModelNotAvailable as exc:
        raise errors.ModelNotAvailable(f"vectorize-nb serve cannot run {spec.model} here: {exc.message}") from None
    return spec


def _served(model: str) -> EmbeddingModel:
    """A catalog model by its id (the Hugging Face names of its weights are not Workers AI ids)."""
    spec = _SERVED.get(model)
    if spec is None:
        raise errors.UnknownModel(f"No such model {_echoed(model)} or task")
    return spec


def _echoed(text: str) -> str:
    return text if len(text) <= _ECHOED_CHARS else text[:_ECHOED_CHARS] + "…"


def _body(request: Request) -> dict[str, Any]:
    """The JSON object of the body, whatever the content type (an empty body is an empty object)."""
    too_large = errors.PayloadTooLarge(f"Request is too large: the body is over {MAX_BODY_BYTES:,} bytes, Workers "
                                       f"AI's limit", status=413, code=3006)
    if bodies.over_limit(request, MAX_BODY_BYTES) is not None:
        raise too_large
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise too_large from None
    try:
        body = wire.loads(data) if data.strip() else {}
    except ValueError as exc:
        raise errors.BadEmbeddingInput(f"the body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise _typed("", body, "object")
    return body


def _texts(value: Any, spec: EmbeddingModel, where: str) -> list[str]:
    """The texts of a body: a string or an array of non-empty strings, at most the model's max_texts."""
    if value is None:
        raise errors.BadEmbeddingInput(f"required properties at '/' are '{where[1:]}'")
    rows = [value] if isinstance(value, str) else value
    if not isinstance(rows, list):
        raise _typed(where, value, "string", "array")
    if spec.max_texts is not None and len(rows) > spec.max_texts:
        raise errors.BadEmbeddingInput(f"'{where}' has {len(rows)} items; {spec.model} takes at most "
                                       f"{spec.max_texts} texts per request")
    for i, text in enumerate(rows):
        if not isinstance(text, str):
            raise _typed(f"{where}/{i}", text, "string", kind=errors.TextNotString)
        if not text:
            raise errors.EmptyText(f"'{_place(where, value, i)}' is empty: a text needs at least 1 character")
    return rows


def _place(where: str, value: Any, row: int) -> str:
    """Where text `row` is in the body: the field itself when it holds one string, else its item."""
    return where if isinstance(value, str) else f"{where}/{row}"


def _pooling(body: dict[str, Any]) -> str | None:
    pooling = body.get("pooling")
    if pooling is not None and not isinstance(pooling, str):
        raise _typed("/pooling", pooling, "string")
    return pooling


def _typed(where: str, value: Any, *expected: str,
           kind: type[errors.BadEmbeddingInput] = errors.BadEmbeddingInput) -> errors.BadEmbeddingInput:
    """The validator's wording: Type mismatch of '/text', 'number' not in 'string', 'array'."""
    found = "null" if value is None else next(name for cls, name in _JSON_TYPES if isinstance(value, cls))
    return kind(f"Type mismatch of '{where or '/'}', '{found}' not in {', '.join(map(repr, expected))}")


def _not_emulated() -> errors.BadEmbeddingInput:
    return errors.BadEmbeddingInput("asynchronous batches ('requests', queueRequest=true) are not emulated by "
                                    "vectorize-nb serve: send the texts under 'text'")


def _token_count(spec: EmbeddingModel, texts: list[str]) -> int:
    """Tokens of the texts as the model counts them (special tokens included), for OpenAI's usage."""
    model = loader.load(spec)
    if isinstance(model, TransformerModel):
        return int(model.count_tokens(texts).sum())
    if isinstance(model, StaticModel):
        return sum(len(encoding.ids) for encoding in model.inference.tokenize(texts))
    return 0


def _encoded(row: np.ndarray, encoding: str) -> Any:
    """One vector as OpenAI sends it: floats, or base64 of its little-endian float32 bytes."""
    if encoding == "base64":
        return base64.b64encode(np.ascontiguousarray(row, dtype="<f4").tobytes()).decode("ascii")
    return row


def _json(status: int, payload: Any) -> Response:
    return Response(wire.dumps(payload), status=status, content_type="application/json")


def _model_error(error: errors.VectorizeError) -> Response:
    """Workers AI's envelope for a model's error: `result` is an empty object, not null."""
    if error.code == errors.BadEmbeddingInput.code and not error.message.startswith(BAD_INPUT_PREFIX):
        error.message = BAD_INPUT_PREFIX + error.message
    return _json(error.status, {**error.to_envelope(), "result": {}})
