"""Pieces shared by the figures: trace types, marker colours, hover text, axis titles."""

from __future__ import annotations

from typing import Any
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from ..extras import require
from .inputs import check_columns
from .projection import Projection

__all__ = ["plotly", "palette", "scatter_type", "positions_of", "coloring", "hover_columns", "hover_text",
           "axis_titles", "axis_layout", "WEBGL_ABOVE", "MAX_POINTS", "MUTED", "TEMPLATE"]

WEBGL_ABOVE = 1_000
"""More points than this are drawn with WebGL (Scattergl), as plotly express does."""
MAX_POINTS = 20_000
"""More points than this are sampled: past it a notebook's output grows by megabytes per figure."""
MUTED = "#c8c8c8"
TEMPLATE = "plotly_white"
_MISSING = "(none)"


def plotly() -> Any:
    """plotly.graph_objects, or an ImportError naming the extra to install."""
    return require("plotly.graph_objects", "drawing figures")


def scatter_type(go: Any, n_components: int, points: int) -> Any:
    if n_components == 3:
        return go.Scatter3d
    return go.Scattergl if points > WEBGL_ABOVE else go.Scatter


def positions_of(coords: np.ndarray) -> dict[str, np.ndarray]:
    """{"x": ..., "y": ...} (and "z") for a trace."""
    return dict(zip("xyz", np.asarray(coords, dtype=np.float64).T))


def axis_titles(fitted: Projection) -> list[str]:
    """"PC 1 (12%)", ... for PCA; "UMAP 1", ... for UMAP."""
    if fitted.method == "pca":
        return [f"PC {i + 1} ({share:.0%})" for i, share in enumerate(fitted.explained)]
    return [f"UMAP {i + 1}" for i in range(fitted.n_components)]


def axis_layout(fitted: Projection) -> dict[str, Any]:
    titles = axis_titles(fitted)
    if fitted.n_components == 3:
        return {"scene": {f"{axis}axis": {"title": {"text": text}} for axis, text in zip("xyz", titles)}}
    return {"xaxis": {"title": {"text": titles[0]}}, "yaxis": {"title": {"text": titles[1]}}}


def coloring(values: pd.Series, name: Hashable) -> tuple[np.ndarray, dict[str, Any]]:
    """Marker colour values and the layout's coloraxis: a colour scale for numbers, one colour per
    category otherwise (on a stepped scale, so a trace keeps its name whatever the categories)."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return numbers, {"colorscale": "Viridis", "colorbar": {"title": {"text": str(name)}}}
    labels = values.map(lambda v: _MISSING if _missing(v) else str(v))
    categories = sorted(set(labels), key=lambda c: (c == _MISSING, c))
    codes = pd.Categorical(labels, categories=categories).codes.astype(np.float64)
    chosen = palette(len(categories))
    colors = [MUTED if c == _MISSING else chosen[i] for i, c in enumerate(categories)]
    steps = [[edge / len(colors), color] for i, color in enumerate(colors) for edge in (i, i + 1)]
    axis = {"colorscale": steps, "cmin": -0.5, "cmax": len(colors) - 0.5,
            "colorbar": {"title": {"text": str(name)}, "tickvals": list(range(len(colors))), "ticktext": categories}}
    return codes, axis


def palette(count: int) -> list[str]:
    qualitative = require("plotly.colors", "drawing figures").qualitative
    colors = qualitative.Plotly if count <= len(qualitative.Plotly) else qualitative.Dark24 + qualitative.Light24
    return [colors[i % len(colors)] for i in range(count)]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def hover_columns(table: pd.DataFrame, color: Hashable | None, hover: Any) -> list[Hashable]:
    """The columns a hover shows after the id: namespace when any is set, the colour column, then `hover`
    (a column, a list of columns, or "all" for every column)."""
    if hover == "all":
        return [name for name in table.columns if name != "id"]
    asked: list[Hashable] = [] if hover is None else [hover] if isinstance(hover, (str, int)) else list(hover)
    check_columns(table, asked, "hover")
    shown: list[Hashable] = ["namespace"] if "namespace" in table.columns and table["namespace"].notna().any() else []
    return list(dict.fromkeys(shown + ([color] if color is not None else []) + asked))


def hover_text(table: pd.DataFrame, columns: Sequence[Hashable], first: dict[Hashable, Sequence[Any]] | None = None
               ) -> list[str]:
    """One "<b>id</b><br>name=value<br>..." string per row; `first` adds fields (rank, score) after the id."""
    fields: dict[Hashable, Sequence[Any]] = {**(first or {})}
    fields.update((name, table[name].tolist()) for name in columns if name in table)
    parts = [[f"<b>{vid}</b>" for vid in table["id"].tolist()]]
    parts += [[f"{name}={_text(v)}" for v in values] for name, values in fields.items()]
    return ["<br>".join(row) for row in zip(*parts)]


def _text(value: Any) -> str:
    if isinstance(value, float):
        return "–" if np.isnan(value) else f"{value:.4g}"
    return "–" if value is None else str(value)
