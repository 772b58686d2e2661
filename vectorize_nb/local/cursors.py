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

__all__ = ["Cursors", "Page"]


@dataclass(slots=True)
class _Walk:
    index_id: int
    ids: list[str]
    expires_at: float


@dataclass(frozen=True, slots=True)
class Page:
    ids: list[str]
    total: int
    next_cursor: str | None
    expires_at: float | None


class Cursors:
    def __init__(self, ttl: float, clock: Callable[[], float], max_walks: int = 64) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_walks = max_walks
        self._walks: OrderedDict[str, _Walk] = OrderedDict()

    def page(self, index_id: int, cursor: str | None, count: int, all_ids: Callable[[], list[str]]) -> Page:
        """The next `count` ids of a walk; `all_ids` gives the index's ids when a walk starts (the walk
        pins that list)."""
        now = self.clock()
        self._expire(now)
        if cursor is None:
            token, offset = self._start(index_id, all_ids(), now), 0
        else:
            token, offset = self._resolve(index_id, cursor)
        walk = self._walks[token]
        end = offset + count
        if end >= len(walk.ids):
            del self._walks[token]
            return Page(walk.ids[offset:], len(walk.ids), None, None)
        walk.expires_at = now + self.ttl
        self._walks.move_to_end(token)
        return Page(walk.ids[offset:end], len(walk.ids), f"{token}.{end}", walk.expires_at)

    def _start(self, index_id: int, ids: list[str], now: float) -> str:
        token = secrets.token_urlsafe(24)
        self._walks[token] = _Walk(index_id, ids, now + self.ttl)
        while len(self._walks) > self.max_walks:
            self._walks.popitem(last=False)
        return token

    def _resolve(self, index_id: int, cursor: str) -> tuple[str, int]:
        token, _, offset = cursor.rpartition(".")
        walk = self._walks.get(token)
        if walk is None or walk.index_id != index_id or not offset.isdigit() or int(offset) > len(walk.ids):
            raise InvalidCursor(
                f"the cursor is unknown or expired (cursors last {self.ttl:g} s after they are issued); "
                "start a new walk without a cursor")
        return token, int(offset)

    def _expire(self, now: float) -> None:
        for token in [t for t, walk in self._walks.items() if walk.expires_at <= now]:
            del self._walks[token]
