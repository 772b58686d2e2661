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
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from .contract import errors, validation
from .contract.backend import Backend, PreparedWrite
from .contract.errors import VectorizeError
from .contract.limits import Limits
from .contract.models import CheckedVectors, Mutation, Vectors, WriteKind
from .mutation_log import MutationLog, wait_until_applied
from .write_input import as_vectors, vectors_from_records

__all__ = ["as_vectors", "Batch", "WriteOptions", "Writer", "WriteResult", "WriteIncomplete", "plan_batches",
           "send_batches", "documented", "fill_docstring", "OnError", "PROGRESS_MIN_BATCHES", "vectors_from_records"]

PROGRESS_MIN_BATCHES = 4
_BYTES_PER_VALUE = 16  # a float32 in shortest JSON form plus its comma, with room to spare
_BYTES_PER_RECORD = 96
OnError = Literal["raise", "report"]

WRITE_OPTIONS = """batch_size : int, optional
    At most this many vectors per request (never more than the backend's 5,000, nor 100 MB of NDJSON).
wait : bool, default False
    Return only once the last batch is applied (Vectorize applies writes a few seconds after it
    acknowledges them); see `Index.wait`.
progress : bool, optional
    Show a progress bar (tqdm: a widget in Jupyter). By default only for writes of 4 or more batches.
on_error : {"raise", "report"}, default "raise"
    What a failed batch does: raise `WriteIncomplete` (its `.result` says what was written), or
    return a `WriteResult` that reports it (check `.ok`; `.retry()` sends what was not confirmed)."""
WRITE_INPUT = """data : Vectors, list of dict, or sequence of str
    A `Vectors` batch; records `{"id", "values", "metadata"?, "namespace"?}`; or the ids, with
    `values` holding one row per id.
values : array-like of shape (n, dimensions), optional
    The vectors, when `data` is a list of ids.
metadata : list of dict, optional
    One metadata object (or None) per id.
namespaces : str or list of str, optional
    One namespace for every vector, or one (or None) per id."""
WRITE_RESULT = """WriteResult
    Rows written, the batches and their mutation ids; `to_frame()` shows them batch by batch."""
_FRAGMENTS = {"{write_options}": WRITE_OPTIONS, "{write_input}": WRITE_INPUT, "{write_result}": WRITE_RESULT}
_Function = TypeVar("_Function", bound=Callable[..., Any])


def fill_docstring(function: _Function, fragments: dict[str, str]) -> _Function:
    """Replace each line of a docstring that is only a `{placeholder}` of `fragments` by its text,
    indented like the placeholder (shared parameter descriptions, as plotly express does)."""
    def fragment(match: re.Match[str]) -> str:
        indent, placeholder = match.groups()
        text = fragments.get(placeholder)
        return match.group(0) if text is None else indent + text.replace("\n", "\n" + indent)

    if function.__doc__:
        function.__doc__ = re.sub(r"^( *)(\{\w+\})$", fragment, function.__doc__, flags=re.M)
    return function


