"""The mutations a client issued, per index, so that `Index.wait()` knows what to wait for.

Vectorize applies mutations in the order it received them and reports only the last one it
processed, so "is my write applied?" means "has the index processed my mutation, or one the service
ordered after it?". This client knows that order for its own mutations only where it follows from
time: a request sent after the answer to another came is ordered after that one. Two requests in
flight together may have been ordered either way (answers can come back in another order than the
service received the requests), and another writer's mutations are in no known order with ours.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .contract import arguments, errors
from .contract.backend import Backend
from .contract.models import IndexInfo, Mutation

__all__ = ["Issued", "MutationLog", "wait_until_applied", "writes_pending", "adds_pending", "not_applied",
           "LOOK_FLOOR"]

LOOK_FLOOR = 1.0
"""Seconds a look at `info` is given at least, even at the end of a wait."""


@dataclass(frozen=True, slots=True)
class Issued:
    """One mutation of this client: its id, when its request was about to go out and when its answer
    had come (the log's clock, `time.perf_counter` by default), whether it adds vectors (an upsert or insert),
    and the property whose metadata index it creates or deletes, if it does.
    """

    id: str
    sent: float
    answered: float
    adds: bool = False
    creates: str | None = None
    deletes: str | None = None


class MutationLog:
    """The last `remembered` mutations a client issued on each index, in the order their answers came.
    Thread-safe: writes record their batches from several sender threads."""

    def __init__(self, remembered: int = 10_000, clock: Callable[[], float] = time.perf_counter) -> None:
        self._issued: dict[str, deque[Issued]] = {}
        self._looked: dict[str, str] = {}
        self._remembered = remembered
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MutationLog({sum(map(len, self._issued.values()))} mutations on {len(self._issued)} indexes)"

    def issue(self, index: str, request: Callable[[], Mutation], *, adds: bool = False, creates: str | None = None,
              deletes: str | None = None) -> Mutation:
        """Run `request` (one request that makes a mutation of `index`: one that adds vectors with `adds`, one that
        creates or deletes the metadata index of property `creates` or `deletes`) and record its mutation with the
        times around it. A mutation whose id is unknown (empty) is not recorded."""
        sent = self._clock()
        mutation = request()
        if mutation.id:
            self.record(index, mutation.id, sent, adds=adds, creates=creates, deletes=deletes)
        return mutation

    def record(self, index: str, mutation_id: str, sent: float, *, adds: bool = False, creates: str | None = None,
               deletes: str | None = None) -> None:
        """Remember a mutation of `index` whose answer just came; `sent`: the clock before its request went out."""
        entry = Issued(mutation_id, sent, self._clock(), adds, creates, deletes)
        with self._lock:
            self._issued.setdefault(index, deque(maxlen=self._remembered)).append(entry)

    def _entries(self, index: str) -> list[Issued]:
        with self._lock:
            return list(self._issued.get(index, ()))

    def last(self, index: str) -> str | None:
        """The mutation of `index` whose answer came last, or None."""
        with self._lock:
            return self._last(index)

    def _last(self, index: str) -> str | None:
        entries = self._issued.get(index)  # read under the lock; not copied: every query asks
        return entries[-1].id if entries else None

    def first_look(self, index: str) -> str | None:
        """The last mutation of `index` the first time this is asked after it was made (a query looking once
        whether the write before it is applied), else None."""
        with self._lock:
            last = self._last(index)
            if last is None or self._looked.get(index) == last:
                return None
            self._looked[index] = last
        return last

    def creation(self, index: str, property_name: str) -> Issued | None:
        """This client's last mutation that created the metadata index of `property_name` on `index`, unless it
        deleted that metadata index since."""
        return self.creations(index).get(property_name)

    def creations(self, index: str) -> dict[str, Issued]:
        """`creation` of each property whose metadata index on `index` this client created and did not delete
        since, by property, oldest first."""
        made: dict[str, Issued] = {}
        for entry in self._entries(index):
            if entry.deletes is not None:
                made.pop(entry.deletes, None)
            if entry.creates is not None:
                made.pop(entry.creates, None)
                made[entry.creates] = entry
        return made

    def find(self, index: str, mutation_id: str) -> Issued | None:
        """The record of one of this client's mutations, or None (another writer's, or forgotten)."""
        return next((e for e in reversed(self._entries(index)) if e.id == mutation_id), None)

    def since(self, index: str, mutation_id: str) -> set[str]:
        """`mutation_id` and every mutation of `index` whose request went out after its answer came: the
        service ordered those after it, so once it reports any of them processed, `mutation_id` is applied."""
        entries = self._entries(index)
        ours = next((e for e in reversed(entries) if e.id == mutation_id), None)
        if ours is None:
            return {mutation_id}
        return {mutation_id} | {e.id for e in entries if e.sent > ours.answered}

    def pending_adds(self, index: str, processed: str | None) -> list[str]:
        """The mutations of `index` that add vectors and are not known applied (`since`) when the index has
        processed up to `processed`."""
        entries = self._entries(index)
        last = next((e for e in reversed(entries) if e.id == processed), None)
        return [e.id for e in entries if e.adds and e.id != processed and (last is None or e.answered >= last.sent)]

    def added(self, index: str) -> bool:
        """Whether this client's remembered mutations of `index` include one that adds vectors."""
        return any(e.adds for e in self._entries(index))

    def latest(self, index: str) -> list[str]:
        """The mutations of `index` that no other one of this log is known to follow (one, unless requests
        were in flight together): once each is applied, so is every mutation the log holds for `index`."""
        entries = self._entries(index)
        newest = max((e.sent for e in entries), default=0.0)
        return [e.id for e in entries if e.answered >= newest]

    def delete(self, index: str, request: Callable[[], None]) -> None:
        """Run `request` (one that deletes `index`), then drop the mutations of `index` whose requests went out
        before its answer came: a write sent after that is to a new index of the name, and stays."""
        request()
        answered = self._clock()
        with self._lock:
            kept = [e for e in self._issued.pop(index, ()) if e.sent >= answered]
            if kept:
                self._issued[index] = deque(kept, maxlen=self._remembered)


