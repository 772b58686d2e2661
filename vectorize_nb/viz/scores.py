"""Score by rank: where relevance falls off, and how a filter changes it."""

from __future__ import annotations

from typing import Any
from collections.abc import Hashable, Mapping

import pandas as pd

from .inputs import check_columns
from .traces import TEMPLATE, palette, plotly

__all__ = ["plot_scores", "MAX_LINES"]

MAX_LINES = 12
"""Up to this many queries get a line each; more are summed up as a median with a 10-90% band."""


def plot_scores(results: pd.DataFrame | Mapping[str, pd.DataFrame], *, title: str | None = None,
                max_lines: int = MAX_LINES) -> Any:
    """Score by rank for one query (`index.query`), many (`index.query_many`, `df.vectorize.query`: the
    first column is the query key), or several runs to overlay (a dict label -> frame, e.g. with and
    without a filter). Up to `max_lines` queries in all get one line each (customdata: the ids); past
    that each run is drawn as its median score per rank with a band from the 10th to the 90th percentile.
    """
    go = plotly()
    runs = dict(results) if isinstance(results, Mapping) else {"": results}
    groups = {label: _queries(frame) for label, frame in runs.items()}
    colors = palette(max(len(runs), max(len(g) for g in groups.values()) if groups else 1))
    lines = sum(len(g) for g in groups.values()) <= max_lines
    fig = go.Figure()
    for number, (label, queries) in enumerate(groups.items()):
        if lines:
            for position, (key, frame) in enumerate(queries):
                color = colors[number if len(runs) > 1 else position]
                fig.add_trace(_line(go, frame, _name(label, key, len(queries)), color, label))
        else:
            fig.add_traces(_band(go, label or "queries", queries, colors[number]))
    first = next(iter(runs.values()))
    counted = ", ".join(f"{label or 'queries'}: {len(q)}" for label, q in groups.items())
    fig.update_layout(template=TEMPLATE, hovermode="x unified" if not lines else "closest",
                      title={"text": title or "Score by rank", "subtitle": {"text": f"queries per run: {counted}"}},
                      xaxis={"title": {"text": "rank"}, "dtick": 1 if _deepest(groups) <= 20 else None},
                      yaxis={"title": {"text": _score_title(first)}})
    return fig


def _queries(frame: pd.DataFrame) -> list[tuple[Hashable, pd.DataFrame]]:
    """(key, rows) per query, in the frame's order; a frame without a key column is one query."""
    check_columns(frame, ["rank", "score"], "results")
    key = frame.columns[0] if frame.columns[0] != "rank" else None
    if key is None:
        return [(None, frame)]
    return list(frame.groupby(key, sort=False, dropna=False))


def _name(label: str, key: Hashable, queries: int) -> str:
    if key is None:
        return label or "query"
    return f"{label}: {key}" if label else str(key)


def _line(go: Any, frame: pd.DataFrame, name: str, color: str, group: str) -> Any:
    ids = frame["id"].tolist() if "id" in frame.columns else [None] * len(frame)
    return go.Scatter(x=frame["rank"].to_numpy(), y=frame["score"].to_numpy(), mode="lines+markers", name=name,
                      legendgroup=group or None, line={"color": color}, customdata=ids,
                      hovertemplate="rank %{x}: %{y:.4f}<br>%{customdata}<extra>" + name + "</extra>")


def _band(go: Any, label: str, queries: list[tuple[Hashable, pd.DataFrame]], color: str) -> list[Any]:
    """The median score per rank and a 10-90% band, over the queries that have that rank."""
    frame = pd.concat([rows[["rank", "score"]] for _, rows in queries], ignore_index=True)
    by_rank = frame.groupby("rank")["score"]
    stats = pd.DataFrame({"low": by_rank.quantile(0.1), "median": by_rank.median(), "high": by_rank.quantile(0.9),
                          "queries": by_rank.size()})
    ranks = stats.index.to_numpy()
    shade = _transparent(color, 0.2)
    band = f"{label}: 10-90%"
    return [
        go.Scatter(x=ranks, y=stats["high"].to_numpy(), mode="lines", line={"width": 0}, name=band,
                   legendgroup=label, showlegend=False, hoverinfo="skip"),
        go.Scatter(x=ranks, y=stats["low"].to_numpy(), mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor=shade, name=band, legendgroup=label, hoverinfo="skip"),
        go.Scatter(x=ranks, y=stats["median"].to_numpy(), mode="lines+markers", line={"color": color},
                   name=f"{label}: median of {len(queries)} queries", legendgroup=label,
                   customdata=stats["queries"].to_numpy(),
                   hovertemplate=f"{label}: median %{{y:.4f}} over %{{customdata}} queries<extra></extra>"),
    ]


def _deepest(groups: dict[str, list[tuple[Hashable, pd.DataFrame]]]) -> int:
    return max((int(rows["rank"].max()) for queries in groups.values() for _, rows in queries if len(rows)),
               default=0)


def _score_title(frame: pd.DataFrame) -> str:
    metric = frame.attrs.get("metric")
    if metric == "euclidean":
        return "score (euclidean distance: lower is closer)"
    return f"score ({metric})" if metric else "score"


def _transparent(color: str, alpha: float) -> str:
    red, green, blue = (int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"
