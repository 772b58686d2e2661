"""The mutations a client issued, per index, so that `Index.wait()` knows what to wait for.

Vectorize applies mutations in order and reports only the last one it processed, so "is my write
applied?" means "has the index processed my mutation, or any I issued after it?".
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Protocol, runtime_checkable

from .contract import errors
from .contract.backend import Backend
from .contract.models import IndexInfo

__all__ = ["MutationLog", "wait_until_applied", "LOOK_FLOOR"]

LOOK_FLOOR = 1.0
"""Seconds a look at `info` is given at least, even at the end of a wait."""


class MutationLog:
    """The last `remembered` mutation ids a client issued on each index, oldest first. Thread-safe:
    writes record their batches from several sender threads."""

    def __init__(self, remembered: int = 10_000) -> None:
        self._issued: dict[str, deque[str]] = {}
        self._remembered = remembered
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MutationLog({sum(map(len, self._issued.values()))} mutations on {len(self._issued)} indexes)"

    def record(self, index: str, mutation_id: str) -> None:
        """Remember a mutation just issued on `index`."""
        with self._lock:
            self._issued.setdefault(index, deque(maxlen=self._remembered)).append(mutation_id)

    def last(self, index: str) -> str | None:
        """The latest mutation issued on `index`, or None."""
        with self._lock:
            issued = self._issued.get(index)
            return issued[-1] if issued else None

    def since(self, index: str, mutation_id: str) -> set[str]:
        """`mutation_id` and every mutation issued on `index` after it: once the index reports any of
        these as processed, `mutation_id` is applied."""
        with self._lock:
            issued = list(self._issued.get(index, ()))
        if mutation_id not in issued:
            return {mutation_id}
        return set(issued[issued.index(mutation_id):])

    def forget(self, index: str) -> None:
        """Drop what was remembered about `index` (it was deleted)."""
        with self._lock:
            self._issued.pop(index, None)


def wait_until_applied(backend: Backend, index: str, log: MutationLog, mutation_id: str, *, timeout: float = 60.0,
                       interval: float = 0.25) -> IndexInfo:
    """Poll `index_info` until the index has processed `mutation_id` (or a later mutation of this log);
    `WaitTimeout` after `timeout` seconds, also when the server stops answering (a REST backend's look
    at info is given up when the wait's time is up)."""
    later = log.since(index, mutation_id)
    deadline = time.monotonic() + timeout
    while True:
        info = _look(backend, index, deadline, timeout, interval, mutation_id)
        if info.processed_up_to_mutation in later:
            return info
        left = deadline - time.monotonic()
        if left <= 0:
            raise errors.WaitTimeout(
                f"mutation {mutation_id} not applied after {timeout:g} s; the index has processed up to "
                f"{info.processed_up_to_mutation}", operation=f"wait on index {index!r}")
        time.sleep(min(interval, left))


@runtime_checkable
class _BoundedInfo(Protocol):
    def index_info_within(self, name: str, seconds: float | None) -> IndexInfo: ...


def _look(backend: Backend, index: str, deadline: float, timeout: float, interval: float,
          mutation_id: str) -> IndexInfo:
    """One look at `info`. Where the backend can bound a call (REST), it is given the wait's time left (at
    least `LOOK_FLOOR` seconds, or the whole timeout if shorter), and a server that does not answer in
    that time ends the wait with `WaitTimeout`."""
    operation = f"wait on index {index!r}"
    with errors.during(operation):
        if not isinstance(backend, _BoundedInfo):
            return backend.index_info(index)
        try:
            return backend.index_info_within(index, max(deadline - time.monotonic(), min(timeout, LOOK_FLOOR)))
        except errors.TransportError as exc:
            if time.monotonic() + interval < deadline:
                raise  # time for another look: a failure of its own, not the wait's timeout
            raise errors.WaitTimeout(
                f"mutation {mutation_id} not known to be applied after {timeout:g} s: the server did not answer "
                f"info in time ({exc.message})", operation=operation) from exc
