"""The library's warnings: something Vectorize does without a word that the user would want to know,
said once per cause for each client (or gathered for a panel inside `heard_warnings`)."""

from __future__ import annotations

import sys
import threading
import warnings
import weakref
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

__all__ = ["VectorizeWarning", "warn_once", "warned", "heard_warnings"]


class VectorizeWarning(UserWarning):
    """Something Vectorize does without a word that the user would want to know: a filter clause that
    matches nothing (a property without a metadata index, vectors written before it, a value of
    another type), a query vector that cannot rank anything, a query of an index that holds nothing
    because nothing was written to it (the query cell run before the write cell), a query of a namespace that
    holds nothing (a misspelt name), or a text asked of an index with another model or pooling than the texts
    written to it from this machine. The results stay exactly Vectorize's. Also what the package did on its
    own that the user would want to know: `serve()` closing a server this process started earlier over the
    same folder, engine or port."""


_WARNED: weakref.WeakKeyDictionary[object, set[Hashable]] = weakref.WeakKeyDictionary()
_WARNED_LOCK = threading.Lock()
_LISTENING = threading.local()


@contextmanager
def heard_warnings() -> Iterator[list[str]]:
    """The library's warnings raised in this thread inside the block, each time its cause comes up,
    gathered in the list it gives (a panel shows them) instead of shown once per process."""
    heard: list[str] = []
    outer = getattr(_LISTENING, "heard", None)
    _LISTENING.heard = heard
    try:
        yield heard
    finally:
        _LISTENING.heard = outer


def warn_once(scope: object, cause: Hashable, message: str) -> None:
    """Warn with `VectorizeWarning` the first time `cause` comes up for `scope` (a backend: a new client
    warns anew, even where Python reuses a dropped one's id), pointing at the caller's own line (the first
    frame outside this package); inside `heard_warnings`, gather it."""
    heard = getattr(_LISTENING, "heard", None)
    if heard is not None:
        if message not in heard:
            heard.append(message)
        return
    with _WARNED_LOCK:
        seen = _WARNED.setdefault(scope, set())
        if cause in seen:
            return
        seen.add(cause)
    _warn(message)


def warned(scope: object, cause: Hashable) -> bool:
    """Whether `warn_once` would stay silent on `cause` for `scope` (said already, and no panel gathering), so a
    caller can spare the work of finding out whether to warn."""
    if getattr(_LISTENING, "heard", None) is not None:
        return False
    with _WARNED_LOCK:
        return cause in _WARNED.get(scope, ())


def _warn(message: str) -> None:
    """Warn at the caller's own line (the first frame outside this package), past Python's registry of what
    each line said: the once rule is `warn_once`'s, so the same text of a new cause (the next write, a new
    client) is shown under the "default" action too. The user's filters apply as ever."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("vectorize_nb."):
        frame = frame.f_back
    warnings.warn_explicit(message, VectorizeWarning, frame.f_code.co_filename, frame.f_lineno,
                           module=frame.f_globals.get("__name__") or "<string>")  # as warnings.warn names it
