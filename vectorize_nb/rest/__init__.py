"""The REST backend: Cloudflare's Vectorize v2 API (or any compatible server) over requests.
Imports neither the local engine nor pandas."""

from __future__ import annotations

import os

from ..contract.errors import ConfigurationError
from ..environment import SERVED_ACCOUNT_ID
from ..contract.limits import DEFAULT_LIMITS, Limits, limits_given
from ..rest_options import CLOUDFLARE_REQUESTS_PER_WINDOW, CLOUDFLARE_WINDOW_SECONDS, REST_DEFAULTS as DEFAULTS
from ..secret import Secret
from .backend import RestBackend
from .ratelimit import RateLimiter
from .target import ACCOUNT_ENV, CLOUDFLARE_API, TOKEN_ENV, Target, check_account_id
from .transport import Transport, retry_policy

__all__ = ["RestBackend", "RateLimiter", "Transport", "connect_rest", "CLOUDFLARE_API", "ACCOUNT_ENV", "TOKEN_ENV"]


def connect_rest(target: str, *, account_id: str | None = None, api_token: str | Secret | None = None,
                 timeout: float = DEFAULTS.timeout, concurrency: int = DEFAULTS.concurrency,
                 max_retries: int = DEFAULTS.max_retries,
                 requests_per_window: int | None = DEFAULTS.requests_per_window,
                 window_seconds: float | None = DEFAULTS.window_seconds, limits: Limits = DEFAULT_LIMITS,
                 backoff: float = DEFAULTS.backoff, total_timeout: float = DEFAULTS.total_timeout
                 ) -> tuple[RestBackend, str]:
    """A RestBackend for "cloudflare" or a base URL, and a label for it that holds no secret.

    Cloudflare needs an account id and an API token: the arguments, else the environment
    (CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN). Another server gets the arguments, else the token
    of a served engine (VECTORIZE_NB_SERVE_TOKEN), and the account id "local" by default: the
    Cloudflare variables go to Cloudflare only, over https. `timeout` bounds each attempt of a request and
    `total_timeout` all of its attempts and the waits between them, both in seconds, plus one second
    per megabyte of request body. The client-side rate limit is Cloudflare's unless `requests_per_window` is
    given: another server says 429 when it wants fewer requests, and gets a limit only with a count.
    """
    where = Target.of(target)
    account = account_id or (os.environ.get(ACCOUNT_ENV) if where.cloudflare else None)
    account = str(account).strip() or None if account else None  # a pasted id's newline, as for the token
    token = Secret.of(api_token) or Secret.of(os.environ.get(where.token_env))
    del api_token  # only the Secret stays in the locals a traceback may show
    if target == "cloudflare":
        missing = [name for name, value in ((ACCOUNT_ENV, account), (TOKEN_ENV, token)) if not value]
        if missing:
            raise ConfigurationError(
                f"connecting to Cloudflare needs an account id and an API token: set {ACCOUNT_ENV} and "
                f"{TOKEN_ENV} (missing: {', '.join(missing)}), or pass account_id= and api_token=")
    if where.cloudflare and account:
        check_account_id(account, "account_id=" if account_id else ACCOUNT_ENV)
    account = account or SERVED_ACCOUNT_ID
    per_window = (requests_per_window if requests_per_window is not None
                  else CLOUDFLARE_REQUESTS_PER_WINDOW if where.cloudflare else None)
    if per_window is None and window_seconds is not None:
        raise ConfigurationError(
            f"window_seconds={window_seconds!r} sets the window of a client-side rate limit, which a server other "
            "than Cloudflare gets only with a count: pass requests_per_window= too")
    window = CLOUDFLARE_WINDOW_SECONDS if window_seconds is None else window_seconds
    limiter = None if per_window is None else RateLimiter(per_window, window)
    transport = Transport(where, str(account), token, timeout=timeout, retry=retry_policy(max_retries, backoff),
                          limiter=limiter, pool_size=max(4, concurrency),
                          total_timeout=total_timeout)
    label = f"cloudflare:{account}" if target == "cloudflare" else where.base_url
    return RestBackend(transport, limits=limits_given(limits), max_concurrency=concurrency), label
