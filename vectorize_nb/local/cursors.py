"""Cursors for list-vectors, each walking a pinned list of ids.

A walk starts without a cursor: it pins the index's ids at that moment (insertion order), so later
pages neither gain new vectors nor lose deleted ones. Each cursor expires `ttl` seconds after it
was issued; an expired, unknown or foreign cursor is an `InvalidCursor` error.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from collections.abc import Callable

from ..contract.errors import InvalidCursor
from ..contract.wire import decimal

__all__ = ["Cursors", "Page"]


@dataclass(slots=True)
class _Walk:
    index_id: int
    ids: list[str]
    """The pinned ids from the walk's position `start` on: a finished walk keeps only its last page."""
    total: int
    expires_at: float
    start: int = 0


@dataclass(frozen=True, slots=True)
class Page:
    ids: list[str]
    total: int
    next_cursor: str | None
    expires_at: float | None


class Cursors:
    """The walks in progress, at most `max_walks` (each pins a list of ids): past that the walk used
    longest ago goes, finished walks first. A finished walk stays until its cursor expires, so that
    the last page can be asked for again (a client retrying after a lost answer)."""

    def __init__(self, ttl: float, clock: Callable[[], float], max_walks: int = 64) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_walks = max_walks
        self._walks: OrderedDict[str, _Walk] = OrderedDict()
        self._gone: OrderedDict[str, str] = OrderedDict()
        """Why the walks that went lately went, for the error of a cursor of theirs."""

    def page(self, index_id: int, cursor: str | None, count: int, all_ids: Callable[[], list[str]]) -> Page:
        """The next `count` ids of a walk; `all_ids` gives the index's ids when a walk starts (the walk
        pins that list)."""
        now = self.clock()
        self._expire(now)
        if cursor is None:
            ids = all_ids()
            if count >= len(ids):  # done in one page: no walk is kept, none pushed out
                return Page(ids, len(ids), None, None)
            token, offset = self._start(index_id, ids, now), 0
        else:
            token, offset = self._resolve(index_id, cursor)
        walk = self._walks[token]
        end = offset + count
        if end >= walk.total:
            walk.ids, walk.start = walk.ids[offset - walk.start:], offset
            self._walks.move_to_end(token, last=False)
            return Page(walk.ids, walk.total, None, None)
        walk.expires_at = now + self.ttl
        self._walks.move_to_end(token)
        return Page(walk.ids[offset - walk.start:end - walk.start], walk.total, f"{token}.{end}", walk.expires_at)

    def _start(self, index_id: int, ids: list[str], now: float) -> str:
        token = secrets.token_urlsafe(24)
        self._walks[token] = _Walk(index_id, ids, len(ids), now + self.ttl)
        while len(self._walks) > self.max_walks:
            self._drop(next(iter(self._walks)), f"the server keeps at most {self.max_walks} walks, and newer "
                                                 "ones pushed this one out")
        return token

    def _resolve(self, index_id: int, cursor: str) -> tuple[str, int]:
        token, _, text = cursor.rpartition(".")
        walk, offset = self._walks.get(token), decimal(text)
        if walk is None or walk.index_id != index_id or offset is None or not walk.start <= offset <= walk.total:
            why = self._gone.get(token, "it is unknown here, or belongs to another index")
            raise InvalidCursor(f"the cursor cannot go on: {why}; start a new walk without a cursor")
        return token, offset

    def _expire(self, now: float) -> None:
        for token in [t for t, walk in self._walks.items() if walk.expires_at <= now]:
            self._drop(token, f"it expired ({self.ttl:g} s after it was issued)")

    def _drop(self, token: str, why: str) -> None:
        del self._walks[token]
        self._gone[token] = why
        while len(self._gone) > 16 * self.max_walks:
            self._gone.popitem(last=False)
