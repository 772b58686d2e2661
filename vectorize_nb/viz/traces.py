"""Pieces shared by the figures: trace types, hover text, axis titles, titles."""

from __future__ import annotations

import html
import json
import textwrap
from typing import Any
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from ..extras import require
from ..results import metadata_column
from ..frames import is_missing
from .colors import as_shown, number_text
from .projection import Projection

__all__ = ["plotly", "scatter_type", "positions_of", "legend_entry", "hover_columns", "asked_hover", "hover_text",
           "axis_titles", "axis_layout", "heading", "shorten", "short", "plain", "score_meaning", "WEBGL_ABOVE",
           "MAX_POINTS", "MUTED", "TEMPLATE"]

WEBGL_ABOVE = 1_000
"""More points than this are drawn with WebGL (Scattergl), as plotly express does."""
MAX_POINTS = 20_000
"""More points than this are sampled: past it a notebook's output grows by megabytes per figure."""
MUTED = "#c8c8c8"
LEFT_OUT = {"symbol": "circle-open", "color": "#aaaaaa", "opacity": 0.7}
"""The marker of points a filter or namespace leaves out: grey rings, which a filled grey point without a
value in the colour column ("(none)") is not mistaken for."""
TEMPLATE = "plotly_white"
_NAME_LONGEST, _NAME_TAIL = 40, 12  # a name fits a 900 px PNG's title twice: "Neighbours of <id> in <index>"
_HOVER_WIDTH, _HOVER_LINES = 60, 8  # a hover label is as wide as its longest line: long text is wrapped, then cut
_SCORES = {"cosine": "cosine similarity: higher is closer", "euclidean": "euclidean distance: lower is closer",
           "dot-product": "negative dot product: lower is closer"}


def plotly() -> Any:
    """plotly.graph_objects, or an ImportError naming the extra to install."""
    return require("plotly.graph_objects", "drawing figures")


def scatter_type(go: Any, n_components: int, points: int) -> Any:
    """Scatter3d in 3-D; in 2-D Scattergl past WEBGL_ABOVE points, else Scatter (SVG).

    Parameters
    ----------
    go : module
        plotly.graph_objects.
    n_components : {2, 3}
    points : int
        How many points the figure draws.
    """
    if n_components == 3:
        return go.Scatter3d
    return go.Scattergl if points > WEBGL_ABOVE else go.Scatter


def positions_of(coords: np.ndarray) -> dict[str, np.ndarray]:
    """{"x": ..., "y": ...} (and "z") for a trace.

    Parameters
    ----------
    coords : ndarray of shape (n, 2) or (n, 3)
    """
    return dict(zip("xyz", np.asarray(coords, dtype=np.float64).T))


def legend_entry(kind: Any, role: str, marker: dict[str, Any], n_components: int, **named: Any) -> Any:
    """A legend entry without points: one point off the map (plotly lists no trace without points), of no
    vector (customdata None).

    Parameters
    ----------
    kind : trace type
        As `scatter_type` gives it.
    role : str
        The legend group; the name too, unless `name` is given.
    marker : dict
        The marker the legend shows.
    n_components : {2, 3}
    **named
        More of the trace's settings (name, legendrank).
    """
    return kind(name=named.pop("name", role), legendgroup=role, mode="markers", marker=marker, customdata=[None],
                hoverinfo="skip", **named, **positions_of(np.full((1, n_components), np.nan)))


def axis_titles(fitted: Projection) -> list[str]:
    """"PC 1 (12%)", ... for PCA; "UMAP 1", ... for UMAP.

    Parameters
    ----------
    fitted : Projection
    """
    if fitted.method == "pca":
        return [f"PC {i + 1} ({share:.0%})" for i, share in enumerate(fitted.explained)]
    return [f"UMAP {i + 1}" for i in range(fitted.n_components)]


def axis_layout(fitted: Projection, traces: Sequence[Any] = ()) -> dict[str, Any]:
    """The layout's axis titles: xaxis and yaxis in 2-D, the scene's three axes in 3-D; in 2-D, a range
    of 1.25 either side of a coordinate that every point of `traces` has (plotly's own, -1 to 1 for one
    point, put both axes' "-1" in the corner, one over the other).

    Parameters
    ----------
    fitted : Projection
    traces : sequence of traces, optional
        What the figure draws.
    """
    titles = axis_titles(fitted)
    if fitted.n_components == 3:
        return {"scene": {f"{axis}axis": {"title": {"text": text}} for axis, text in zip("xyz", titles)}}
    layout: dict[str, Any] = {f"{axis}axis": {"title": {"text": text}} for axis, text in zip("xy", titles)}
    for axis in "xy":
        shared = _shared_coordinate(traces, axis)
        if shared is not None:
            layout[f"{axis}axis"]["range"] = [shared - 1.25, shared + 1.25]
    return layout


def _shared_coordinate(traces: Sequence[Any], axis: str) -> float | None:
    """The coordinate on `axis` ("x" or "y") that every point drawn has, if they share one."""
    values = np.concatenate([np.empty(0)] + [np.asarray(trace[axis], dtype=np.float64) for trace in traces
                                             if trace[axis] is not None])  # a gap (None) is NaN
    values = values[np.isfinite(values)]
    return float(values[0]) if len(values) and values.min() == values.max() else None


