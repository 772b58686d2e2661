"""What a write did, batch by batch, and the exceptions that carry it when it did not finish."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from .contract.errors import VectorizeError
from .contract.models import Mutation

__all__ = ["INSERT_RULE", "DELETE_RULE", "Batch", "WriteResult", "WriteIncomplete", "WriteInterrupted",
           "BatchesInterrupted", "interrupted"]

INSERT_RULE = "an id already stored keeps its vector and metadata"
"""Vectorize's rule for an insert, said once in its result: an accepted row may have changed nothing."""
DELETE_RULE = "an id not stored is accepted too, and ignored"
"""Vectorize's rule for a delete: its answer does not say which of the ids it held."""
_RULES = {"insert": INSERT_RULE, "delete": DELETE_RULE}
_SHOWN_BATCHES = 20
"""Batches a result's HTML shows at most (the first and the last ones), as pandas shows a long frame."""


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows [start, stop) of a write, and what became of them: `status` is "accepted" (a mutation id
    came back), "failed" (refused, nothing written), "unconfirmed" (the request went out and no answer
    came: it may have been written) or "not sent". `error` is a VectorizeError, or the local engine's
    storage error (a full disk, a read-only folder) that rolled the batch back. `applied`: the answer said the
    batch was applied already (the embedded engine with no `apply_delay`)."""

    number: int
    start: int
    stop: int
    mutation_id: str | None = None
    applied: bool = False
    error: Exception | None = None
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
        if first is not None and getattr(first, "retryable", False):
            then = f"err.result.retry() sends the {rows}"  # after a full stop: code, as it is written
        else:
            then = (f"Sending them again would fail the same way: fix the cause, then err.result.retry() sends the "
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
        self._waited = False

    @property
    def applied(self) -> bool:
        """Whether the accepted batches are applied: waited for (`wait=True`, or `index.wait(result)`), or applied
        before their answers came (the embedded engine with no `apply_delay`). Its display then says "applied"."""
        return self._waited or (bool(self.accepted) and all(b.applied for b in self.accepted))

    @applied.setter
    def applied(self, waited: bool) -> None:
        self._waited = waited

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
        return Mutation(ids[-1], applied=self.applied) if ids else None

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
            return "ids", "accepted", "on", "deleting an id twice is harmless"
        if self.operation == "insert":  # an id already stored keeps its vector, and an answer does not say which were
            return "rows", "accepted", "into", "an insert keeps a stored vector, so a row sent twice is stored once"
        return "rows", "written", "into", "a row sent twice is stored once"

    def tally(self) -> str:
        """Rows written (ids accepted), and where some may have been, how many may and how many were not."""
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
        rule = f"; {_RULES[self.operation]}" if self.operation in _RULES else ""
        return (f"WriteResult({self.operation} {into} {self.index!r}: {self.written} of {self.rows} {rows} {done}"
                f"{' and applied' if self.applied else ''} in {len(self.accepted)} of {len(self.batches)} batches"
                + (f", {maybe} may have been {done}" if maybe else "") + f"{rule})")

    def _repr_html_(self) -> str:
        later = "" if self.applied or not self.accepted else (
            "<p>Vectorize applies a write a few seconds after accepting it: <code>index.wait(result)</code> waits "
            "for that</p>")
        table = self.to_frame().fillna("").to_html(index=False, max_rows=_SHOWN_BATCHES)
        more = "" if len(self.batches) <= _SHOWN_BATCHES else (
            f"<p>{len(self.batches)} batches: <code>result.to_frame()</code> lists every one</p>")
        return f"<p><code>{self!r}</code></p>{later}{table}{more}"


class WriteInterrupted(KeyboardInterrupt):
    """A write stopped by KeyboardInterrupt (Jupyter's stop button) between or during its batches. It is a
    KeyboardInterrupt, so the cell stops as usual; `result` says which batches were written, and
    `result.retry()` sends the rest. A batch is written whole or not at all; the one whose request was
    under way when the interrupt came is "unconfirmed": it may have been written."""

    def __init__(self, result: WriteResult) -> None:
        rows, done, into, twice = result.terms()
        missing = result.rows - result.written
        super().__init__(
            f"{result.operation} {into} {result.index!r} was interrupted: {result.tally()}. The exception's "
            f".result says which (in a notebook: sys.last_value.result); .result.retry() sends the {missing} "
            f"{rows} not known to be {done} ({twice})")
        self.result = result


class BatchesInterrupted(KeyboardInterrupt):
    """What `send_batches` raises when interrupted: every batch's outcome so far (for `WriteInterrupted`)."""

    def __init__(self, batches: list[Batch]) -> None:
        super().__init__("interrupted")
        self.batches = batches


def interrupted(batch: Batch) -> Batch:
    """A batch whose request was under way when the interrupt came: it may have been written."""
    return replace(batch, error=VectorizeError("interrupted before its answer came"), maybe_written=True)


def _rows(batches: Sequence[Batch]) -> int:
    return sum(b.rows for b in batches)
