"""The root of the exception tree: `VectorizeError` (code, status, hint, the operation that failed, Cloudflare's
envelope), `during` to name that operation, and `quoted` for an id or a key in a message. `errors` builds the tree
on it and re-exports these."""

from __future__ import annotations

from typing import Any, ClassVar


class VectorizeError(Exception):
    """Base class. `code` is Cloudflare's error code, `status` the HTTP status it travels with (0 for
    the client's own errors, which no answer carries: no answer came, a wait ran out, a bad argument)."""

    code: ClassVar[int] = 0
    status: ClassVar[int] = 400
    hint: str = ""
    """What to do about it (a class's own; an instance may have a fitter one, e.g. for the server that answered)."""
    retryable: ClassVar[bool] = False
    """Whether sending the same request again can succeed (a rate limit, a failing server, no answer)."""

    def __init__(self, message: str, *, operation: str | None = None, status: int | None = None,
                 code: int | None = None):
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.nothing_written = False
        """Set where a write was refused before any of it was sent (`during(..., nothing_written=True)`)."""
        self.maybe_applied = False
        """Set where the server may have done what was asked all the same: an attempt of the request went
        out whole and got no answer (or a gateway's 502/504) before this error."""
        # An error rebuilt from a response keeps the status and code it arrived with.
        if status is not None:
            self.status = status  # type: ignore[misc]
        if code is not None:
            self.code = code  # type: ignore[misc]

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}" if self.code else self.message
        if self.operation:
            text += f" (during {self.operation})"
        if self.nothing_written:
            text += ". Nothing was written"
        if self.hint:
            text += f". {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.operation, self.status, self.code))

    def with_operation(self, operation: str) -> VectorizeError:
        """Name the operation that failed, unless an inner layer already did."""
        if self.operation is None:
            self.operation = operation
        return self

    def to_envelope(self) -> dict[str, Any]:
        """Cloudflare's v4 envelope for this error."""
        return {"result": None, "success": False,
                "errors": [{"code": self.code, "message": self.message}], "messages": []}


class during:
    """Name `operation` in any VectorizeError raised inside (unless an inner layer named one already);
    with `nothing_written`, the error also says that none of the write was sent.

    A class, not a `contextmanager`: a query enters two, each 8 us where a generator's costs 20 us
    right after a scan has emptied the caches."""

    __slots__ = ("operation", "nothing_written")

    def __init__(self, operation: str, *, nothing_written: bool = False) -> None:
        self.operation, self.nothing_written = operation, nothing_written

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, VectorizeError):
            exc.with_operation(self.operation)
            exc.nothing_written = exc.nothing_written or self.nothing_written


def quoted(text: str, limit: int = 80) -> str:
    """An id or a key as a message shows it, in double quotes (`id="doc-1"`), cut after `limit` characters."""
    return '"' + (text if len(text) <= limit else text[:limit] + "…") + '"'


def _rebuild(cls: type[VectorizeError], message: str, operation: str | None, status: int,
             code: int) -> VectorizeError:
    return cls(message, operation=operation, status=status, code=code)
