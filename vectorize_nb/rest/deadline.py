"""Deadlines for whole requests. requests and urllib3 time out each socket read, so a server that
sends a byte a second holds a call forever; here one watchdog thread shuts down the connection of
an attempt that passes its deadline, which ends whatever read or send it is blocked in.

    adapter = DeadlineAdapter(...)                   # mounted on the session instead of HTTPAdapter
    with attempt(seconds) as watched:                # around session.request(...) and reading the body
        ...
    watched.expired                                  # True if the watchdog cut the connection
    watched.sent                                     # True once the whole request went out
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Attempt", "attempt", "DeadlineAdapter"]

_RECHECK = 0.05
"""Seconds before the watchdog looks again at an expired attempt whose connection had no socket yet."""


class Attempt:
    """One request attempt with a deadline, and the connection it is using."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.due = time.monotonic() + seconds
        self.expired = False
        self.sent = False
        """Whether the whole request went out: from then on the server may act on it, answer or not."""
        self._done = False
        self._connection: Any = None
        self._lock = threading.Lock()

    def watch(self, connection: Any) -> None:
        """The connection the attempt now uses (cut at once if the deadline has passed)."""
        with self._lock:
            self._connection = connection
            if self.expired and not self._done:
                _cut(connection)

    def expire(self) -> bool:
        """Cut the connection; True when the attempt needs another look (no socket to cut yet)."""
        with self._lock:
            if self._done:
                return False
            self.expired = True
            return not _cut(self._connection)

    def finish(self) -> None:
        with self._lock:
            self._done = True
            self._connection = None  # the watchdog keeps the attempt until its due time, not the connection


def _cut(connection: Any) -> bool:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv or send in the other thread
    return True


class _Watchdog:
    """One daemon thread that expires attempts at their deadlines."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Attempt]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, attempt: Attempt, due: float | None = None) -> None:
        with self._wake:
            heapq.heappush(self._due, (attempt.due if due is None else due, next(self._order), attempt))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="vectorize-nb-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(None if not self._due else self._due[0][0] - time.monotonic())
                _, _, attempt = heapq.heappop(self._due)
            if attempt.expire():
                self.arm(attempt, time.monotonic() + _RECHECK)


_WATCHDOG = _Watchdog()
_CURRENT = threading.local()


@contextlib.contextmanager
def attempt(seconds: float) -> Iterator[Attempt]:
    """Run the requests of this thread inside the block under one deadline of `seconds`."""
    current = Attempt(seconds)
    _CURRENT.attempt = current
    _WATCHDOG.arm(current)
    try:
        yield current
    finally:
        current.finish()
        _CURRENT.attempt = None


def _watch(connection: Any) -> None:
    current = getattr(_CURRENT, "attempt", None)
    if current is not None:
        current.watch(connection)


def _sent() -> None:
    current = getattr(_CURRENT, "attempt", None)
    if current is not None:
        current.sent = True


class _Watched:
    """Reports the connection to the current attempt when it connects and before each request, and
    the request as sent once all of it went out (urllib3 swallows some failures to send, not this)."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)  # type: ignore[misc]
        _sent()


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections report to the thread's current `attempt`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager
