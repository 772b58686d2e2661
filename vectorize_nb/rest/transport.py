"""HTTP for the REST backend: one requests session, the bearer token, deadlines, a rate limiter and
urllib3's retry policy (exponential backoff with jitter, Retry-After honoured).

What is retried: connection failures, timeouts, a connection dropped mid-answer, HTTP 408, 429 and 5xx,
and Cloudflare's rate-limit code 40041 (which may come with a 400). A deterministic 4xx never is, nor a
connection refused on this machine (no server on that port: no wait will start one); one refused by
another machine is tried once more (its server may be restarting), not `max_retries` times.
The token is only ever put into the Authorization header of the request being sent. An error answer that
quotes it (a server or a proxy that echoes requests) has it replaced with *** before it is read, and an error
quoting an Authorization header shows its value as ***. A success's data are never changed.

An error raised by `request` says whether the server may have done what was asked although it did not
say so (`error.maybe_applied`): some attempt went out whole and then got no answer (the connection
dropped, the attempt timed out) or a gateway's 502/504 (the server's own answer was lost). Retrying such
a request is safe only where doing it twice is harmless; the REST backend sorts out the others.

Two deadlines bound a call whatever the server does: `timeout` for each attempt (connecting, sending
and receiving the whole answer), and `total_timeout` for all attempts and the waits between them.
Both grow by one second per megabyte of the request body (`UPLOAD_ALLOWANCE`), so that a large
write on a slow uplink is not cut short.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from collections.abc import Iterator
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InvalidHeader, MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

from ..contract import arguments, errors, wire
from ..rest_options import REST_DEFAULTS as DEFAULTS
from ..secret import Secret, shown_url
from ..version import __version__
from .deadline import DeadlineAdapter, attempt
from .ratelimit import RateLimiter
from .target import Target

__all__ = ["Transport", "BearerToken", "RETRY_STATUSES", "UNCERTAIN_STATUSES", "retry_policy", "UPLOAD_ALLOWANCE"]

RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
UNCERTAIN_STATUSES = (502, 504)
"""A gateway's answers for a server whose own answer it did not get: the server may have done the work.
A 500 or a 503 is the server's own answer that it did not."""
RETRY_AFTER_MAX = 60
"""Longest a Retry-After is honoured; a longer one is capped (and a wait past the total deadline is not made)."""
UPLOAD_ALLOWANCE = 1e-6
"""Seconds added to both deadlines per byte of request body: one second per megabyte (8 Mbit/s)."""
CONNECT_TIMEOUT = 10.0
REFUSED_RETRIES = 1
"""Retries of a connection another machine refused; none for one this machine refused."""
_LAST_CHANCE = 0.01
"""Seconds of an attempt that starts at the total deadline (a wait's jitter can reach it)."""
_DROPPED = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError)
"""Failures of the exchange itself: no answer, or an answer cut off mid-body."""
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
"""The resolver's answers that a name has no address, which a retry in seconds will not change (unlike
EAI_AGAIN, a resolver that could not be asked)."""
_AUTHORIZATION = re.compile(r"""(authorization["']?\s*[:=]\s*["']?)((?:bearer|basic)\s+)?[^\s"'<>,;&}\\]+""",
                            re.IGNORECASE)
"""An Authorization header and its value as an answer may quote them (a header, JSON, a Python repr): the value
(but its scheme) is what an error shows as ***."""
log = logging.getLogger("vectorize_nb.rest")


class BearerToken(requests.auth.AuthBase):
    """Adds `Authorization: Bearer …` to each request; shows as *** everywhere else, and (a Secret) is
    not pickled."""

    def __init__(self, token: Secret) -> None:
        self.__token = arguments.api_token(token)  # else requests refuses the header with the token in its message

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.__token.reveal()}"
        return request

    def __repr__(self) -> str:
        return "BearerToken(***)"


class _Session(requests.Session):
    """A session that neither follows a redirect nor prepares the request that would (requests does, for
    `response.next`, even with allow_redirects=False: parsing a Location it cannot use raises ValueError).
    Cloudflare's API never redirects; `_Call.redirected` refuses the answer."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


class _Retry(Retry):
    """urllib3's policy with a Retry-After capped at RETRY_AFTER_MAX (urllib3 < 2.7 has no such option)."""

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, RETRY_AFTER_MAX)


