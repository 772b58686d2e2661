"""Workers AI's text embedding models over REST: `POST /accounts/{account_id}/ai/run/{model}`.

The request body is the model's input itself: `{"text": [...], "pooling": "mean"|"cls"}` (pooling only
for the models that take it); the answer's `result` holds `{"shape": [n, d], "data": [[...], ...]}`.
Errors come in Cloudflare's envelope with Workers AI's codes (5006 bad input, 5007 (or 3042) no such model,
3040 out of capacity, 4006 (or the docs' 3036) the day's free allowance spent, 3007/3008 a request timed out
(408, retried), 3006 a body over 10 MB) and become the package's exceptions; a 5006 that names a text by
its place in the body ('/text/30') is about row 30 of the request, as the local runtime's errors are, so the
callers above name their own row.
Workers AI has rate limits of its own, kept here apart from Vectorize's: 3000 requests a minute that
the text embedding models share (limits are per task type), and 1500 of its own for bge-large.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import quote

import numpy as np

from ..contract import errors
from ..contract.embedding_models import EmbeddingModel
from .ratelimit import RateLimiter
from .transport import Transport

__all__ = ["WorkersAI", "REQUESTS_PER_MINUTE", "SLOWER_MODELS"]

REQUESTS_PER_MINUTE = 3000
SLOWER_MODELS = {"@cf/baai/bge-large-en-v1.5": 1500}
"""Models with a lower per-minute limit than the task's."""
_PLACE = re.compile(r"'/text/(\d+)'")
"""Where Workers AI's validator says a text is in the body."""


class WorkersAI:
    """The embedding calls of one account, through the REST backend's transport (its token, retries and
    deadlines), under Workers AI's rate limits."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WorkersAI({self.transport.account_url!r})"

    def embed(self, texts: list[str], model: EmbeddingModel, pooling: str) -> np.ndarray:
        """One request's worth of texts (at most the model's `max_texts`) to unit float32 rows."""
        body: dict[str, Any] = {"text": list(texts)}
        if model.poolings:
            body["pooling"] = pooling
        operation = f"embed with {model.model!r}"
        try:
            result = self.transport.request("POST", f"/ai/run/{quote(model.model, safe='@/')}", operation=operation,
                                            json=body, limiter=self.limiter(model.model))
        except errors.BadEmbeddingInput as exc:
            raise _placed(exc, len(texts)) from None
        except errors.RouteNotFound as exc:  # not the Vectorize route its class's hint speaks of
            exc.hint = (f"The server has no Workers AI route at {self.transport.account_url}/ai/run: check the "
                        "account id (Cloudflare answers 7003 for one it cannot route to) and the base URL")
            raise
        return _vectors(result, len(texts), model, operation)

    def limiter(self, model: str) -> RateLimiter:
        """The rate limit of `model`'s requests, shared by every thread of this client: the task type's, which
        every text embedding model shares, or the model's own where Workers AI gives it one."""
        key = model if model in SLOWER_MODELS else "text embeddings"
        with self._lock:  # the batches of one job ask for it from several threads at once
            if key not in self._limiters:
                self._limiters[key] = RateLimiter(SLOWER_MODELS.get(model, REQUESTS_PER_MINUTE), 60.0)
            return self._limiters[key]


def _placed(error: errors.BadEmbeddingInput, count: int) -> errors.BadEmbeddingInput:
    """Workers AI's words about the text at '/text/N' of a request of `count` texts, told as about row N
    (Cloudflare's words kept); unchanged when no such place can be read."""
    found = _PLACE.search(error.message)
    if error.row is not None or found is None or int(found[1]) >= count:
        return error
    error.message += f" (row {found[1]})"
    error.row = int(found[1])
    return error


def _vectors(result: Any, count: int, model: EmbeddingModel, operation: str) -> np.ndarray:
    """The answer's `data` as unit float32 rows, checked against what was asked."""
    data = result.get("data") if isinstance(result, dict) else None
    try:
        with np.errstate(over="ignore"):  # a number past float32's range becomes inf, refused below
            vectors = np.asarray(data, dtype=np.float32)
    except (TypeError, ValueError):
        vectors = None
    if vectors is None or vectors.shape != (count, model.dimensions):
        shape = None if vectors is None else vectors.shape
        raise errors.ServerError(f"Workers AI answered {count} texts with data of shape {shape}, not "
                                 f"({count}, {model.dimensions})", operation=operation, status=502)
    broken = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if broken.size:
        raise errors.ServerError(f"Workers AI answered the request's text {broken[0]} (from 0) with a vector "
                                 "holding null, NaN or an infinity, not finite numbers", operation=operation,
                                 status=502)
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
    unit: np.ndarray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit
