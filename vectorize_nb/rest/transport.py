"""HTTP for the REST backend: one requests session, the bearer token, timeouts, a rate limiter and
urllib3's retry policy (exponential backoff with jitter, Retry-After honoured).

What is retried: connection failures, timeouts, a connection dropped mid-answer, HTTP 429 and 5xx,
and Cloudflare's rate-limit code 40041 (which may come with a 400). A deterministic 4xx never is.
The token is only ever put into the Authorization header of the request being sent.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.util.retry import Retry

from ..contract import errors, wire
from .ratelimit import RateLimiter

__all__ = ["Transport", "BearerToken", "RETRY_STATUSES", "retry_policy"]

RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_MAX = 60
"""Longest a Retry-After is honoured; a longer one is capped (the caller's timeout still applies per try)."""
_DROPPED = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError)
"""Failures of the exchange itself: no answer, or an answer cut off mid-body."""
log = logging.getLogger("vectorize_nb.rest")


class BearerToken(requests.auth.AuthBase):
    """Adds `Authorization: Bearer …` to each request; shows as *** everywhere else."""

    def __init__(self, token: str) -> None:
        self.__token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.__token}"
        return request

    def __repr__(self) -> str:
        return "BearerToken(***)"


def retry_policy(max_retries: int, backoff: float = 0.5) -> Retry:
    return Retry(total=max_retries, connect=None, read=None, status=None, other=None, redirect=0,
                 backoff_factor=backoff, backoff_max=30.0, backoff_jitter=backoff,
                 status_forcelist=RETRY_STATUSES, allowed_methods=None, respect_retry_after_header=True,
                 retry_after_max=RETRY_AFTER_MAX, raise_on_status=False)


class Transport:
    """Requests to one account's Vectorize v2 routes, e.g. `request("GET", "/docs/info")`."""

    def __init__(self, base_url: str, account_id: str, token: str | None, *, timeout: float, retry: Retry,
                 limiter: RateLimiter, pool_size: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.prefix = f"{self.base_url}/accounts/{account_id}/vectorize/v2/indexes"
        self.timeout = (min(10.0, timeout), timeout)
        self.retry = retry
        self.limiter = limiter
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=0, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.auth = BearerToken(token) if token else None
        self.session.headers.update({"Accept": "application/json", "User-Agent": "vectorize-nb"})

    def __repr__(self) -> str:
        return f"Transport({self.prefix!r})"

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, path: str, *, operation: str, json: Any = None, data: Any = None,
                params: dict[str, Any] | None = None, content_type: str | None = None) -> Any:
        """Send one request (retrying what may be retried) and return the envelope's `result`."""
        url = self.prefix + path
        headers = {}
        if json is not None:
            data, content_type = wire.dumps(json), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        retry = self.retry.new()
        while True:
            self.limiter.acquire()
            try:
                response = self.session.request(method, url, data=data, params=params, headers=headers,
                                                timeout=self.timeout)
                content = response.content
            except _DROPPED as exc:
                retry = self._again(retry, method, url, operation, error=exc)
                retry.sleep()
                continue
            body = _parse(content)
            if self._retryable(retry, method, response, body):
                retry = self._again(retry, method, url, operation, response=response, body=body)
                try:
                    retry.sleep(response.raw)
                except InvalidHeader:  # a Retry-After that is neither seconds nor a date: back off as usual
                    retry.sleep()
                continue
            return wire.result_of(response.status_code, body, operation)

    @staticmethod
    def _retryable(retry: Retry, method: str, response: requests.Response, body: Any) -> bool:
        has_retry_after = "Retry-After" in response.headers
        if retry.is_retry(method, response.status_code, has_retry_after):
            return True
        return isinstance(body, dict) and any(
            isinstance(e, dict) and e.get("code") == errors.RateLimited.code for e in body.get("errors") or [])

    def _again(self, retry: Retry, method: str, url: str, operation: str, *, error: Exception | None = None,
               response: requests.Response | None = None, body: Any = None) -> Retry:
        """The policy after one more failed attempt; when it is spent, the error to give the caller."""
        attempts = len(retry.history) + 1
        try:
            following = retry.increment(method, url, response=None if response is None else response.raw,
                                        error=error)
        except MaxRetryError:
            if response is not None:
                raise wire_error(response.status_code, body, operation, attempts) from None
            raise errors.TransportError(f"{method} {url} failed after {attempts} attempts: {_describe(error)}",
                                        operation=operation) from None
        cause = _describe(error) if error is not None else f"HTTP {response.status_code if response else '?'}"
        log.info("%s %s: %s; retrying (attempt %d)", method, url, cause, attempts + 1)
        return following


def wire_error(status: int, body: Any, operation: str, attempts: int) -> errors.VectorizeError:
    error = errors.from_envelope(status, body, operation=operation)
    error.message += f" (gave up after {attempts} attempts)"
    return error


def _parse(content: bytes) -> Any:
    try:
        return wire.loads(content) if content else None
    except ValueError:
        snippet = content[:200].decode("utf-8", errors="replace")
        return {"errors": [{"message": f"the server answered something that is not JSON: {snippet!r}"}]}


def _describe(error: Exception | None) -> str:
    if isinstance(error, requests.Timeout):
        return "the server did not answer within the timeout"
    return f"{type(error).__name__}: {error}" if error is not None else "unknown error"