def retry_policy(max_retries: int, backoff: float = DEFAULTS.backoff) -> Retry:
    return _Retry(total=max_retries, connect=None, read=None, status=None, other=None, redirect=0,
                  backoff_factor=backoff, backoff_max=30.0, backoff_jitter=backoff,
                  status_forcelist=RETRY_STATUSES, allowed_methods=None, respect_retry_after_header=True,
                  raise_on_status=False)


class Transport:
    """Requests to one account's routes, e.g. `request("GET", "/vectorize/v2/indexes/docs/info")`."""

    def __init__(self, target: Target, account_id: str, token: Secret | None, *, timeout: float, retry: Retry,
                 limiter: RateLimiter | None, pool_size: int, total_timeout: float = DEFAULTS.total_timeout) -> None:
        self.target = target
        self.base_url = target.base_url.rstrip("/")
        self.account_id = account_id
        self.account_url = f"{self.base_url}/accounts/{account_id}"
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.retry = retry
        self.limiter = limiter
        self.session = _Session()
        adapter = DeadlineAdapter(max_retries=0, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.token = arguments.api_token(token) if token else None
        """The token as sent (trimmed), which an answer that quotes it shows as ***."""
        self.session.auth = BearerToken(self.token) if self.token else None
        self.session.headers.update({"Accept": "application/json", "User-Agent": f"vectorize-nb/{__version__}"})
        self.closed = False
        self.reached = False
        """Whether a server has answered: then a name the resolver says does not exist is a dropped network."""

    def __repr__(self) -> str:
        return f"Transport({self.account_url!r})"

    def close(self) -> None:
        self.closed = True
        self.session.close()

    def request(self, method: str, path: str, *, operation: str, json: Any = None, data: Any = None,
                params: dict[str, Any] | None = None, content_type: str | None = None,
                limiter: RateLimiter | None = None, within: float | None = None) -> Any:
        """Send one request to `path` under the account (retrying what may be retried, within the
        deadlines) and return the envelope's `result`. `limiter`: a rate limit of its own (Workers AI's),
        instead of the transport's. `within`: seconds the whole call may take, when fewer than the deadlines
        allow (a caller with a deadline of its own, such as `Index.wait`)."""
        headers = {}
        if json is not None:
            data, content_type = wire.dumps(json), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        allowance = len(data) * UPLOAD_ALLOWANCE if hasattr(data, "__len__") else 0.0
        total = self.total_timeout + allowance if within is None else min(self.total_timeout + allowance, within)
        call = _Call(method, self.account_url + path, operation, self.retry.new(), total)
        try:
            return self._attempts(call, min(self.timeout + allowance, total), limiter or self.limiter,
                                  data=data, params=params, headers=headers)
        except errors.VectorizeError as exc:
            exc.maybe_applied = exc.maybe_applied or call.uncertain
            if isinstance(exc, errors.AuthenticationError):
                exc.hint = self.target.refusal_hint(exc.status, token_sent=self.session.auth is not None)
            if isinstance(exc, errors.TransportError):
                exc.hint = self.target.unanswered_hint or exc.hint
            exc.message = _AUTHORIZATION.sub(r"\1\2***", exc.message)
            exc.args = (exc.message,)
            exc.__context__ = None  # requests' exception where raised while handling it: it holds the request
            raise

    def _attempts(self, call: _Call, per_attempt: float, limiter: RateLimiter | None, **send: Any) -> Any:
        while True:
            if self.closed:  # also between attempts: a retry's wait outlasts the client
                raise errors.ClientClosed(operation=call.operation)
            if limiter is not None:
                limiter.acquire()
            seconds = max(min(per_attempt, call.ends - time.monotonic()), _LAST_CHANCE)
            try:
                with attempt(seconds) as watched:
                    response = self.session.request(call.method, call.url, allow_redirects=False,
                                                    timeout=(min(CONNECT_TIMEOUT, seconds), seconds), **send)
                    content = response.content
                if watched.expired:  # what was read before the cut may look whole (a head cut short)
                    raise _Late(seconds)
            except (*_DROPPED, _Late) as exc:
                failure = (_Late(seconds) if watched.expired or isinstance(exc, requests.Timeout)
                           else _Dropped(exc, call.url))
                if _refused(failure) and (_this_machine(call.url) or len(call.retry.history) >= REFUSED_RETRIES):
                    call.refused()
                if _no_such_name(failure) and not self.reached:  # once reached, a network that dropped (macOS)
                    call.give_up(self.target.unresolved, failure, None, None)
                call.uncertain = call.uncertain or watched.sent
                self._again(call, error=failure)
                continue
            self.reached = True
            if 300 <= response.status_code < 400:
                call.redirected(response.status_code, response.headers.get("Location"))
            body = _parse(content)
            if self.token is not None and not wire.succeeded(response.status_code, body):
                content = self.token.hidden_in(content)  # what an error quotes (and a traceback's locals show)
                body = _parse(content)
            call.uncertain = call.uncertain or response.status_code in UNCERTAIN_STATUSES
            if self._retryable(call.retry, call.method, response, body):
                self._again(call, response=response, body=body)
                continue
            return wire.result_of(response.status_code, body, call.operation)

    @staticmethod
    def _retryable(retry: Retry, method: str, response: requests.Response, body: Any) -> bool:
        has_retry_after = "Retry-After" in response.headers
        found = body.get("errors") if isinstance(body, dict) else None
        codes = [e.get("code") for e in found if isinstance(e, dict)] if isinstance(found, list) else []
        if any(isinstance(code, int) and errors.error_class(code) is errors.QuotaExceeded for code in codes):
            return False  # a 429 that says the day's allowance is spent: no wait will help
        if retry.is_retry(method, response.status_code, has_retry_after):
            return True
        return errors.RateLimited.code in codes

    def _again(self, call: _Call, *, error: Exception | None = None, response: requests.Response | None = None,
               body: Any = None) -> None:
        """Count one more failed attempt and wait before the next; raise the error to give the caller
        when the policy is spent, or when the wait (or the attempt) would end past the total deadline."""
        attempts = _attempts(len(call.retry.history) + 1)
        try:
            call.retry = call.retry.increment(call.method, call.url, error=error,
                                              response=None if response is None else response.raw)
        except MaxRetryError:
            call.give_up(f"gave up after {attempts}", error, response, body,
                         failed=f" after {attempts}: {_describe(error, call.url)}")
        cause = (_describe(error, call.url) if error is not None
                 else f"HTTP {'?' if response is None else response.status_code}")
        log.info("%s %s: %s; retrying (attempt %d)", call.method, call.url, cause, len(call.retry.history) + 1)
        if time.monotonic() + _wait(call.retry, response) >= call.ends:
            call.give_up(f"gave up after {attempts} at the total timeout of {call.total:g} s", error, response, body)
        try:
            call.retry.sleep(None if response is None else response.raw)
        except InvalidHeader:  # a Retry-After that is neither seconds nor a date: back off as usual
            call.retry.sleep()


class _Call:
    """One request's attempts: where it goes, the retry policy so far, and its total deadline."""

    def __init__(self, method: str, url: str, operation: str, retry: Retry, total: float) -> None:
        self.method, self.url, self.operation, self.retry = method, url, operation, retry
        self.total = total
        self.ends = time.monotonic() + total
        self.uncertain = False
        """Whether an attempt went out whole and its outcome is unknown (see `UNCERTAIN_STATUSES`)."""

    def give_up(self, why: str, error: Exception | None, response: requests.Response | None, body: Any, *,
                failed: str | None = None) -> NoReturn:
        """Raise the error the last answer stands for, saying `why` no more attempts are made; with no
        answer, a TransportError "<method> <url> failed<failed>" (by default ": <cause> (<why>)")."""
        if response is not None:
            raise wire_error(response.status_code, body, self.operation, why) from None
        failed = f": {_describe(error, self.url)} ({why})" if failed is None else failed
        raise errors.TransportError(f"{self.method} {self.url} failed{failed}", operation=self.operation) from None

    def redirected(self, status: int, location: str | None) -> NoReturn:
        """Refuse a redirect, which Cloudflare's API never answers: following it would send the token and the
        body where the base URL does not say."""
        to = "" if location is None else f" to {shown_url(location)!r}"
        error = errors.TransportError(f"{self.method} {self.url} failed: the server answered a redirect (HTTP "
                                      f"{status}){to}", operation=self.operation)
        error.hint = "Cloudflare's API never redirects: check the base URL (is another kind of server answering?)"
        error.retryable = False  # type: ignore[misc]
        raise error

    def refused(self) -> NoReturn:
        """Give up on a connection refused: nothing listens at the URL's host and port."""
        tries = len(self.retry.history) + 1
        parts = urlsplit(self.url)
        advice = "is the server running, and on that port?"
        if _this_machine(self.url):
            port = parts.port or (443 if parts.scheme == "https" else 80)
            advice = (f"no server runs on this machine at that port: start one (`vectorize-nb serve --port {port}` "
                      f"in a terminal, vz.serve(port={port}) in Python), or check the URL's port")
        raise errors.TransportError(
            f"{self.method} {self.url} failed{f' after {_attempts(tries)}' if tries > 1 else ''}: "
            f"{_nothing_listens(parts.netloc)}; {advice}", operation=self.operation) from None


def wire_error(status: int, body: Any, operation: str, why: str) -> errors.VectorizeError:
    """The error an answer stands for, saying why no more attempts were made."""
    error = errors.from_envelope(status, body, operation=operation)
    error.message += f" ({why})"
    return error


def _parse(content: bytes) -> Any:
    try:
        return wire.loads(content) if content else None
    except ValueError:
        snippet = content[:200].decode("utf-8", errors="replace")
        return {"errors": [{"message": f"the server answered something that is not JSON: {snippet!r}"}]}


class _Late(Exception):
    """An attempt that passed its deadline (a socket timeout, or the watchdog cut the connection)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the server did not answer within the timeout ({seconds:g} s per attempt)")


class _Dropped(Exception):
    """A failed exchange told in a few words, with what decides whether to retry it; not requests' exception,
    which holds the request and its Authorization header (and urllib3's frames, whose locals hold it too)."""

    def __init__(self, error: Exception, url: str) -> None:
        super().__init__(_describe(error, url))
        self.refused = _refused(error)
        self.no_such_name = _no_such_name(error)


def _wait(retry: Retry, response: requests.Response | None) -> float:
    """How long `retry.sleep` is about to wait (its jitter aside)."""
    if response is not None and retry.respect_retry_after_header:
        try:
            after = retry.get_retry_after(response.raw)
        except InvalidHeader:
            after = None
        if after:
            return after
    return retry.get_backoff_time()


def _attempts(count: int) -> str:
    return f"{count} attempt{'' if count == 1 else 's'}"


def _describe(error: Exception | None, url: str) -> str:
    """A failed attempt's error in a few words: a connection never made by what the system said, not urllib3's
    wrapping ("Max retries exceeded ... (Caused by NewConnectionError(...))")."""
    if isinstance(error, (_Late, _Dropped)):
        return str(error)
    if error is None:
        return "unknown error"
    cause = _unconnected(error)
    parts = urlsplit(url)
    if isinstance(cause, ConnectionRefusedError):
        return _nothing_listens(parts.netloc)
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve {parts.hostname} ({cause.strerror or cause})"
    if cause is not None:
        return f"cannot connect to {parts.netloc} ({cause.strerror or cause})"
    return f"{type(error).__name__}: {error}"


def _nothing_listens(netloc: str) -> str:
    return f"nothing listens at {netloc} (connection refused)"


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and its causes, as requests and urllib3 wrap them (a few levels at most)."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return
        yield seen
        reason = getattr(seen, "reason", None)
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = seen.__cause__ or (reason if isinstance(reason, BaseException) else None) or inner or seen.__context__


def _refused(error: BaseException) -> bool:
    """Whether the host answered that nothing listens on the port (somewhere in the chain of causes)."""
    if isinstance(error, _Dropped):
        return error.refused
    return any(isinstance(seen, ConnectionRefusedError) for seen in _chain(error))


def _no_such_name(error: BaseException) -> bool:
    """Whether the resolver said the URL's host name does not exist (not that it could not ask just now)."""
    if isinstance(error, _Dropped):
        return error.no_such_name
    cause = _unconnected(error)
    return isinstance(cause, socket.gaierror) and cause.errno in _NO_SUCH_NAME


def _unconnected(error: BaseException) -> OSError | None:
    """The system's error for a connection that was never made (refused, a name not resolved, no route)."""
    for seen in _chain(error):
        if isinstance(seen, NewConnectionError):
            cause = seen.__cause__ or seen.__context__
            return cause if isinstance(cause, OSError) else None
    return None


def _this_machine(url: str) -> bool:
    """Whether the URL's host is this machine: a loopback name or address, or the unspecified one (0.0.0.0,
    [::]) that a server listening on every address shows, and that reaches this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
