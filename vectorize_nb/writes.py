"""One home for a write: plan -> validate and de-duplicate once -> split -> send -> result.

    writer = Writer(backend, "docs", 384, log)
    result = writer.write("upsert", vectors, WriteOptions(batch_size=1000, wait=True))

A write of any size is checked whole before anything is sent (`validation.check_vectors` turns it
into `CheckedVectors`, which nothing checks again), split to the backend's limits (5,000 vectors and
100 MB per request), sent (several requests at once where the backend allows, with the next body
built while earlier requests are in flight), and reported batch by batch, so that only what failed
needs sending again. `Index.insert/upsert/delete_by_ids` and `df.vectorize` all write through here.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from .contract import arguments, errors, validation
from .contract.backend import Backend, PreparedWrite
from .contract.errors import VectorizeError
from .contract.limits import Limits
from .contract.models import WRITE_KINDS, CheckedVectors, Mutation, Vectors, WriteKind
from .mutation_log import MutationLog, wait_until_applied
from .write_input import as_vectors, vectors_from_records
from .write_result import Batch, BatchesInterrupted, WriteIncomplete, WriteInterrupted, WriteResult, interrupted

__all__ = ["as_vectors", "Batch", "WriteOptions", "Writer", "WriteResult", "WriteIncomplete", "WriteInterrupted",
           "plan_batches", "send_batches", "OnError", "PROGRESS_MIN_BATCHES",
           "vectors_from_records"]

PROGRESS_MIN_BATCHES = 4
_BYTES_PER_VALUE = 16  # a float32 in shortest JSON form plus its comma, with room to spare
_BYTES_PER_RECORD = 96
OnError = Literal["raise", "report"]

@dataclass(frozen=True, slots=True)
class WriteOptions:
    """How a write is sent and reported (see `docstrings.WRITE_OPTIONS` for each field)."""

    batch_size: int | None = None
    wait: bool = False
    progress: bool | None = None
    on_error: OnError = "raise"

    def __post_init__(self) -> None:
        arguments.choice("on_error", self.on_error, ("raise", "report"))
        object.__setattr__(self, "wait", arguments.flag("wait", self.wait))
        object.__setattr__(self, "progress", arguments.flag("progress", self.progress, optional=True))
        object.__setattr__(self, "batch_size", arguments.count("batch_size", self.batch_size, optional=True))


def plan_batches(vectors: CheckedVectors, limits: Limits, batch_size: int | None = None) -> list[Batch]:
    """Split rows into batches of at most `batch_size` (and the per-request cap) and 100 MB of NDJSON."""
    cap = limits.max_vectors_per_write if batch_size is None else min(batch_size, limits.max_vectors_per_write)
    width = vectors.values.shape[1] if vectors.values.ndim == 2 else 0
    sizes = np.fromiter(map(len, vectors.ids), dtype=np.int64, count=len(vectors))
    if any(md is not None for md in vectors.metadata_json):
        sizes += np.fromiter((len(md) if md else 0 for md in vectors.metadata_json), dtype=np.int64,
                             count=len(vectors))
    sizes += _BYTES_PER_RECORD + width * _BYTES_PER_VALUE
    batches: list[Batch] = []
    start = 0
    while start < len(vectors):
        stop = min(start + cap, len(vectors))
        cumulative = np.cumsum(sizes[start:stop])
        fits = int(np.searchsorted(cumulative, limits.max_body_bytes, side="right"))
        stop = start + max(1, fits)
        batches.append(Batch(len(batches) + 1, start, stop))
        start = stop
    return batches


def send_batches(batches: Sequence[Batch], send: Callable[[Any], Mutation], concurrency: int,
                 progress: Any = None, prepare: Callable[[Batch], Any] | None = None) -> list[Batch]:
    """Send each batch, at most `concurrency` at once; after the first failure no new batch starts.

    `prepare(batch)` (by default the batch itself) runs in this thread and its result goes to
    `send`, so the next request body is built while earlier requests wait on the network, rather
    than by several senders at once fighting over the interpreter lock. Returns outcomes in order (an
    exception `send` raises is the outcome of its batch); a KeyboardInterrupt becomes `BatchesInterrupted`,
    holding them.
    """
    outcomes = list(batches)
    started: set[int] = set()
    bar = _progress_bar(batches, progress)

    def run(pos: int, prepared: Any) -> None:
        batch = outcomes[pos]
        started.add(pos)
        try:
            mutation = send(prepared)
            outcomes[pos] = replace(batch, mutation_id=mutation.id, applied=mutation.applied)
        except VectorizeError as exc:  # a REST error says whether the request may have been carried out
            outcomes[pos] = replace(batch, error=exc, maybe_written=exc.maybe_applied)
        except (OSError, sqlite3.Error) as exc:  # the local engine's storage (a full disk, a read-only folder)
            outcomes[pos] = replace(batch, error=exc)
        if bar is not None:
            bar.update(batch.rows)

    def failed() -> bool:
        return any(b.error is not None for b in outcomes)

    def prepared(pos: int) -> Any:
        if prepare is None:
            return outcomes[pos]
        try:
            return prepare(outcomes[pos])
        except VectorizeError as exc:
            outcomes[pos] = replace(outcomes[pos], error=exc)
            return None

    try:
        if (prepare is None and concurrency <= 1) or len(batches) <= 1:
            for pos in range(len(batches)):
                body = prepared(pos)
                if failed():
                    break
                run(pos, body)
        else:
            _send_pipelined(run, prepared, failed, len(batches), concurrency)
    except KeyboardInterrupt:
        for pos in started:
            if outcomes[pos].status == "not sent":
                outcomes[pos] = interrupted(outcomes[pos])
        raise BatchesInterrupted(outcomes) from None
    finally:
        if bar is not None:
            bar.close()
    return outcomes


def _send_pipelined(run: Callable[[int, Any], None], prepared: Callable[[int], Any], failed: Callable[[], bool],
                    count: int, concurrency: int) -> None:
    """`concurrency` senders take prepared bodies from a queue the calling thread keeps filled, so a sender
    that gets its answer starts the next request at once; after a failure queued bodies are not sent.

    The last body is queued once every other one has been answered: requests in flight together may be
    applied in any order, and the last batch's mutation must be the last the index applies, so that
    waiting for it (`wait=True`, `Index.wait(result)`) waits for the whole write."""
    ready: queue.Queue[tuple[int, Any] | None] = queue.Queue(maxsize=concurrency)
    crashed: list[BaseException] = []  # not the outcome of a batch: a bug, raised again in the calling thread
    halted: list[bool] = []  # interrupted: the requests in flight finish, the queued ones are not sent

    def stopped() -> bool:
        return bool(crashed) or bool(halted) or failed()

    def sender() -> None:
        while (item := ready.get()) is not None:
            try:
                if not stopped():  # else keep draining the queue, so the calling thread never blocks on it
                    run(*item)
            except BaseException as exc:
                crashed.append(exc)
            finally:
                ready.task_done()

    senders = [threading.Thread(target=sender, name=f"vectorize-write-{n}", daemon=True) for n in range(concurrency)]
    for thread in senders:
        thread.start()
    try:
        for pos in range(count):
            body = None if stopped() else prepared(pos)
            if pos == count - 1:
                ready.join()
            if stopped():
                break
            ready.put((pos, body))
    except KeyboardInterrupt:
        halted.append(True)
        raise
    finally:
        for _ in senders:
            ready.put(None)
        for thread in senders:
            thread.join()
    if crashed:
        raise crashed[0]


def _progress_bar(batches: Sequence[Batch], progress: Any) -> Any:
    if progress is False or (progress is None and len(batches) < PROGRESS_MIN_BATCHES):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=sum(b.rows for b in batches), unit="vectors", desc="writing", leave=False)


class Writer:
    """Writes to one index of a backend, recording each accepted batch in the client's mutation log."""

    def __init__(self, backend: Backend, index: str, dimensions: int, log: MutationLog) -> None:
        self.backend = backend
        self.index = index
        self.dimensions = dimensions
        self.log = log

    def __repr__(self) -> str:
        return f"Writer({self.index!r}, {self.dimensions} dimensions)"

    def check(self, kind: WriteKind, vectors: Vectors | CheckedVectors) -> CheckedVectors:
        """The batch with every rule checked once (a `CheckedVectors` of this width passes as it is)."""
        with errors.during(f"write on index {self.index!r}", nothing_written=True):
            arguments.choice("kind", kind, WRITE_KINDS)
        if isinstance(vectors, CheckedVectors) and vectors.dimensions == self.dimensions:
            return vectors
        with errors.during(f"{kind} on index {self.index!r}", nothing_written=True):
            checked = validation.check_vectors(vectors, kind, self.dimensions, self.backend.limits)
        if len(checked) < len(vectors):
            errors.warn_once(self.backend, (self.index, "repeated ids", kind),
                             _repeated(vectors.ids, len(checked), kind))
        return checked

    def write(self, kind: WriteKind, vectors: Vectors | CheckedVectors, options: WriteOptions) -> WriteResult:
        """Insert or upsert a batch of any size; see the module's docstring."""
        checked = self.check(kind, vectors)
        batches = plan_batches(checked, self.backend.limits, options.batch_size)
        builds = self.backend.builds_requests

        def prepare(batch: Batch) -> PreparedWrite:
            with errors.during(f"{kind} on index {self.index!r}"):
                return self.backend.prepare_write(self.index, kind, checked.slice(batch.start, batch.stop))

        send = self._sender(kind)
        concurrency = self.backend.max_concurrency

        def sent() -> list[Batch]:
            if builds:  # the next body is built while earlier requests are in flight
                return send_batches(batches, send, concurrency, options.progress, prepare)
            return send_batches(batches, lambda batch: send(prepare(batch)), concurrency, options.progress)

        result = self._result(kind, checked.ids, sent,
                              lambda rows: self.write(kind, validation.recheck_cells(checked.take(rows)), options))
        return self._finish(result, options)

    def delete(self, ids: Sequence[str], options: WriteOptions) -> WriteResult:
        """Delete vectors by id, `limits.max_delete_ids` per request, every id checked before the first."""
        with errors.during(f"delete_by_ids on index {self.index!r}", nothing_written=True):
            unique = validation.asked_ids(ids, self.backend.limits)
        step = self.backend.limits.max_delete_ids
        batches = [Batch(n + 1, start, min(start + step, len(unique)))
                   for n, start in enumerate(range(0, len(unique), step))]

        def send(batch: Batch) -> Mutation:
            with errors.during(f"delete_by_ids on index {self.index!r}"):
                return self.log.issue(self.index, lambda: self.backend.delete_by_ids(self.index,
                                                                                     unique[batch.start:batch.stop]))

        concurrency = self.backend.max_concurrency
        result = self._result("delete", unique, lambda: send_batches(batches, send, concurrency, False),
                              lambda rows: self.delete([unique[r] for r in rows], options))
        return self._finish(result, options)

    def _result(self, operation: str, ids: Sequence[str], sent: Callable[[], list[Batch]],
                resend: Callable[[list[int]], WriteResult]) -> WriteResult:
        """What sending the batches did; interrupted, a `WriteInterrupted` that says it. An error that is not
        Vectorize's (the local engine's storage) before any batch was accepted is raised as it is: it says
        itself that nothing was written."""
        try:
            outcomes = sent()
        except BatchesInterrupted as stop:
            raise WriteInterrupted(WriteResult(operation, self.index, ids, stop.batches, resend)) from None
        result = WriteResult(operation, self.index, ids, outcomes, resend)
        first = result.failures[0].error if result.failures else None
        if first is not None and not isinstance(first, VectorizeError) and not result.accepted:
            raise first
        return result

    def _sender(self, kind: WriteKind) -> Callable[[PreparedWrite], Mutation]:
        def send(prepared: PreparedWrite) -> Mutation:
            with errors.during(f"{kind} on index {self.index!r}"):
                return self.log.issue(self.index, lambda: self.backend.send_write(prepared), adds=True)
        return send

    def _finish(self, result: WriteResult, options: WriteOptions) -> WriteResult:
        if options.on_error == "raise":
            result.raise_for_failures()
        if options.wait and result.last_mutation is not None and not result.applied:
            wait_until_applied(self.backend, self.index, self.log, result.last_mutation.id)
            result.applied = True
        return result


def _repeated(ids: Sequence[str], distinct: int, kind: WriteKind) -> str:
    """What a batch repeating ids is told: how many distinct, the first repeated, which row of each is kept."""
    seen: set[str] = set()
    for first in ids:
        if first in seen:
            break
        seen.add(first)
    return (f"{len(ids)} rows hold {distinct} distinct ids ({first!r} is repeated): {kind} keeps the "
            f"{'first' if kind == 'insert' else 'last'} row of each, as Vectorize does")
