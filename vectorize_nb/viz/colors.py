"""How a column colours points: one colour per category (with a legend entry each), or a colour scale.

Text, booleans and whole numbers with few distinct values (at most `max_categories`) are categories;
other numbers are drawn on a continuous scale. `discrete=True` or `False` overrides the choice. Past
`max_categories` categories the most frequent keep their colour and the rest share one entry, "other".
Points without a value are grey (MISSING_COLOR) either way: a category of their own, "(none)", or off
the scale.

A figure of a sample is coloured from the whole column when it is given (`universe`): the choice, the
categories, their order, the palette and a scale's range are then those of the whole index, so every
figure of one index gives a category the same colour, whichever categories its sample holds.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Hashable

import numpy as np
import pandas as pd

from ..contract.numbers import doubles
from ..extras import require
from ..frames import is_missing

__all__ = ["Coloring", "coloring", "number_text", "as_shown", "palette", "MAX_CATEGORIES", "MISSING",
           "OTHER_COLOR", "MISSING_COLOR", "SCALE"]

MAX_CATEGORIES = 20
"""Whole numbers with at most this many distinct values are categories; past it a legend shows the
most frequent this many categories and "other"."""
MISSING = "(none)"
"""The category of points without a value in the colour column."""
OTHER_COLOR = "#7f7f7f"
MISSING_COLOR = "#b4b4b4"
SCALE = "Viridis"
_UNUSED = {"#565656", "#E2E2E2", "#222A2A"}  # greys, and a near-black like the query's


@dataclass(frozen=True, eq=False)
class Coloring:
    """The colours of one column, row for row.

    Either `numbers` (a continuous scale: one value per row, drawn through `coloraxis`) or `labels`
    (one category label per row) with `categories` (legend order: `kept`, then "other", then missing)
    and `colors` (label -> colour).
    """

    column: Hashable
    numbers: np.ndarray | None = None
    labels: np.ndarray | None = None
    categories: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    """The categories with a colour of their own: `categories` without "other" and missing values."""
    colors: dict[str, str] = field(default_factory=dict)
    span: tuple[float, float] | None = None
    """A scale's range, when it is the whole column's rather than the rows'."""

    @property
    def discrete(self) -> bool:
        """True when each category has a colour (and a legend entry)."""
        return self.labels is not None

    @property
    def coloraxis(self) -> dict[str, Any] | None:
        """The layout's `coloraxis` for a continuous scale (None for categories)."""
        if self.discrete:
            return None
        axis: dict[str, Any] = {"colorscale": SCALE, "colorbar": {"title": {"text": str(self.column)}}}
        if self.span is not None:
            axis.update(cmin=self.span[0], cmax=self.span[1])
        return axis

    def marker(self, rows: np.ndarray) -> dict[str, Any]:
        """Marker settings that colour some of the rows.

        Parameters
        ----------
        rows : ndarray of int
            Positions in the column.

        Returns
        -------
        dict
            `color`: the rows' values on the scale (with `coloraxis`; MISSING_COLOR for a row without
            one, which plotly would draw in its dark grey, close to the scale's low end), or their
            categories' colours.
        """
        if self.labels is not None:
            return {"color": [self.colors[label] for label in self.labels[rows]]}
        assert self.numbers is not None
        numbers = self.numbers[rows]
        if not np.isnan(numbers).any():
            return {"color": numbers, "coloraxis": "coloraxis"}
        return {"color": [MISSING_COLOR if np.isnan(v) else v for v in numbers.tolist()], "coloraxis": "coloraxis"}

    def missing(self, rows: np.ndarray) -> np.ndarray:
        """Which of the rows (positions in the column) have no value on the scale (none for categories,
        where missing values are a category of their own)."""
        if self.numbers is None:
            return np.zeros(len(rows), dtype=bool)
        missing: np.ndarray = np.isnan(self.numbers[rows])
        return missing


