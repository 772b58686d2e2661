"""Frames as small HTML tables for the panels: values escaped, missing ones blank, long ones cut with an
ellipsis (the whole text in the cell's tooltip), inside a box that scrolls past a few dozen rows."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from ..viz.colors import number_text

__all__ = ["table_html", "LONG_CELL"]

LONG_CELL = 40
"""A cell whose text is longer is cut to the column's width, with the whole text in its tooltip."""
_CSS = ("<style>.vectorize-nb-scroll{max-height:30em;max-width:100%;overflow:auto}"
        ".vectorize-nb-table{border-collapse:collapse;margin:4px 0}"
        ".vectorize-nb-table th,.vectorize-nb-table td{padding:2px 10px;text-align:left;white-space:nowrap;"
        "border-bottom:1px solid #e0e0e0}.vectorize-nb-table th{background:#f3f3f3;position:sticky;top:0}"
        ".vectorize-nb-cut{max-width:24em;overflow:hidden;text-overflow:ellipsis}</style>")


def table_html(frame: pd.DataFrame, empty: str = "nothing yet") -> str:
    """A frame as a small HTML table, or `empty` in italics when it has no rows.

    Values are escaped and missing ones blank (None, NaN); a text longer than LONG_CELL characters is
    cut with an ellipsis and whole in the cell's tooltip. Past about a dozen rows the table scrolls in its box.

    Parameters
    ----------
    frame : DataFrame
    empty : str, default "nothing yet"
        What to say when there is nothing to show.
    """
    if frame.empty:
        return f"<i>{html.escape(empty)}</i>"
    head = "".join(f"<th>{html.escape(str(label))}</th>" for label in frame.columns)
    columns = [_texts(frame.iloc[:, position]) for position in range(frame.shape[1])]
    rows = "".join("<tr>" + "".join(map(_cell, row)) + "</tr>" for row in zip(*columns))
    return (f'{_CSS}<div class="vectorize-nb-scroll"><table class="vectorize-nb-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def _cell(text: str) -> str:
    shown = html.escape(text)
    if len(text) <= LONG_CELL:
        return f"<td>{shown}</td>"
    return f'<td title="{shown}"><div class="vectorize-nb-cut">{shown}</div></td>'


def _texts(column: pd.Series) -> list[str]:
    """A column's values as text; whole floats as numbers (1999, not 1999.0), others as pandas shows the
    column (0.980739, or 1.000000e-07 in a column that holds a very small or very large number)."""
    if pd.api.types.is_float_dtype(column):
        numbers = pd.Series(column.to_numpy(dtype=np.float64, na_value=np.nan))  # Float64 prints 1e-07 as 0.0
        present = numbers.dropna()
        if bool((present == present.round()).all()):
            return ["" if pd.isna(value) else number_text(value) for value in numbers]
        texts = numbers.to_string(index=False).splitlines()
        return ["" if pd.isna(value) else text.strip() for value, text in zip(numbers, texts)]
    return [_text(value) for value in column]


def _text(value: Any) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""  # to_html's na_rep would leave None in an object column as "None"
    return str(value)