def not_applied(backend: Backend, index: str, mutations: Iterable[str]) -> list[str]:
    """`mutations` of `index` less those the backend knows are applied: the embedded engine records when it applies
    each, so a write another writer's followed is known applied there; over REST only the order of this client's
    own writes tells (`MutationLog.since`)."""
    return [m for m in mutations if backend.mutation_state(index, m) != "applied"]


def adds_pending(backend: Backend, log: MutationLog, index: str, processed: str | None) -> bool:
    """Whether a mutation of this client that adds vectors to `index` is not known applied when the index has
    processed up to `processed`. The backend is asked of the newest only (those answered together, when requests
    were in flight at once: `latest`): where it can tell (the engine applies writes in the order it takes them), the
    older ones are applied if they are."""
    pending = log.pending_adds(index, processed)
    newest = set(log.latest(index))
    return bool(pending) and bool(not_applied(backend, index, [m for m in pending if m in newest] or pending[-1:]))


def writes_pending(backend: Backend, log: MutationLog, name: str, processed: str | None) -> bool | None:
    """Whether this session's last write to index `name` is not applied yet (None: it wrote nothing there).

    Parameters
    ----------
    backend : Backend
        The client's (`client.backend`).
    log : MutationLog
        The client's (`client.log`, `index.log`).
    name : str
    processed : str or None
        The last mutation the index applied (`info().processed_up_to_mutation`).
    """
    last = log.last(name)
    if last is None:
        return None
    return processed not in log.since(name, last) and bool(not_applied(backend, name, [last]))


