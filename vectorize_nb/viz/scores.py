"""Score by rank: where relevance falls off, and how a filter changes it."""

from __future__ import annotations

from typing import Any
from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

from ..frames import check_columns
from .colors import palette
from .inputs import whole_number
from .traces import TEMPLATE, heading, plain, plotly, score_meaning, short

__all__ = ["plot_scores", "MAX_LINES"]

MAX_LINES = 12
"""Up to this many queries get a line each; more are summed up as a median with a 10-90% band."""


def plot_scores(results: pd.DataFrame | Mapping[str, pd.DataFrame], *, title: str | None = None,
                max_lines: int = MAX_LINES) -> Any:
    """Score by rank: where relevance falls off, for one query, many, or several runs overlaid.

    Up to `max_lines` queries in all get one line each (customdata: the ids matched); past that each
    run is drawn as its median score per rank with a band from the 10th to the 90th percentile. A
    query's line is named by its key as the result frame gives it: "row 266" (`df.vectorize.query`
    keyed by row label), "id digit-0042" (keyed by an `id` column), "query 0" (`Index.query_many`
    without keys); each run's lines are grouped in the legend under the run's label and share a colour.
    The subtitle counts each run's queries as its `attrs["queries"]` says, with how many matched nothing.

    Parameters
    ----------
    results : DataFrame or dict of str to DataFrame
        The answer to one query (`Index.query`), to many (`Index.query_many`, `df.vectorize.query`:
        a `query` column says which rows answer which query), or several runs to overlay, by label.
    title : str, optional
        Replaces the title ("Score by rank").
    max_lines : int, default 12
        The most queries drawn as lines of their own.

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> plot_scores({
    ...     "no filter": queries.vectorize.query(idx, vector="embedding", top_k=30),
    ...     "label 1 only": queries.vectorize.query(idx, vector="embedding", top_k=30, filter=F("label") == 1),
    ... })
    Figure({...})
    """
    go = plotly()
    runs = _runs(results)
    max_lines = whole_number(max_lines, "max_lines", 0)
    groups = {label: _queries(frame) for label, frame in runs.items()}
    lines = sum(len(g) for g in groups.values()) <= max_lines
    by_query = lines and len(runs) == 1  # one run's lines get a colour each; otherwise each run gets one
    colors = palette(sum(len(g) for g in groups.values()) if by_query else len(runs))
    fig = go.Figure()
    for number, (label, queries) in enumerate(groups.items()):
        if lines:
            for position, (name, frame) in enumerate(queries):
                color = colors[position if by_query else number]
                fig.add_trace(_line(go, frame, name or label or "query", color, label, first=position == 0))
        else:
            fig.add_traces(_band(go, label, queries, colors[number]))
    subtitle = _counted(runs, groups)
    fig.update_layout(template=TEMPLATE, hovermode="x unified" if not lines else "closest",
                      title=heading(title or "Score by rank", subtitle), meta={"kind": "scores", "subtitle": subtitle},
                      legend={"groupclick": "toggleitem", "tracegroupgap": 12},
                      xaxis={"title": {"text": "rank"}, "dtick": 1 if _deepest(groups) <= 20 else None},
                      yaxis={"title": {"text": _score_title(runs)}})
    return fig


def _runs(results: Any) -> dict[str, pd.DataFrame]:
    """The runs by label ("" for one frame), or an error naming what was given instead."""
    if isinstance(results, pd.DataFrame):
        return {"": results}
    if not isinstance(results, Mapping):
        raise TypeError(f"results is a DataFrame of results, or a dict of label to DataFrame; got "
                        f"{type(results).__name__}")
    if not results:
        raise ValueError("results is an empty dict: give it a DataFrame of results per label")
    for label, frame in results.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"results[{label!r}] is a {type(frame).__name__}, not a DataFrame of results")
    return dict(results)


