"""How much of its deletes the mutation log keeps: the ids of an index's newest applied deletes, up to KEPT
(and always the newest one's). An engine further behind than those reads the index again (`state.py`).

A store looks at the log once KEPT more ids were deleted through it, and when it opens a folder, so a delete
costs no more than before: the look is a window over the deletes that still hold ids. A delete's row is
deleted and written again without its ids, not updated: SQLite merges (and reuses) pages that deletes leave
mostly empty, never those that updates shrink.
"""

from __future__ import annotations

import sqlite3

from .rows import MutationRow, columns

__all__ = ["KEPT", "DeletedIds"]

KEPT = 10_000
"""Per index, the log keeps the ids of its newest applied deletes up to this many (and always the newest one's)."""

_MUTATION = columns(MutationRow)
_LET_GO = f"""SELECT {_MUTATION.replace("payload", "NULL")} FROM mutations WHERE seq IN (SELECT seq FROM (
SELECT seq, sum(count) OVER (PARTITION BY index_id ORDER BY seq DESC) - count AS newer FROM mutations
WHERE kind = 'delete' AND payload IS NOT NULL AND applied_at IS NOT NULL AND index_id = coalesce(?, index_id))
WHERE newer >= ?)"""


class DeletedIds:
    """The ids deleted through one store since it last let go of older ones, per index."""

    def __init__(self) -> None:
        self._since: dict[int, int] = {}

    def deleted(self, con: sqlite3.Connection, index_id: int, count: int) -> None:
        """Count a delete of `count` ids (inside its transaction), and let go of older ids once KEPT more came."""
        self._since[index_id] = self._since.get(index_id, 0) + count
        if self._since[index_id] >= KEPT:
            self._since[index_id] = 0
            let_go(con, index_id)


def let_go(con: sqlite3.Connection, index_id: int | None = None) -> None:
    """Drop the ids of an index's (None: every index's) applied deletes but the newest KEPT (inside the
    caller's transaction)."""
    rows = con.execute(_LET_GO, (index_id, KEPT)).fetchall()
    if rows:
        con.executemany("DELETE FROM mutations WHERE seq = ?", [(row[0],) for row in rows])  # seq: the first column
        con.executemany(f"INSERT INTO mutations ({_MUTATION}) VALUES ({', '.join('?' * len(rows[0]))})", rows)
