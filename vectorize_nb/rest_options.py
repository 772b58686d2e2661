"""How a client talks to a REST server unless told otherwise: `connect()`'s defaults and the REST
backend's are these. Kept apart from `rest/` so that `connect()` can show them without importing
requests."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RestOptions", "REST_DEFAULTS", "CLOUDFLARE_REQUESTS_PER_WINDOW", "CLOUDFLARE_WINDOW_SECONDS"]


@dataclass(frozen=True)
class RestOptions:
    """Timeouts, retries, concurrency and the client-side rate limit of a REST backend."""

    timeout: float = 30.0
    """Seconds one attempt of a request may take (plus a second per megabyte of body)."""
    total_timeout: float = 120.0
    """Seconds all attempts of a request and the waits between them may take (plus a second per megabyte)."""
    concurrency: int = 4
    """Requests in flight at once."""
    max_retries: int = 5
    """Retries of a request that failed on a rate limit, a server error or the network."""
    backoff: float = 0.5
    """The first retry's wait in seconds, doubled for each next one (with as much jitter)."""
    requests_per_window: int | None = None
    window_seconds: float | None = None
    """The client-side rate limit: by default (None) Cloudflare's for Cloudflare, and none for another server,
    which says 429 when it wants fewer requests; a window alone is Cloudflare's count over that window, so
    it needs a count on another server."""


CLOUDFLARE_REQUESTS_PER_WINDOW = 1200
CLOUDFLARE_WINDOW_SECONDS = 300.0
"""Cloudflare's API allows 1200 requests per 5 minutes."""


REST_DEFAULTS = RestOptions()