def coloring(values: pd.Series, name: Hashable, discrete: bool | None = None,
             max_categories: int = MAX_CATEGORIES, universe: pd.Series | None = None) -> Coloring:
    """The colours of a column (see the module docstring).

    Parameters
    ----------
    values : Series
        The column, one value per point.
    name : str
        Its name: the title of the legend group or of the colour bar.
    discrete : bool, optional
        True: categories whatever the values; False: a colour scale (numbers only). Default: decided
        from the values.
    max_categories : int, default 20
        Whole numbers with at most this many distinct values are categories; past this many
        categories the most frequent keep a colour and the rest share "other (N more)".
    universe : Series, optional
        Every value of the column when `values` are some of them (a sample of an index): the colours
        are decided from it (see the module docstring).

    Returns
    -------
    Coloring

    Raises
    ------
    ValueError
        `discrete=False` for a column that is not numbers, or `max_categories` below 1.
    """
    if max_categories < 1:
        raise ValueError(f"max_categories must be at least 1, got {max_categories}")
    whole = values if universe is None else universe
    numbers = _numbers(whole)
    if numbers is None:
        if discrete is False:
            raise ValueError(f"color column {name!r} does not hold numbers, so it cannot be drawn on a colour "
                             "scale: leave discrete=None for one colour per category")
        return _categories(values.map(_text_label), whole.map(_text_label), name, max_categories, _reading_order)
    if discrete is None:
        present = numbers[~np.isnan(numbers)]
        discrete = bool(np.all(present == np.round(present))) and whole.dropna().nunique() <= max_categories
    if not discrete:
        mine = numbers if universe is None else pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)
        known = universe is not None and not np.isnan(numbers).all()
        return Coloring(name, numbers=mine, span=(float(np.nanmin(numbers)), float(np.nanmax(numbers))) if known
                        else None)
    return _categories(_number_labels(values), _number_labels(whole), name, max_categories, _number_order)


def _number_labels(values: pd.Series) -> pd.Series:
    """The values' labels, from the values themselves: float64 holds an Int64 or UInt64 past 2**53 inexactly."""
    return pd.Series([MISSING if pd.isna(v) else number_text(v) for v in as_shown(values).tolist()],
                     index=values.index, dtype=object)


def as_shown(values: pd.Series) -> pd.Series:
    """A column of narrower floats (float32, float16, Float32) as the doubles of their shortest decimals, the
    numbers pandas shows (0.1, not 0.10000000149011612); any other column as it is."""
    dtype = getattr(values.dtype, "numpy_dtype", values.dtype)  # Float32's is float32
    if not (isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize < 8):
        return values
    return pd.Series(doubles(values.to_numpy(dtype=dtype, na_value=np.nan)), index=values.index, name=values.name)


def _number_order(label: str) -> int | float:
    """A label's number, exact for a whole one (int and float compare exactly)."""
    return int(label) if label.lstrip("-").isdigit() else float(label)


def number_text(value: float | int) -> str:
    """A number as a label: whole numbers exactly (1000001, 1700000000123, an integer past 2**53), others
    with the fewest digits that tell them from every other float (0.25, 2.5e-12, 1e+300)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    value = float(value) + 0.0  # -0.0 is 0
    return f"{value:.0f}" if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def _numbers(values: pd.Series) -> np.ndarray | None:
    """The column as float64 (NaN where missing) when it holds numbers and no booleans, else None."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_numeric_dtype(dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    present = values.dropna()
    if len(present) and all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                            for v in present):
        return pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def _reading_order(label: str) -> tuple[list[str | int], str]:
    """A sort key that puts text in the order a reader counts: "ns-2" before "ns-10", case aside."""
    folded = label.casefold()
    parts: list[str | int] = [int(part) if position % 2 else part
                              for position, part in enumerate(re.split(r"(\d+)", folded))]
    return parts, folded


def _text_label(value: Any) -> str:
    return MISSING if is_missing(value) else str(value)


def _categories(labels: pd.Series, everything: pd.Series, name: Hashable, max_categories: int,
                sort_key: Any) -> Coloring:
    """`labels` (one per row) coloured by the `max_categories` most frequent of `everything` (the whole
    column's labels) in their natural order, then "other", then missing."""
    counts = everything[everything != MISSING].value_counts(sort=False)
    kept = sorted(counts.sort_values(ascending=False, kind="stable").index[:max_categories], key=sort_key)
    folded = len(counts) - len(kept)
    other = f"other ({folded} more)"
    shown = labels.where(labels.isin(kept) | (labels == MISSING), other)
    colors = dict(zip(kept, palette(len(kept))))
    if folded or (shown == other).any():  # a value written since the whole column was read
        colors[other] = OTHER_COLOR
    if (everything == MISSING).any() or (labels == MISSING).any():
        colors[MISSING] = MISSING_COLOR
    return Coloring(name, labels=shown.to_numpy(dtype=object), categories=tuple(colors), kept=tuple(kept),
                    colors=colors)


def palette(count: int) -> list[str]:
    """`count` distinct colours: plotly's ten up to ten; past that plotly's "Alphabet", "Dark24" and
    "Light24" (71 colours), without the greys that "other" and missing values use and the near-black of
    the query (then repeated).

    Parameters
    ----------
    count : int
        How many colours.

    Returns
    -------
    list of str
        Hex colours.
    """
    qualitative = require("plotly.colors", "drawing figures").qualitative
    colors: list[str] = qualitative.Plotly
    if count > len(colors):
        colors = [color for color in qualitative.Alphabet + qualitative.Dark24 + qualitative.Light24
                  if color.upper() not in _UNUSED]
    return [colors[i % len(colors)] for i in range(count)]
