"""Maps of an index: the neighbourhood of one query, and the whole index. Figures are returned, never shown.

Every trace has a stable name (TRACE_NAMES) and carries vector ids in `customdata`, so a click or a
lasso selection maps back to rows: `fig.data[i].name`, `fig.data[i].customdata[point]`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from collections.abc import Hashable

import numpy as np
import pandas as pd

from .inputs import QueryPoint, check_columns, frame_matrix, query_point
from .maps import PointMap, frame_map, index_map
from .projection import SEED, auto_note
from .sample import positions
from .traces import (MAX_POINTS, MUTED, TEMPLATE, axis_layout, coloring, hover_columns, hover_text, plotly,
                     positions_of, scatter_type)

if TYPE_CHECKING:
    from ..index import Index

__all__ = ["plot_neighbourhood", "plot_index", "TRACE_NAMES", "INDEX", "FILTERED_OUT", "LINKS", "MATCHES", "QUERY"]

INDEX, FILTERED_OUT, LINKS, MATCHES, QUERY = "index", "filtered out", "links", "matches", "query"
TRACE_NAMES = (FILTERED_OUT, INDEX, LINKS, MATCHES, QUERY)
"""The traces of `plot_neighbourhood`, bottom to top (`plot_index` draws only INDEX)."""


def plot_neighbourhood(index: Index, query: Any, top_k: int = 20, background: int = 2000,
                       color: Hashable | None = None, hover: Any = None, filter: Any = None,
                       namespace: str | None = None, method: str = "auto", *, vector: Hashable | None = None,
                       n_components: int = 2, n_neighbors: int = 15, seed: int = SEED, title: str | None = None,
                       progress: bool | None = None, results: pd.DataFrame | None = None) -> Any:
    """The top-k matches of `query` on a map of the index.

    `query`: a vector, the id of a stored vector, or a DataFrame row holding a vector (the `vector` cell,
    else a 'values'/'embedding'/'vector' cell). Draws a seeded sample of `background` vectors of the
    index ("index"; those `filter`/`namespace` exclude in grey: "filtered out"), the matches as the index
    returned them, ringed and sized by rank with the score on hover ("matches"), the query ("query")
    and lines from it to each match ("links"). `color` and `hover` name metadata columns, as in plotly
    express (`hover="all"` shows every one). `method`: "auto", "pca" or "umap" (see `project`). The
    map is cached per index state, in memory and beside a local engine's folder. `results`: the answer
    to this very query when the caller already has it (it is then not asked again).
    """
    go = plotly()
    point = query_point(query, vector)
    world = index_map(index, background, method, n_components=n_components, n_neighbors=n_neighbors, seed=seed,
                      progress=progress)
    results = _search(index, point, top_k, filter, namespace) if results is None else results
    matched, matched_xy = _matched(index, world, results)
    query_xy = _query_position(index, world, point)
    allowed = _allowed(index, world, filter, namespace)
    rest = ~pd.Index(world.ids).isin(matched["id"].tolist() + [point.id])  # each id in one trace only
    table = pd.concat([world.table, matched], ignore_index=True)
    if color is not None:
        check_columns(table, [color], "color")
    columns = hover_columns(table, color, hover)
    colors, axis = coloring(table[color], color) if color is not None else (None, None)
    kind = scatter_type(go, n_components, len(world.ids))
    traces = [
        _points(kind, world, rest & ~allowed, FILTERED_OUT, columns, {"color": MUTED, "opacity": 0.5}),
        _points(kind, world, rest & allowed, INDEX, columns, _marker(colors, rest & allowed)),
        _links(kind, query_xy, matched_xy, matched["id"].tolist()),
        _matches(kind, matched, matched_xy, columns, None if colors is None else colors[len(world.ids):]),
        _query(kind, point, query_xy),
    ]
    fig = go.Figure(traces)
    note = auto_note(method, world.projection.method, len(world.ids), index.dimensions, n_components)
    heading = title or f"Neighbours of {point.label} in {index.name!r}"
    _finish(fig, world, heading, _subtitle(results, world, filter, namespace, note), axis,
            {"kind": "neighbourhood", "index": index.name, "method": world.projection.method, "query": point.label})
    return fig


def plot_index(index_or_frame: Any, color: Hashable | None = None, hover: Any = None, sample: int | None = None,
               method: str = "auto", *, vector: Hashable | None = None, id: Hashable | None = None,
               metric: str | None = None, n_components: int = 2, n_neighbors: int = 15, seed: int = SEED,
               title: str | None = None, progress: bool | None = None) -> Any:
    """A map of a whole index, or of a frame of vectors (e.g. `index.to_frame()`): one "index" trace.

    Past MAX_POINTS (20,000) points, or past `sample` when given, a seeded sample is drawn and the title
    says so; past 1,000 points the trace is WebGL. For a frame, `vector` names the vector column (default:
    'values', 'embedding' or 'vector'), `id` the id column (default 'id', else the row labels) and
    `metric` the geometry (default: the frame's attrs, else cosine). Index maps are cached per index
    state; frame projections in memory, by content.
    """
    go = plotly()
    size = MAX_POINTS if sample is None else sample
    if isinstance(index_or_frame, pd.DataFrame):
        frame = index_or_frame
        world = frame_map(frame, size, method, vector=vector, id=id, metric=metric or frame.attrs.get("metric") or
                          "cosine", n_components=n_components, n_neighbors=n_neighbors, seed=seed, progress=progress)
        name = frame.attrs.get("index", "frame")
    else:
        world = index_map(index_or_frame, size, method, n_components=n_components, n_neighbors=n_neighbors,
                          seed=seed, progress=progress)
        name = index_or_frame.name
    if color is not None:
        check_columns(world.table, [color], "color")
    columns = hover_columns(world.table, color, hover)
    colors, axis = coloring(world.table[color], color) if color is not None else (None, None)
    everything = np.ones(len(world.ids), dtype=bool)
    kind = scatter_type(go, n_components, len(world.ids))
    fig = go.Figure([_points(kind, world, everything, INDEX, columns, _marker(colors, everything))])
    note = auto_note(method, world.projection.method, len(world.ids), len(world.projection.mean), n_components)
    subtitle = "; ".join(text for text in (_method_text(world), note) if text)
    _finish(fig, world, title or f"{name}: {world.describe()}", subtitle, axis,
            {"kind": "index", "index": name, "method": world.projection.method})
    return fig


# --- the pieces -----------------------------------------------------------------------------------

_HOVER = "%{hovertext}<extra></extra>"
_POINT = "#6f8fbf"
_MATCH = "#d62728"
_INK = "#222222"


def _search(index: Index, point: QueryPoint, top_k: int, flt: Any, namespace: str | None) -> pd.DataFrame:
    if point.vector is None:
        return index.query_by_id(str(point.id), top_k, filter=flt, namespace=namespace)
    return index.query(point.vector, top_k, filter=flt, namespace=namespace)


def _matched(index: Index, world: PointMap, results: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The matches' rows (rank, id, score, namespace, metadata) and coordinates: taken from the map when
    a match is in its sample, else fetched and placed on it. A match deleted meanwhile is left out."""
    where = positions(world.ids, results["id"].tolist())
    outside = results["id"][where < 0].tolist()
    stored = index.get_by_ids(outside) if outside else None
    placed: dict[str, np.ndarray] = {}
    if stored is not None and len(stored):
        placed = dict(zip(stored["id"], world.projection.place(frame_matrix(stored, "values"))))
    keep = (where >= 0) | results["id"].isin(list(placed)).to_numpy()
    results, where = results[keep], where[keep]
    xy = [world.coords[w] if w >= 0 else placed[vid] for vid, w in zip(results["id"], where)]
    known = [world.table.iloc[where[where >= 0]]]
    if stored is not None:
        known.append(stored.drop(columns="values"))
    rows = results[["rank", "id", "score"]].merge(pd.concat(known, ignore_index=True), on="id", how="left")
    return rows, np.asarray(xy, dtype=np.float32).reshape(len(rows), world.projection.n_components)


def _query_position(index: Index, world: PointMap, point: QueryPoint) -> np.ndarray:
    if point.vector is not None:
        return np.asarray(world.projection.place(point.vector[None, :])[0])
    where = positions(world.ids, [str(point.id)])[0]
    if where >= 0:
        return np.asarray(world.coords[where])
    stored = index.get_by_ids([str(point.id)])
    return np.asarray(world.projection.place(frame_matrix(stored, "values"))[0])


def _allowed(index: Index, world: PointMap, flt: Any, namespace: str | None) -> np.ndarray:
    """Which background points a query with this filter and namespace could return."""
    if flt is None and namespace is None:
        return np.ones(len(world.ids), dtype=bool)
    return index.matches_filter(world.ids, flt, namespace, stored=world.table).to_numpy(dtype=bool)


def _marker(colors: np.ndarray | None, mask: np.ndarray) -> dict[str, Any]:
    size = 6 if mask.sum() <= 2_000 else 4
    if colors is None:
        return {"size": size, "opacity": 0.75, "color": _POINT}
    return {"size": size, "opacity": 0.8, "color": colors[: len(mask)][mask], "coloraxis": "coloraxis"}


def _points(kind: Any, world: PointMap, mask: np.ndarray, name: str, columns: list[Hashable],
            marker: dict[str, Any]) -> Any:
    rows = np.flatnonzero(mask)
    table = world.table.iloc[rows]
    return kind(name=name, mode="markers", marker=marker, customdata=table["id"].tolist(),
                hovertext=hover_text(table, columns), hovertemplate=_HOVER, showlegend=bool(len(rows)),
                **positions_of(world.coords[rows]))


def _links(kind: Any, start: np.ndarray, ends: np.ndarray, ids: list[str]) -> Any:
    """One segment from the query to each match, separated by gaps; each end carries the match's id."""
    axes: list[list[float | None]] = [[] for _ in start]
    for end in ends:
        for axis, (a, b) in enumerate(zip(start, end)):
            axes[axis] += [float(a), float(b), None]
    customdata = [end for vid in ids for end in (vid, vid, None)]
    return kind(name=LINKS, mode="lines", line={"color": "rgba(60,60,60,0.4)", "width": 1}, hoverinfo="skip",
                customdata=customdata, showlegend=bool(ids), **dict(zip("xyz", axes)))


def _matches(kind: Any, rows: pd.DataFrame, xy: np.ndarray, columns: list[Hashable],
             colors: np.ndarray | None) -> Any:
    ranks = rows["rank"].to_numpy(dtype=np.float64)
    worst = ranks.max() if len(ranks) else 1.0
    sizes = 9 + 9 * (worst - ranks) / max(worst - 1, 1)  # rank 1: 18 px, the last rank: 9 px
    three_d = xy.shape[1] == 3
    marker: dict[str, Any] = {"size": sizes / 2 if three_d else sizes, "line": {"width": 2, "color": _INK},
                              "opacity": 1.0, "color": _MATCH}
    if colors is not None:
        marker.update(color=colors, coloraxis="coloraxis")
    text = hover_text(rows, columns, {"rank": rows["rank"].tolist(), "score": rows["score"].tolist()})
    return kind(name=MATCHES, mode="markers", marker=marker, customdata=rows["id"].tolist(), hovertext=text,
                hovertemplate=_HOVER, showlegend=bool(len(rows)), **positions_of(xy))


def _query(kind: Any, point: QueryPoint, xy: np.ndarray) -> Any:
    three_d = len(xy) == 3
    marker = {"symbol": "diamond" if three_d else "star", "size": 9 if three_d else 20, "color": _INK,
              "line": {"width": 1, "color": "white"}}
    return kind(name=QUERY, mode="markers", marker=marker, customdata=[point.id],
                hovertext=[f"<b>query</b>: {point.label}"], hovertemplate=_HOVER, **positions_of(xy[None, :]))


def _method_text(world: PointMap) -> str:
    return f"projected with {world.projection.method.upper()}"


def _subtitle(results: pd.DataFrame, world: PointMap, flt: Any, namespace: str | None, note: str) -> str:
    asked = f"top {len(results)}"
    if flt is not None:
        asked += f" with filter {_short_json(flt)}"
    if namespace is not None:
        asked += f" in namespace {namespace!r}"
    return "; ".join(part for part in (asked, f"background: {world.describe()}", _method_text(world), note) if part)


def _short_json(flt: Any) -> str:
    text = json.dumps(flt.to_json() if hasattr(flt, "to_json") else flt, separators=(",", ":"), default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _finish(fig: Any, world: PointMap, title: str, subtitle: str, coloraxis: dict[str, Any] | None,
            meta: dict[str, Any]) -> None:
    layout: dict[str, Any] = {
        "template": TEMPLATE, "title": {"text": title, "subtitle": {"text": subtitle}}, "meta": meta,
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0,
                   "itemsizing": "constant"},
        **axis_layout(world.projection),
    }
    if coloraxis is not None:
        layout["coloraxis"] = coloraxis
    fig.update_layout(**layout)
