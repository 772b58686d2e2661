"""Large writes: validated whole, split to the backend's limits, sent (concurrently where the backend
allows), and reported batch by batch so that only what failed needs sending again.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, replace
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from . import validation
from .errors import VectorizeError
from .limits import Limits
from .models import Mutation, Vectors

__all__ = ["Batch", "WriteResult", "WriteIncomplete", "plan_batches", "validate_all", "send_batches",
           "unique_rows", "PROGRESS_MIN_BATCHES"]

PROGRESS_MIN_BATCHES = 4
_BYTES_PER_VALUE = 16  # a float32 in shortest JSON form plus its comma, with room to spare
_BYTES_PER_RECORD = 96


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows [start, stop) of a write, and what became of them."""

    number: int
    start: int
    stop: int
    mutation_id: str | None = None
    error: VectorizeError | None = None

    @property
    def rows(self) -> int:
        return self.stop - self.start

    @property
    def status(self) -> str:
        if self.mutation_id is not None:
            return "accepted"
        return "failed" if self.error is not None else "not sent"


class WriteIncomplete(VectorizeError):
    """Some batches of a write were not accepted. `result` says which; `result.retry()` resends them."""

    def __init__(self, result: WriteResult) -> None:
        first = result.failures[0].error if result.failures else None
        super().__init__(
            f"{result.operation} into {result.index!r} is incomplete: {result.written} of {result.rows} rows "
            f"written ({len(result.accepted)} of {len(result.batches)} batches accepted); first failure: "
            f"{first}. err.result.retry() sends the {result.rows - result.written} rows that were not written")
        self.result = result
        self.__cause__ = first


class WriteResult:
    """What a write did: rows sent, batches, mutation ids, and the rows of the batches that failed."""

    def __init__(self, operation: str, index: str, ids: Sequence[str], batches: Sequence[Batch],
                 resend: Callable[[list[int]], WriteResult] | None = None) -> None:
        self.operation = operation
        self.index = index
        self.ids = list(ids)
        self.batches = list(batches)
        self._resend = resend

    @property
    def rows(self) -> int:
        return len(self.ids)

    @property
    def accepted(self) -> list[Batch]:
        return [b for b in self.batches if b.status == "accepted"]

    @property
    def failures(self) -> list[Batch]:
        return [b for b in self.batches if b.status == "failed"]

    @property
    def written(self) -> int:
        return sum(b.rows for b in self.accepted)

    @property
    def ok(self) -> bool:
        return self.written == self.rows

    @property
    def mutation_ids(self) -> list[str]:
        return [b.mutation_id for b in self.accepted if b.mutation_id is not None]

    @property
    def last_mutation(self) -> Mutation | None:
        ids = self.mutation_ids
        return Mutation(ids[-1]) if ids else None

    def unwritten_rows(self) -> list[int]:
        """Positions (in the rows given to the write) of every row that was not written."""
        return [row for b in self.batches if b.status != "accepted" for row in range(b.start, b.stop)]

    @property
    def unwritten_ids(self) -> list[str]:
        return [self.ids[row] for row in self.unwritten_rows()]

    def retry(self) -> WriteResult:
        """Send again only the rows that were not written."""
        if self._resend is None:
            raise ValueError("this result cannot be retried")
        return self._resend(self.unwritten_rows())

    def raise_for_failures(self) -> WriteResult:
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
        return (f"WriteResult({self.operation} into {self.index!r}: {self.written} of {self.rows} rows written "
                f"in {len(self.accepted)} of {len(self.batches)} batches)")

    def _repr_html_(self) -> str:
        return f"<p><code>{self!r}</code></p>" + self.to_frame().to_html(index=False, na_rep="")


def unique_rows(ids: Sequence[str], keep: str) -> list[int] | None:
    """Positions that keep one row per id (`keep` 'first' or 'last'), or None when ids are unique."""
    if len(set(ids)) == len(ids):
        return None
    positions: dict[str, int] = {}
    for pos, vid in enumerate(ids):
        if keep == "first":
            positions.setdefault(vid, pos)
        else:
            positions[vid] = pos
    return sorted(positions.values())


def validate_all(vectors: Vectors, dimensions: int, limits: Limits) -> list[bytes | None]:
    """Check every row before anything is sent; return each row's metadata JSON."""
    encoded: list[bytes | None] = []
    step = limits.max_vectors_per_write
    for start in range(0, len(vectors), step):
        encoded.extend(validation.check_vectors(vectors.slice(start, start + step), dimensions, limits))
    return encoded


def plan_batches(vectors: Vectors, metadata_json: Sequence[bytes | None], limits: Limits,
                 batch_size: int | None = None) -> list[Batch]:
    """Split rows into batches of at most `batch_size` (and the per-request cap) and 100 MB of NDJSON."""
    cap = limits.max_vectors_per_write if batch_size is None else min(int(batch_size), limits.max_vectors_per_write)
    if cap < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    width = vectors.values.shape[1] if vectors.values.ndim == 2 else 0
    sizes = np.fromiter(map(len, vectors.ids), dtype=np.int64, count=len(vectors))
    if any(md is not None for md in metadata_json):
        sizes += np.fromiter((len(md) if md else 0 for md in metadata_json), dtype=np.int64, count=len(vectors))
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
        except VectorizeError as exc:
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
    finally:
        if bar is not None:
            bar.close()
    return outcomes


def _send_pipelined(run: Callable[[int, Any], None], prepared: Callable[[int], Any], failed: Callable[[], bool],
                    count: int, concurrency: int) -> None:
    """`concurrency` senders take prepared bodies from a queue the calling thread keeps filled, so a sender
    that gets its answer starts the next request at once; after a failure queued bodies are not sent."""
    ready: queue.Queue[tuple[int, Any] | None] = queue.Queue(maxsize=concurrency)
    crashed: list[BaseException] = []  # not a VectorizeError: a bug, raised again in the calling thread

    def stopped() -> bool:
        return bool(crashed) or failed()

    def sender() -> None:
        while (item := ready.get()) is not None:
            if stopped():
                continue  # keep draining the queue, so the calling thread never blocks on it
            try:
                run(*item)
            except BaseException as exc:
                crashed.append(exc)

    senders = [threading.Thread(target=sender, name=f"vectorize-write-{n}", daemon=True) for n in range(concurrency)]
    for thread in senders:
        thread.start()
    try:
        for pos in range(count):
            body = None if stopped() else prepared(pos)
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