def documented(function: _Function) -> _Function:
    """Fill the shared descriptions of a write's input, options and result into a docstring
    (`{write_input}`, `{write_options}`, `{write_result}`): one text for every function that takes them."""
    return fill_docstring(function, _FRAGMENTS)


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """How a write is sent and reported (see `WRITE_OPTIONS` for each field)."""

    batch_size: int | None = None
    wait: bool = False
    progress: bool | None = None
    on_error: OnError = "raise"

    def __post_init__(self) -> None:
        if self.on_error not in ("raise", "report"):
            raise ValueError(f"on_error must be 'raise' or 'report'; got {self.on_error!r}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or int(self.batch_size) < 1):
            raise ValueError(f"batch_size must be a whole number of at least 1; got {self.batch_size!r}")


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows [start, stop) of a write, and what became of them: `status` is "accepted" (a mutation id
    came back), "failed" (refused, nothing written), "unconfirmed" (the request went out and no answer
    came: it may have been written) or "not sent"."""

    number: int
    start: int
    stop: int
    mutation_id: str | None = None
    error: VectorizeError | None = None
    maybe_written: bool = False

    @property
    def rows(self) -> int:
        """How many rows the batch holds."""
        return self.stop - self.start

    @property
    def status(self) -> str:
        if self.mutation_id is not None:
            return "accepted"
        if self.error is None:
            return "not sent"
        return "unconfirmed" if self.maybe_written else "failed"


class WriteIncomplete(VectorizeError):
    """Some batches of a write were not accepted. `result` says which; `result.retry()` resends them."""

    def __init__(self, result: WriteResult) -> None:
        first = result.failures[0].error if result.failures else None
        missing = result.rows - result.written
        maybe = _rows(result.unconfirmed)
        rows, done, into, twice = result.terms()
        rows = f"{missing} {rows} that were not {done}" if not maybe else (
            f"{missing} {rows} not known to be {done}, the {maybe} that may have been included ({twice})")
        if first is not None and first.retryable:
            then = f"err.result.retry() sends the {rows}"
        else:
            then = (f"sending them again would fail the same way: fix the cause, then err.result.retry() sends the "
                    f"{rows} (err.result.unwritten_ids lists them)")
        super().__init__(
            f"{result.operation} {into} {result.index!r} is incomplete: {result.tally()}; first failure: {first}. "
            f"{then}")
        self.result = result
        self.__cause__ = first


class WriteResult:
    """What a write did: rows sent, batches, mutation ids, and the rows of the batches that failed or
    got no answer (those "unconfirmed" may have been written: the request went out, the answer was lost).

    Parameters
    ----------
    operation : str
        "insert", "upsert" or "delete".
    index : str
        The index written to.
    ids : sequence of str
        The rows' ids, in the order they were sent.
    batches : sequence of Batch
        Each batch's rows and outcome.
    resend : callable, optional
        Sends the given rows again (what `retry` calls).
    """

    def __init__(self, operation: str, index: str, ids: Sequence[str], batches: Sequence[Batch],
                 resend: Callable[[list[int]], WriteResult] | None = None) -> None:
        self.operation = operation
        self.index = index
        self.ids = list(ids)
        self.batches = list(batches)
        self._resend = resend

    @property
    def rows(self) -> int:
        """How many rows the write was given (after repeated ids were resolved)."""
        return len(self.ids)

    @property
    def accepted(self) -> list[Batch]:
        """The batches the backend acknowledged."""
        return [b for b in self.batches if b.status == "accepted"]

    @property
    def failures(self) -> list[Batch]:
        """The batches whose request failed (each with its `error`), the unconfirmed ones included."""
        return [b for b in self.batches if b.error is not None]

    @property
    def unconfirmed(self) -> list[Batch]:
        """The batches that may have been written: the request went out and no answer came."""
        return [b for b in self.batches if b.status == "unconfirmed"]

    @property
    def written(self) -> int:
        """How many rows the accepted batches hold."""
        return sum(b.rows for b in self.accepted)

    @property
    def ok(self) -> bool:
        """Whether every row was written."""
        return self.written == self.rows

    @property
    def mutation_ids(self) -> list[str]:
        """The mutation id of each accepted batch, in order."""
        return [b.mutation_id for b in self.accepted if b.mutation_id is not None]

    @property
    def last_mutation(self) -> Mutation | None:
        """The last accepted batch's mutation (what `Index.wait(result)` waits for), or None."""
        ids = self.mutation_ids
        return Mutation(ids[-1]) if ids else None

    def unwritten_rows(self) -> list[int]:
        """Positions (in the rows given to the write) of every row not known to be written: of the batches
        failed, unconfirmed or not sent."""
        return [row for b in self.batches if b.status != "accepted" for row in range(b.start, b.stop)]

    @property
    def unwritten_ids(self) -> list[str]:
        """The ids of the rows not known to be written (`unconfirmed_ids` included)."""
        return [self.ids[row] for row in self.unwritten_rows()]

    @property
    def unconfirmed_ids(self) -> list[str]:
        """The ids of the rows that may have been written: of the batches that got no answer."""
        return [self.ids[row] for b in self.unconfirmed for row in range(b.start, b.stop)]

    def terms(self) -> tuple[str, str, str, str]:
        """How this write's messages word it: what a row is, what was done to it, the preposition before
        the index, and why sending a row twice is harmless."""
        if self.operation == "delete":
            return "ids", "deleted", "on", "deleting an id twice is harmless"
        return "rows", "written", "into", "a row sent twice is stored once"

    def tally(self) -> str:
        """Rows written (ids deleted), and where some may have been, how many may and how many were not."""
        rows, done, _, _ = self.terms()
        text = (f"{self.written} of {self.rows} {rows} {done} ({len(self.accepted)} of {len(self.batches)} batches "
                f"accepted)")
        maybe = _rows(self.unconfirmed)
        if maybe:
            refused, unsent = (_rows([b for b in self.batches if b.status == s]) for s in ("failed", "not sent"))
            text += f", {maybe} may have been {done} (no answer came)" + (f", {refused} refused" if refused else "") \
                + (f", {unsent} not sent" if unsent else "")
        return text

    def retry(self) -> WriteResult:
        """Send again the rows not known to be written: those that were not, and those that may have been
        (sending them twice is harmless: an insert keeps the stored vector, an upsert writes the same)."""
        if self._resend is None:
            raise ValueError("this result cannot be retried")
        return self._resend(self.unwritten_rows())

    def raise_for_failures(self) -> WriteResult:
        """Raise `WriteIncomplete` unless every row was written; return the result otherwise."""
        if not self.ok:
            raise WriteIncomplete(self)
        return self

    def to_frame(self) -> pd.DataFrame:
        """One row per batch: rows, ids at each end, status, mutation id, error."""
        return pd.DataFrame({
            "batch": [b.number for b in self.batches],
            "rows": [b.rows for b in self.batches],
            "first_id": [self.ids[b.start] if b.rows else None for b in self.batches],
            "last_id": [self.ids[b.stop - 1] if b.rows else None for b in self.batches],
            "status": [b.status for b in self.batches],
            "mutation_id": [b.mutation_id for b in self.batches],
            "error": [None if b.error is None else str(b.error) for b in self.batches],
        })

    def __repr__(self) -> str:
        maybe = _rows(self.unconfirmed)
        rows, done, into, _ = self.terms()
        return (f"WriteResult({self.operation} {into} {self.index!r}: {self.written} of {self.rows} {rows} {done} "
                f"in {len(self.accepted)} of {len(self.batches)} batches"
                + (f", {maybe} may have been {done})" if maybe else ")"))

    def _repr_html_(self) -> str:
        return f"<p><code>{self!r}</code></p>" + self.to_frame().to_html(index=False, na_rep="")


def _rows(batches: Sequence[Batch]) -> int:
    return sum(b.rows for b in batches)


def plan_batches(vectors: CheckedVectors, limits: Limits, batch_size: int | None = None) -> list[Batch]:
    """Split rows into batches of at most `batch_size` (and the per-request cap) and 100 MB of NDJSON."""
    cap = limits.max_vectors_per_write if batch_size is None else min(int(batch_size), limits.max_vectors_per_write)
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
    than by several senders at once fighting over the interpreter lock. Returns outcomes in order.
    """
    outcomes = list(batches)
    bar = _progress_bar(batches, progress)

    def run(pos: int, prepared: Any) -> None:
        batch = outcomes[pos]
        try:
            outcomes[pos] = replace(batch, mutation_id=send(prepared).id)
        except VectorizeError as exc:  # a REST error says whether the request may have been carried out
            outcomes[pos] = replace(batch, error=exc, maybe_written=exc.maybe_applied)
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
    crashed: list[BaseException] = []  # not a VectorizeError: a bug, raised again in the calling thread

    def stopped() -> bool:
        return bool(crashed) or failed()

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
        if isinstance(vectors, CheckedVectors) and vectors.dimensions == self.dimensions:
            return vectors
        with errors.during(f"{kind} on index {self.index!r}", nothing_written=True):
            return validation.check_vectors(vectors, kind, self.dimensions, self.backend.limits)

    def write(self, kind: WriteKind, vectors: Vectors | CheckedVectors, options: WriteOptions) -> WriteResult:
        """Insert or upsert a batch of any size; see the module's docstring."""
        checked = self.check(kind, vectors)
        batches = plan_batches(checked, self.backend.limits, options.batch_size)
        builds = self.backend.builds_requests

        def prepare(batch: Batch) -> PreparedWrite:
            with errors.during(f"{kind} on index {self.index!r}"):
                return self.backend.prepare_write(self.index, kind, checked.slice(batch.start, batch.stop))

        send = self._sender(kind)
        if builds:  # the next body is built while earlier requests are in flight
            outcomes = send_batches(batches, send, self.backend.max_concurrency, options.progress, prepare)
        else:
            outcomes = send_batches(batches, lambda batch: send(prepare(batch)), self.backend.max_concurrency,
                                    options.progress)
        result = WriteResult(kind, self.index, checked.ids, outcomes,
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

        outcomes = send_batches(batches, send, self.backend.max_concurrency, False)
        result = WriteResult("delete", self.index, unique, outcomes,
                             lambda rows: self.delete([unique[r] for r in rows], options))
        return self._finish(result, options)

    def _sender(self, kind: WriteKind) -> Callable[[PreparedWrite], Mutation]:
        def send(prepared: PreparedWrite) -> Mutation:
            with errors.during(f"{kind} on index {self.index!r}"):
                return self.log.issue(self.index, lambda: self.backend.send_write(prepared))
        return send

    def _finish(self, result: WriteResult, options: WriteOptions) -> WriteResult:
        if options.on_error == "raise":
            result.raise_for_failures()
        if options.wait and result.last_mutation is not None:
            wait_until_applied(self.backend, self.index, self.log, result.last_mutation.id)
        return result