def _queries(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """(name, rows) per query, in the frame's order; a frame without a `query` column is one query (no name)."""
    check_columns(frame, ["rank", "score"], "results")
    if "query" not in frame.columns:
        return [(None, frame)]
    key = frame.attrs.get("query_key")
    return [(_key_name(value, key), rows) for value, rows in frame.groupby("query", sort=False, dropna=False)]


def _key_name(value: Hashable, key: Hashable | None) -> str:
    """How a legend names a query: "row 266", "id digit-0042", "query 0" or the key itself."""
    if key == "index label":
        return f"row {value}"
    if key is not None:
        return f"{key} {value}"
    return f"query {value}" if isinstance(value, (int, np.integer)) else str(value)


def _counted(runs: dict[str, pd.DataFrame], groups: dict[str, list[tuple[str | None, pd.DataFrame]]]) -> str:
    """"12 queries", or each run's count, with how many matched nothing ("no matches" where all did)."""
    if list(groups) == [""]:
        asked = _asked(runs[""], groups[""])
        count = None if asked is None else f"{asked} quer{'y' if asked == 1 else 'ies'}"
        return _matched(groups[""], asked, count, "{}; no matches", "{}, {} matched nothing")
    counts = []
    for label, queries in groups.items():
        asked = _asked(runs[label], queries)
        counts.append(f"{plain(label or 'queries')}: " + _matched(
            queries, asked, None if asked is None else str(asked), "{} (no matches)", "{} ({} matched nothing)"))
    return "queries per run: " + ", ".join(counts)


def _asked(frame: pd.DataFrame, queries: list[tuple[str | None, pd.DataFrame]]) -> int | None:
    """How many queries a run asked: as its `attrs` say, else the queries it holds rows of (None: it holds none,
    and does not say how many were asked)."""
    said = frame.attrs.get("queries")
    if isinstance(said, int) and said >= len(queries):
        return said
    return len(queries) or None


def _matched(queries: list[tuple[str | None, pd.DataFrame]], asked: int | None, count: str | None, none: str,
             some: str) -> str:
    """`count`, `none` with it where the queries matched nothing, `some` with it and how many matched nothing."""
    matched = sum(1 for _, frame in queries if len(frame))
    if asked is None or count is None:
        return "no matches"
    if not matched:
        return none.format(count)
    return count if matched >= asked else some.format(count, asked - matched)


def _line(go: Any, frame: pd.DataFrame, name: str, color: str, run: str, first: bool) -> Any:
    ids = frame["id"].tolist() if "id" in frame.columns else [None] * len(frame)
    full = plain(f"{run}: {name}" if run and run != name else name)
    titled = {"text": plain(run)} if first and run != name else None
    grouped = {"legendgroup": run, "legendgrouptitle": titled} if run else {}
    return go.Scatter(x=frame["rank"].to_numpy(), y=frame["score"].to_numpy(), mode="lines+markers",
                      name=short(name),  # the hover shows all of it
                      line={"color": color}, customdata=ids, **grouped,
                      hovertemplate="rank %{x}: %{y:.4f}<br>%{customdata}<extra>" + full + "</extra>")


def _band(go: Any, run: str, queries: list[tuple[str | None, pd.DataFrame]], color: str) -> list[Any]:
    """The median score per rank and a 10-90% band, over the queries that have that rank."""
    frame = pd.concat([rows[["rank", "score"]] for _, rows in queries], ignore_index=True)
    by_rank = frame.groupby("rank")["score"]
    stats = pd.DataFrame({"low": by_rank.quantile(0.1), "median": by_rank.median(), "high": by_rank.quantile(0.9),
                          "queries": by_rank.size()})
    ranks = stats.index.to_numpy()
    shade = _transparent(color, 0.2)
    group = run or "queries"
    titled = {"legendgrouptitle": {"text": plain(run)}} if run else {}
    return [
        go.Scatter(x=ranks, y=stats["high"].to_numpy(), mode="lines", line={"width": 0}, name="10-90% of queries",
                   legendgroup=group, showlegend=False, hoverinfo="skip"),
        go.Scatter(x=ranks, y=stats["low"].to_numpy(), mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor=shade, name="10-90% of queries", legendgroup=group, hoverinfo="skip", **titled),
        go.Scatter(x=ranks, y=stats["median"].to_numpy(), mode="lines+markers", line={"color": color},
                   name=f"median of {len(queries)} queries", legendgroup=group,
                   customdata=stats["queries"].to_numpy(),
                   hovertemplate=f"{plain(group)}: median %{{y:.4f}} over %{{customdata}} queries<extra></extra>"),
    ]


def _deepest(groups: dict[str, list[tuple[str | None, pd.DataFrame]]]) -> int:
    return max((int(rows["rank"].max()) for queries in groups.values() for _, rows in queries if len(rows)),
               default=0)


def _score_title(runs: dict[str, pd.DataFrame]) -> str:
    """What the scores are: one meaning, or a line per run when the runs' indexes have other metrics."""
    meanings = {label: score_meaning(frame.attrs.get("metric")) for label, frame in runs.items()}
    if len(set(meanings.values())) > 1:
        return "<br>".join(["score", *(f"{plain(label)}: {meaning or 'score'}" for label, meaning in meanings.items())])
    meaning = next(iter(meanings.values()))
    return f"score ({meaning})" if meaning else "score"


def _transparent(color: str, alpha: float) -> str:
    red, green, blue = (int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"