def heading(title: str, subtitle: str = "") -> dict[str, Any]:
    """A layout title with the subtitle on a smaller second line.

    Written into the title's text rather than plotly's `title.subtitle`, which a FigureWidget (the
    panels' figures) draws above the title.

    Parameters
    ----------
    title : str
    subtitle : str, default ""
        Nothing on a second line when empty.
    """
    return {"text": f"{title}<br><sup>{subtitle}</sup>" if subtitle else title}


def shorten(text: str, longest: int, tail: int = 0) -> str:
    """`text` cut to `longest` characters when it is longer (for legends and ticks): its start, "…", and
    its last `tail` characters (which often tell long values apart: "... chapter 2").

    Parameters
    ----------
    text : str
    longest : int
    tail : int, default 0
    """
    if len(text) <= longest:
        return text
    return text[:longest - 1 - tail] + "…" + text[len(text) - tail:]


def short(text: Any) -> str:
    """A name from the data (an id, a category, an index) as a title or a legend shows it: cut to 40
    characters, keeping its last 12, which often tell long names apart ("… chapter 2"), and `plain`;
    an empty or blank name in quotes ('""', '" "').
    A hover shows the whole of an id or a value (up to 8 lines), `layout.meta` the whole of a title's names.

    Parameters
    ----------
    text : object
        Its `str()` is shown.
    """
    return plain(shorten(_quoted_if_blank(str(text)), _NAME_LONGEST, _NAME_TAIL))


def _quoted_if_blank(text: str) -> str:
    """"" and " " as a legend or hover can show them: in quotes, escaped ('"\\t"')."""
    return json.dumps(text) if not text.strip() else text


def score_meaning(metric: str | None) -> str:
    """What a score of the metric is, for axis titles and hovers: "negative dot product: lower is closer"
    (the index's own score for dot-product, best lowest); the metric's name when unknown, else "".

    Parameters
    ----------
    metric : str or None
        The index's metric.
    """
    return _SCORES.get(metric or "", metric or "")


def plain(text: Any) -> str:
    """Data shown as it is where plotly reads markup (hovers, legends, titles): `<b>new</b>` stays those
    ten characters rather than a bold "new", `x<br>y` one line, and `%{x}` those four characters rather
    than what plotly's templates put there (names and titles are templates in a figure with `meta`).

    Parameters
    ----------
    text : object
        Its `str()` is shown.
    """
    return html.escape(str(text), quote=False).replace("%{", "&#37;{")


def hover_columns(table: pd.DataFrame, color: Hashable | None, hover: Any) -> list[Hashable]:
    """The columns a hover shows after the id: namespace when any is set, the colour column, then `hover`.

    Parameters
    ----------
    table : DataFrame
        The points.
    color : str or None
        The colour column.
    hover : str, list of str, "all" or None
        The columns asked for ("all": every column).
    """
    namespaced = "namespace" in table.columns and table["namespace"].notna().any()
    if hover == "all":
        return [name for name in table.columns if name != "id" and (name != "namespace" or namespaced)]
    shown: list[Hashable] = ["namespace"] if namespaced else []
    return list(dict.fromkeys(shown + ([color] if color is not None else []) + asked_hover(hover)))


def asked_hover(hover: Any) -> list[Hashable]:
    """`hover` as a list of column names.

    Parameters
    ----------
    hover : str, list of str, "all" or None
        As plotly express takes it ("all" and None name no column).
    """
    if hover is None or hover == "all":
        return []
    return [hover] if isinstance(hover, (str, int)) else list(hover)


def hover_text(table: pd.DataFrame, columns: Sequence[Hashable], first: dict[Hashable, Sequence[Any]] | None = None
               ) -> list[str]:
    """One "<b>id</b><br>name=value<br>..." string per row: the data's own text escaped (`plain`), names
    cut as a legend cuts them (`short`), a long value on lines of 60 characters, the first 8 of them.

    Parameters
    ----------
    table : DataFrame
        The points, with an `id` column.
    columns : sequence of str
        The columns to show (those missing are skipped).
    first : dict of str to sequence, optional
        Fields shown right after the id (rank, score), one value per row; a column of the same name is
        shown as `metadata["<name>"]`, as query results name it.
    """
    fields: dict[Hashable, Sequence[Any]] = {**(first or {})}
    fields.update((metadata_column(str(name)) if name in fields else name, as_shown(table[name]).tolist())
                  for name in columns if name in table)
    parts = [[f"<b>{plain(vid)}</b>" for vid in table["id"].tolist()]]
    parts += [[f"{short(name)}={_text(v)}" for v in values] for name, values in fields.items()]
    return ["<br>".join(row) for row in zip(*parts)]


def _text(value: Any) -> str:
    if is_missing(value):
        return "–"
    if isinstance(value, float):
        return number_text(value) if value.is_integer() else f"{value:.4g}"
    return _wrapped(_quoted_if_blank(str(value)))


def _wrapped(text: str) -> str:
    """A value as a hover shows it: `plain`, broken into lines of at most 60 characters, the first 8 of them
    (a hover as wide as a long description drew it from its middle, the id off the figure's edge)."""
    if len(text) <= _HOVER_WIDTH:
        return plain(text)
    lines = textwrap.wrap(text, _HOVER_WIDTH, max_lines=_HOVER_LINES, placeholder=" …")
    return "<br>".join(map(plain, lines))
