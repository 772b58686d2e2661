"""Secrets as this package holds and shows them: an API token kept in a `Secret` (shown as ***, never pickled,
read only where it is sent), and a URL as it may be shown (`shown_url`: no user name, password or query)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Secret", "shown_url", "quotable", "SHORTEST_HIDDEN"]

SHORTEST_HIDDEN = 8
"""Characters of the shortest token that a text quoting it shows as *** (Cloudflare's API tokens have 40)."""


class Secret:
    """A token from the moment it is read (an argument, the environment): its repr and str are ***, as is any
    traceback's view of the locals holding it (IPython's %xmode Verbose); `vars()` has nothing to show, pickle
    refuses it, and `reveal()` gives the text to the one place that sends it."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    @classmethod
    def of(cls, text: str | Secret | None) -> Secret | None:
        return text if text is None or isinstance(text, Secret) else cls(text)

    def reveal(self) -> str:
        return self._text

    def hidden_in(self, data: bytes) -> bytes:
        """`data` with every occurrence of the token as ***; unchanged for a token shorter than `SHORTEST_HIDDEN`
        characters, which is no secret (any text may spell it: hiding "t" garbles every word with a t)."""
        token = self._text.encode("utf-8", errors="replace")
        return data.replace(token, b"***") if len(token) >= SHORTEST_HIDDEN and token in data else data

    def __bool__(self) -> bool:
        return bool(self._text)

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("an API token is not pickled: it would be stored in clear; connect again where it is needed")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def shown_url(url: str) -> str:
    """A URL (or a target) as it may be shown: a user name and password before an "@" are ***, and so is a query
    or a fragment ("?***"), which may hold a token."""
    shown = re.sub(r"^([^/]*//)?[^/]*@", r"\1***@", url)
    cut = re.search(r"[?#]", shown)
    return shown if cut is None else shown[:cut.start()] + "?***"


def quotable(value: Any) -> Any:
    """`value` as a message may quote it: a string (a URL given where a client belongs) as `shown_url` shows it."""
    return shown_url(value) if isinstance(value, str) else value