def wait_until_applied(backend: Backend, index: str, log: MutationLog, mutations: str | Sequence[str], *,
                       timeout: float = 60.0, interval: float = 0.25) -> IndexInfo:
    """Poll `index_info` until the index has processed each of `mutations` (a mutation id, or several),
    or a mutation this log knows the service ordered after it (`MutationLog.since`, read at every look,
    so writes made meanwhile count); `WaitTimeout` after `timeout` seconds, saying when this client
    cannot tell, and also when the server stops answering (a REST backend's look at info is given up
    when the wait's time is up)."""
    timeout, interval = arguments.seconds("timeout", timeout), arguments.seconds("interval", interval)
    pending = [mutations] if isinstance(mutations, str) else list(mutations)
    for mutation in pending:
        if backend.mutation_state(index, mutation) == "unknown":
            raise errors.InvalidRequest(
                f"mutation {mutation!r} was never issued for index {index!r} (another index's id, or mistyped), so it "
                "will never be applied: wait for a write's result, or call wait() for this client's last writes",
                operation=f"wait on index {index!r}")
    deadline = time.monotonic() + timeout
    while True:
        info = _look(backend, index, deadline, timeout, interval, _named(pending))
        processed = info.processed_up_to_mutation
        pending = not_applied(backend, index, [m for m in pending if processed not in log.since(index, m)])
        if not pending:
            return info
        left = deadline - time.monotonic()
        if left <= 0:
            raise errors.WaitTimeout(_not_applied(backend, log, index, pending, processed, timeout),
                                     operation=f"wait on index {index!r}")
        time.sleep(min(interval, left))


def _named(mutations: Sequence[str]) -> str:
    return f"mutation {mutations[0]}" if len(mutations) == 1 else f"mutations {', '.join(mutations)}"


def _not_applied(backend: Backend, log: MutationLog, index: str, pending: Sequence[str], processed: str | None,
                 timeout: float) -> str:
    """Why a wait ended: not applied yet, or this client cannot tell."""
    if processed is None:
        return f"{_named(pending)} not applied after {timeout:g} s; the index has processed no mutation yet"
    if all(backend.mutation_state(index, m) == "pending" for m in pending):
        return f"{_named(pending)} not applied after {timeout:g} s; the index has processed up to {processed}"
    last = log.find(index, processed)
    cannot_tell = (f"{_named(pending)} not known to be applied after {timeout:g} s: the last mutation the index "
                   f"applied, {processed}, is ")
    check = ("Vectorize reports only the last mutation it applied, so this client cannot tell which came first; "
             "get_by_ids shows whether the vectors are stored")
    strangers = [m for m in pending if log.find(index, m) is None]
    if strangers:
        return (f"{_named(pending)} not known to be applied after {timeout:g} s: {_named(strangers)} "
                f"{'is not one' if len(strangers) == 1 else 'are not ones'} this client made (another writer's, or "
                f"another index's id), and the last mutation the index applied is {processed}. {check}")
    if last is None:
        return cannot_tell + f"not one this client made (another writer's). {check}"
    mine = [log.find(index, m) for m in pending]
    if any(m is None or m.sent <= last.answered for m in mine):
        return cannot_tell + f"one of this client's, sent while {_named(pending)} was in flight. {check}"
    return f"{_named(pending)} not applied after {timeout:g} s; the index has processed up to {processed}"


def _look(backend: Backend, index: str, deadline: float, timeout: float, interval: float, named: str) -> IndexInfo:
    """One look at `info`. Where the backend can bound a call (REST), it is given the wait's time left (at
    least `LOOK_FLOOR` seconds, or the whole timeout if shorter), and a server that does not answer in
    that time ends the wait with `WaitTimeout`."""
    operation = f"wait on index {index!r}"
    with errors.during(operation):
        try:
            return backend.index_info_within(index, max(deadline - time.monotonic(), min(timeout, LOOK_FLOOR)))
        except errors.TransportError as exc:
            if time.monotonic() + interval < deadline:
                raise  # time for another look: a failure of its own, not the wait's timeout
            raise errors.WaitTimeout(
                f"{named} not known to be applied after {timeout:g} s: the server did not answer info in time "
                f"({exc.message})", operation=operation) from exc
