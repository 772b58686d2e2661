"""Checking a batch of texts before anything runs: every row a non-empty str."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence

from ..contract.errors import BadEmbeddingInput, EmptyText, TextNotString, TextTooLong

__all__ = ["check_texts", "too_long", "for_rows"]

_SHOWN = 5


def check_texts(texts: str | Iterable[str]) -> list[str]:
    """The texts as a list, after checking every row.

    A single str is one text (as Workers AI takes it), never a sequence of characters.

    Raises
    ------
    TextNotString
        A row is None, NaN or not a str, or `texts` is a DataFrame (whose column of texts is wanted); the
        message names the rows (0-based positions), `row` the first.
    EmptyText
        A row is the empty string; `row` is the first.
    """
    if isinstance(texts, str):
        texts = [texts]
    elif _is_frame(texts):
        refused = TextNotString(f"texts must be a str or a sequence of str, not a DataFrame: pass its column of "
                                f"texts, {_column_of(texts)} (a frame iterates over its column names, not its rows)")
        refused.hint = "df['text'] is the column (a Series); df[['text']] is a frame of one column"
        raise refused
    elif isinstance(texts, set | frozenset):
        raise TextNotString("texts must be a str or a sequence of str, not a set: a set has no order to give the "
                            "vectors' rows, pass sorted(texts) or a list")
    elif isinstance(texts, bytes | dict) or not isinstance(texts, Iterable):
        raise TextNotString(f"texts must be a str or a sequence of str, not {type(texts).__name__}")
    rows = list(texts)
    bad = [i for i, text in enumerate(rows) if not isinstance(text, str) or not text]
    if not bad:
        _check_unicode(rows)
        return rows
    wrong = [i for i in bad if not isinstance(rows[i], str)]
    if len(wrong) == 1:
        error: BadEmbeddingInput = TextNotString(f"row {wrong[0]} is {_describe(rows[wrong[0]])}, not text")
    elif wrong:
        error = TextNotString(f"{_rows(wrong)} not text (row {wrong[0]} is {_describe(rows[wrong[0]])})")
    else:
        error = EmptyText(f"{_rows(bad)} empty")
    error.row = (wrong or bad)[0]
    raise error


def _is_frame(texts: object) -> bool:
    """Whether `texts` is a pandas DataFrame (pandas is not imported for this: no frame exists without it)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(texts, pandas.DataFrame)


def _column_of(frame: object) -> str:
    columns = list(getattr(frame, "columns", []))
    return f"df[{columns[0]!r}]" if len(columns) == 1 else "df[column]"


def _check_unicode(rows: list[str]) -> None:
    """A lone surrogate (what decoding with errors="surrogateescape" leaves of a byte that is not UTF-8)
    is no Unicode text: no tokenizer or JSON body can carry it."""
    if _is_unicode("\n".join(rows)):
        return
    row = next(i for i, text in enumerate(rows) if not _is_unicode(text))
    error = BadEmbeddingInput(f"row {row} holds a lone surrogate, which is not Unicode text (decoded with "
                              "errors='surrogateescape'?); decode its bytes with their real encoding")
    error.row = row
    raise error


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rows(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:_SHOWN])) + (f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else "")
    return f"row {shown} is" if len(rows) == 1 else f"rows {shown} are"


def _describe(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, float) and math.isnan(value):
        return "NaN (a missing value)"
    return f"{value!r:.40} of type {type(value).__name__}"


def _position(row: int) -> str:
    return f"row {row}"


def too_long(rows: Sequence[int], said: str, named: Callable[[int], str] = _position) -> TextTooLong:
    """TextTooLong about the text of rows[0] (`said` of it: "has 602 tokens; ..."), the other rows over the limit
    counted and the first of them named after it, each by `named`."""
    first, others = rows[0], list(rows[1:])
    shown = ", ".join(map(named, others[:_SHOWN])) + (f" and {len(others) - _SHOWN} more" if len(others) > _SHOWN
                                                      else "")
    more = f" ({len(others)} more {'rows are' if len(others) > 1 else 'row is'} over it too: {shown})" if others \
        else ""
    error = TextTooLong(f"{named(first)} {said}{more}")
    error.row, error.also, error.said = first, tuple(others), said
    return error


def for_rows(error: BadEmbeddingInput, where: Callable[[int], Sequence[int]],
             named: Callable[[int], str] = _position) -> BadEmbeddingInput:
    """`error` about the rows of a caller's list: each of its rows is the rows `where` gives (all those that hold
    its text, where the list was embedded one text once), named by `named`."""
    if error.row is None:
        return error
    first = where(error.row)[0]
    if not isinstance(error, TextTooLong) or not error.said:
        return error.for_row(first, named(first))
    others = sorted({row for moved in (error.row, *error.also) for row in where(moved)} - {first})
    moved = too_long([first, *others], error.said, named)
    moved.operation = error.operation
    return moved
