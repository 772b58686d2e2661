"""Maps of an index: the neighbourhood of one query, and the whole index. Figures are returned, never shown.

Each trace has a role, one of TRACE_NAMES, kept in its `legendgroup`, and carries the vector id of
each point in `customdata`, so a click or a lasso selection maps back to rows. A trace is named by its
role, except when points are coloured by categories: then the "index" role is one trace per category,
named by the category ("7", "drama", "other (61 more)"), so that its legend entry hides and shows it.
The matches are then filled with their categories' colours, and their legend entry is a trace of its own
("matches", a ring); a category only the matches hold gets an "index" trace for its legend entry. Such
an entry holds one point off the map, a vector id of None.

    fig = go.FigureWidget(plot_neighbourhood(idx, "doc-42", color="genre"))

    def clicked(trace, points, state):
        ids = [trace.customdata[i] for i in points.point_inds]   # the vector ids (None: no vector)
        print(trace.legendgroup, trace.name, ids)                 # e.g. index drama ['doc-7']

    for trace in fig.data:
        trace.on_click(clicked)
"""

from __future__ import annotations

import json
from typing import Any, TypeVar
from collections.abc import Callable, Collection, Hashable

import numpy as np
import pandas as pd

from .colors import MAX_CATEGORIES, MISSING, MISSING_COLOR, Coloring, coloring
from ..contract.errors import UnknownModel, VectorNotFound
from ..index import Index
from ..reader import IndexReader
from .inputs import QueryPoint, check_drawn, column_name, frame_matrix, query_point, whole_number
from .maps import PointMap, frame_map, index_map, require_vectors, whole_column
from .projection import SEED, auto_note, check_method, check_metric, check_shape
from .sample import Sample, positions
from ..docstrings import fill_docstring
from .traces import (LEFT_OUT, MAX_POINTS, TEMPLATE, asked_hover, axis_layout, heading, hover_columns, hover_text,
                     legend_entry, plain, plotly, positions_of, scatter_type, score_meaning, short)

__all__ = ["plot_neighbourhood", "plot_index", "TRACE_NAMES", "INDEX", "FILTERED_OUT", "LINKS", "MATCHES", "QUERY"]

INDEX, FILTERED_OUT, LINKS, MATCHES, QUERY = "index", "filtered out", "links", "matches", "query"
TRACE_NAMES = (FILTERED_OUT, INDEX, LINKS, MATCHES, QUERY)
"""The roles of `plot_neighbourhood`'s traces, bottom to top (`plot_index` draws only INDEX): each
trace's `legendgroup`, and its name unless it holds one category of points."""


_MAP_OPTIONS = """color : str, optional
    A metadata property (a frame's column) to colour points by, as in plotly express. Text, booleans
    and whole numbers with few distinct values get one colour and one legend entry per category
    (click an entry to hide those points); other numbers a colour scale. Points without a value are
    filled grey, "(none)" in the legend, either way (points a filter leaves out are grey rings).
hover : str, list of str or "all", optional
    Properties to show on hover besides the id (and the namespace and `color`).
method : {"auto", "pca", "umap"}, default "auto"
    The projection (see `project`): "auto" takes UMAP from 5,000 points when umap-learn is installed.
discrete : bool, optional
    True: one colour per category even for numbers with many values; False: a colour scale for
    numbers with few values. Default: decided from the column.
max_categories : int, default 20
    Whole numbers with at most this many distinct values are categories; past this many categories
    the most frequent keep a colour each and the rest are drawn as one, "other (N more)".
n_components : {2, 3}, default 2
    A 2-D or 3-D map.
n_neighbors : int, default 15
    UMAP's neighbourhood size.
seed : int, default 42
    The seed of the sample and of UMAP.
title : str, optional
    Replaces the title.
progress : bool, optional
    False hides the progress line of a long UMAP fit."""


_Function = TypeVar("_Function", bound=Callable[..., Any])


def _with_map_options(function: _Function) -> _Function:
    """Fill the `{map_options}` line of a docstring: the options both maps take."""
    return fill_docstring(function, {"{map_options}": _MAP_OPTIONS})


@_with_map_options
def plot_neighbourhood(index: Index, query: Any, top_k: int = 20, background: int = 2000,
                       color: Hashable | None = None, hover: Any = None, filter: Any = None,
                       namespace: str | None = None, method: str = "auto", *, vector: Hashable | None = None,
                       discrete: bool | None = None, max_categories: int = MAX_CATEGORIES, n_components: int = 2,
                       n_neighbors: int = 15, seed: int = SEED, title: str | None = None,
                       progress: bool | None = None, results: pd.DataFrame | None = None) -> Any:
    """The top-k matches of a query on a map of the index (cached by the points it shows).

    Draws a seeded sample of the index ("index"; what `filter` and `namespace` exclude as grey rings:
    "filtered out"), the matches as the index returned them, ringed and sized by rank ("matches"),
    the query ("query") and a line from it to each match ("links").

    Parameters
    ----------
    index : Index
    query : array-like, str or Series
        A vector; a stored vector's id, else a question (embedded as `Index.query` embeds one); or a row of a
        DataFrame holding a vector (the `vector` cell, else a 'values', 'embedding' or 'vector' cell).
    top_k : int, default 20
    background : int, default 2000
        How many vectors of the index to draw around the matches (a seeded sample past that).
    filter, namespace : optional
        The query's, as for `Index.query`; the points they exclude are drawn as grey rings.
    vector : str, optional
        The vector cell of a row given as `query`.
    results : DataFrame, optional
        The answer to this very query when the caller has it (it is then not asked again).
    {map_options}

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ColumnNotFound
        `color` or `hover` names a property that the vectors drawn do not hold.

    Examples
    --------
    >>> plot_neighbourhood(idx, "digit-0000", top_k=10, color="label", filter=F("label").isin([6, 8]))
    Figure({...})
    """
    go = plotly()
    _check_options("plot_neighbourhood", index, color, method, (n_components, n_neighbors, max_categories),
                   ("background", background))
    point = query_point(query, vector)
    if results is None:  # before a projection
        require_vectors(index, index.info())  # said here, not as the query's warning
        results, point = _search(index, point, top_k, filter, namespace)
    world = index_map(index, background, method, n_components=n_components, n_neighbors=n_neighbors, seed=seed,
                      progress=progress, check=lambda sample: _check_background(sample, color, hover, index.name))
    traces, colors = _neighbourhood(go, index, world, point, results, _allowed(index, world, filter, namespace),
                                    (color, hover, discrete, max_categories))
    fig = go.Figure(traces)
    note = auto_note(method, world.projection.method, len(world.ids), index.dimensions, n_components)
    heading_text = title or f"Neighbours of {short(point.label)} in '{short(index.name)}'"
    _finish(fig, world, heading_text, _subtitle(results, world, filter, namespace, note), colors,
            {"kind": "neighbourhood", "index": index.name, "method": world.projection.method, "query": point.label})
    return fig


@_with_map_options
def plot_index(index_or_frame: Any, color: Hashable | None = None, hover: Any = None, sample: int | None = None,
               method: str = "auto", *, vector: Hashable | None = None, id: Hashable | None = None,
               metric: str | None = None, discrete: bool | None = None, max_categories: int = MAX_CATEGORIES,
               n_components: int = 2, n_neighbors: int = 15, seed: int = SEED, title: str | None = None,
               progress: bool | None = None) -> Any:
    """A map of a whole index, or of a frame of vectors (e.g. `index.to_frame()`).

    Past 20,000 points (or `sample`) a seeded sample is drawn and the title says so; past 1,000 the
    traces are WebGL. Index maps are cached by their points' content (in memory, and on disk beside a
    local engine); frame projections in memory, by content.

    Parameters
    ----------
    index_or_frame : Index or DataFrame
        The index, or a frame with a vector column and an id column (or unique row labels).
    sample : int, optional
        Draw a seeded sample of this many points.
    vector, id : str, optional
        A frame's vector column ('values', 'embedding' or 'vector') and id column ('id', or the labels).
    metric : {"cosine", "euclidean", "dot-product"}, optional
        A frame's geometry (default: the frame's attrs, else cosine).
    {map_options}

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> plot_index(idx, color="label", method="umap")
    Figure({...})
    """
    go = plotly()
    _check_options("plot_index", index_or_frame, color, method, (n_components, n_neighbors, max_categories),
                   ("sample", sample))
    if metric is not None:
        check_metric(metric)
    options = {"n_components": n_components, "n_neighbors": n_neighbors, "seed": seed, "progress": progress}
    world, name, index_name = _whole_map(index_or_frame, MAX_POINTS if sample is None else sample, method,
                                         (vector, id, metric), (color, hover), options)
    colors = _coloring(world.table, color, hover, index_name, (discrete, max_categories),
                       _universe(index_or_frame, world, color))
    columns = hover_columns(world.table, color, hover)
    everything = np.ones(len(world.ids), dtype=bool)
    kind = scatter_type(go, n_components, len(world.ids))
    fig = go.Figure(_background(kind, world, everything, columns, colors, _size(len(world.ids), n_components)))
    note = auto_note(method, world.projection.method, len(world.ids), len(world.projection.mean), n_components)
    subtitle = "; ".join(text for text in (_method_text(world), note) if text)
    _finish(fig, world, title or f"{short(name)}: {world.describe()}", subtitle, colors,
            {"kind": "index", "index": name, "method": world.projection.method})
    return fig


# --- the pieces -----------------------------------------------------------------------------------

def _whole_map(index_or_frame: Any, size: int, method: str, frame_columns: tuple[Any, Any, str | None],
               drawn: tuple[Hashable | None, Any], options: dict[str, Any]) -> tuple[PointMap, str, str | None]:
    """plot_index's map, its name and the index's name (None for a frame); the columns drawn are checked
    before the projection is computed."""
    color, hover = drawn
    if isinstance(index_or_frame, pd.DataFrame):
        frame = index_or_frame
        vector, id, metric = frame_columns
        world = frame_map(frame, size, method, vector=vector, id=id, metric=metric or frame.attrs.get("metric") or
                          "cosine", check=lambda sample: _check_columns(sample.table, color, hover, None), **options)
        return world, frame.attrs.get("index", "frame"), None
    name = index_or_frame.name
    world = index_map(index_or_frame, size, method, check=lambda sample: _check_columns(sample.table, color, hover,
                                                                                         name), **options)
    return world, name, name


_HOVER = "%{hovertext}<extra></extra>"
_POINT = "#6f8fbf"
_MATCH = "#d62728"
_INK = "#222222"


def _check_options(function: str, index: Any, color: Any, method: str, shape: tuple[Any, Any, Any],
                   size: tuple[str, Any]) -> None:
    """Refuse what cannot be drawn before anything is read or computed, naming the argument and the value."""
    frames = function == "plot_index"
    if not isinstance(index, (IndexReader, pd.DataFrame) if frames else Index):
        wanted = "an Index or a DataFrame of vectors" if frames else "an Index (client.get_index(name))"
        given = "a DataFrame; plot_index(frame) maps one" if isinstance(index, pd.DataFrame) else f"{index!r:.40}"
        raise TypeError(f"{function} draws {wanted}, got {given}")
    column_name(color, "color")
    check_method(method)
    n_components, n_neighbors, max_categories = shape
    check_shape(n_components, n_neighbors)
    whole_number(max_categories, "max_categories", 1)
    if size[1] is not None:
        whole_number(size[1], size[0], 1)


def _neighbourhood(go: Any, index: Index, world: PointMap, point: QueryPoint, results: pd.DataFrame,
                   allowed: np.ndarray, coloured: tuple[Any, Any, bool | None, int]
                   ) -> tuple[list[Any], Coloring | None]:
    """The traces of a neighbourhood, bottom to top (TRACE_NAMES), and how they are coloured."""
    color, hover, discrete, max_categories = coloured
    ranked, matched, matched_xy = _matched(index, world, results)
    query_xy = _query_position(index, world, point)
    rest = ~pd.Index(world.ids).isin(matched["id"].tolist() + [point.id])  # each id in one trace only
    table = pd.concat([world.table, matched], ignore_index=True)
    universe = _universe(index, world, color)
    colors = _coloring(table, color, hover, index.name, (discrete, max_categories),
                       _drawn_once(table, color) if universe is None else universe)
    columns = hover_columns(table, color, hover)
    kind = scatter_type(go, world.projection.n_components, len(world.ids))
    size = _size(len(world.ids), world.projection.n_components)
    listed = set() if colors is None or colors.labels is None else set(colors.labels[len(world.ids):])
    return [
        _points(kind, world, rest & ~allowed, FILTERED_OUT, columns, {**LEFT_OUT, "size": size}),
        *_background(kind, world, rest & allowed, columns, colors, size, listed),
        _links(kind, query_xy, matched_xy, matched["id"].tolist()),
        _matches(kind, ranked, matched, matched_xy, columns, colors, len(world.ids), score_meaning(index.metric)),
        *([_matches_entry(kind, len(query_xy))] if listed else []),
        _query(kind, point, query_xy),
    ], colors


def _search(index: Index, point: QueryPoint, top_k: int, flt: Any,
            namespace: str | None) -> tuple[pd.DataFrame, QueryPoint]:
    """The matches, and the query as drawn: a text that is no stored id is a question, where the index knows
    the model that embeds one."""
    if point.vector is None:
        try:
            return index.query_by_id(str(point.id), top_k, filter=flt, namespace=namespace), point
        except VectorNotFound as exc:
            try:
                point = QueryPoint(index.embed([str(point.id)], progress=False)[0], None, f'"{point.id}"')
            except UnknownModel:
                exc.message += ("; plot_neighbourhood takes a stored id, a vector or a frame's row, or a question "
                                "where the index's model is known: index.embed([question], model=...)[0]")
                raise exc from None
    return index.query(point.vector, top_k, filter=flt, namespace=namespace), point


def _matched(index: Index, world: PointMap, results: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The matches' rank and score; their rows (id, namespace, metadata: a property may be called "score"
    too); and their coordinates, taken from the map when a match is in its sample, else fetched and placed
    on it. A match deleted meanwhile is left out."""
    where = positions(world.ids, results["id"].tolist())
    outside = results["id"][where < 0].tolist()
    stored = index._read_ids(outside) if outside else None
    placed: dict[str, np.ndarray] = {}
    if stored is not None and len(stored):
        placed = dict(zip(stored["id"], world.projection.place(frame_matrix(stored, "values"))))
    keep = (where >= 0) | results["id"].isin(list(placed)).to_numpy()
    results, where = results[keep], where[keep]
    xy = [world.coords[w] if w >= 0 else placed[vid] for vid, w in zip(results["id"], where)]
    known = [world.table.iloc[where[where >= 0]]]
    if stored is not None:
        known.append(stored.drop(columns="values"))
    rows = results[["id"]].merge(pd.concat(known, ignore_index=True), on="id", how="left")
    xy_array = np.asarray(xy, dtype=np.float32).reshape(len(rows), world.projection.n_components)
    return results[["rank", "score"]].reset_index(drop=True), rows, xy_array


def _query_position(index: Index, world: PointMap, point: QueryPoint) -> np.ndarray:
    if point.vector is not None:
        return np.asarray(world.projection.place(point.vector[None, :])[0])
    where = positions(world.ids, [str(point.id)])[0]
    if where >= 0:
        return np.asarray(world.coords[where])
    stored = index._read_ids([str(point.id)])
    return np.asarray(world.projection.place(frame_matrix(stored, "values"))[0])


def _allowed(index: Index, world: PointMap, flt: Any, namespace: str | None) -> np.ndarray:
    """Which background points a query with this filter and namespace could return."""
    if flt is None and namespace is None:
        return np.ones(len(world.ids), dtype=bool)
    return index.matches_filter(world.ids, flt, namespace, stored=world.table).to_numpy(dtype=bool)


def _coloring(table: pd.DataFrame, color: Hashable | None, hover: Any, index: str | None,
              choice: tuple[bool | None, int], universe: pd.Series | None) -> Coloring | None:
    """Check that the `color` and `hover` columns are there, and colour the points by `color` (decided
    from the whole column, `universe`, when it is known)."""
    _check_columns(table, color, hover, index)
    return None if color is None else coloring(table[color], color, *choice, universe=universe)


def _universe(source: Any, world: PointMap, color: Hashable | None) -> pd.Series | None:
    """The whole colour column of a map of a sample: the frame's, or the index's when a local engine can
    read it at once. Over REST a sample's colours are its own (the figures of one index may differ)."""
    if color is None or len(world.table) >= world.total:
        return None
    if isinstance(source, pd.DataFrame):
        return source[color] if color in source.columns else None
    return whole_column(source, color)


def _drawn_once(table: pd.DataFrame, color: Hashable | None) -> pd.Series | None:
    """The colour column of the points drawn, each once: a match in the sample is a row of the table twice,
    and counted twice it could take a more frequent category's colour."""
    if color is None or color not in table.columns:
        return None  # no colour, or a column _coloring says is missing
    return table.drop_duplicates("id")[color]


def _check_background(sample: Sample, color: Hashable | None, hover: Any, index: str) -> None:
    """The early check of a neighbourhood's columns: its matches are drawn too, and may hold a column that
    a partial sample lacks, so it is certain only when the sample is the whole index."""
    if len(sample.table) == sample.total:
        _check_columns(sample.table, color, hover, index)


def _check_columns(table: pd.DataFrame, color: Hashable | None, hover: Any, index: str | None) -> None:
    check_drawn(table, [] if color is None else [color], "color", index)
    check_drawn(table, asked_hover(hover), "hover", index)


def _size(points: int, n_components: int) -> int:
    """The points' size: smaller past 2,000 points, and in 3-D, where markers are drawn larger and a cloud
    would hide the matches inside it."""
    if n_components == 3:
        return 3 if points <= 2_000 else 2
    return 6 if points <= 2_000 else 4


def _background(kind: Any, world: PointMap, mask: np.ndarray, columns: list[Hashable], colors: Coloring | None,
                size: int, listed: Collection[str] = ()) -> list[Any]:
    """The INDEX points: one trace, or one per category (named by it, ranked first in the legend), also for
    a category only the matches hold (`listed`: a legend entry without points); on a colour scale, the
    points without a value apart, named as a category's are ("(none)")."""
    if colors is None:
        return [_points(kind, world, mask, INDEX, columns, {"size": size, "color": _POINT, "opacity": 0.75})]
    if colors.labels is None:
        missing = mask.copy()
        missing[mask] = colors.missing(np.flatnonzero(mask))
        scaled = mask & ~missing
        drawn = [_points(kind, world, scaled, INDEX, columns,
                         {"size": size, "opacity": 0.8, **colors.marker(np.flatnonzero(scaled))})]
        if missing.any():
            drawn.append(_points(kind, world, missing, INDEX, columns,
                                 {"size": size, "opacity": 0.8, "color": MISSING_COLOR}, name=MISSING))
        return drawn
    labels = colors.labels[: len(mask)]
    ranked = list(enumerate(colors.categories, start=1))
    drawn = [_points(kind, world, mask & (labels == category), INDEX, columns,
                     {"size": size, "opacity": 0.8, "color": colors.colors[category]}, legendrank=rank,
                     name=short(category), listed=category in listed)
             for rank, category in ranked[len(colors.kept):] + ranked[:len(colors.kept)]  # "other" underneath
             if (mask & (labels == category)).any() or category in listed]
    if not drawn:
        return [_points(kind, world, mask, INDEX, columns, {"size": size})]
    min(drawn, key=lambda trace: trace.legendrank).update(legendgrouptitle={"text": short(colors.column)})
    return drawn


def _points(kind: Any, world: PointMap, mask: np.ndarray, role: str, columns: list[Hashable],
            marker: dict[str, Any], *, name: str | None = None, legendrank: int | None = None,
            listed: bool = False) -> Any:
    """The points of `mask` in one trace; with none, no legend entry unless `listed`."""
    rows = np.flatnonzero(mask)
    table = world.table.iloc[rows]
    ranked = {} if legendrank is None else {"legendrank": legendrank}
    if listed and not len(rows):
        return legend_entry(kind, role, marker, world.projection.n_components, name=name or role, **ranked)
    return kind(name=name or role, legendgroup=role, mode="markers", marker=marker, customdata=table["id"].tolist(),
                hovertext=hover_text(table, columns), hovertemplate=_HOVER, showlegend=bool(len(rows)), **ranked,
                **positions_of(world.coords[rows]))


def _links(kind: Any, start: np.ndarray, ends: np.ndarray, ids: list[str]) -> Any:
    """One segment from the query to each match, separated by gaps; each end carries the match's id."""
    axes: list[list[float | None]] = [[] for _ in start]
    for end in ends:
        for axis, (a, b) in enumerate(zip(start, end)):
            axes[axis] += [float(a), float(b), None]
    customdata = [end for vid in ids for end in (vid, vid, None)]
    return kind(name=LINKS, legendgroup=LINKS, mode="lines", line={"color": "rgba(60,60,60,0.4)", "width": 1},
                hoverinfo="skip", customdata=customdata, showlegend=bool(ids), **dict(zip("xyz", axes)))


def _matches(kind: Any, ranked: pd.DataFrame, rows: pd.DataFrame, xy: np.ndarray, columns: list[Hashable],
             colors: Coloring | None, first: int, meaning: str) -> Any:
    """The matches, ringed and sized by rank; coloured like the other points (rows `first`... of the colours),
    with a legend entry of their own (`_matches_entry`) when the colours are categories'; the hover says what
    a score is (`meaning`)."""
    ranks = ranked["rank"].to_numpy(dtype=np.float64)
    worst = ranks.max() if len(ranks) else 1.0
    sizes = 9 + 9 * (worst - ranks) / max(worst - 1, 1)  # rank 1: 18 px, the last rank: 9 px
    marker: dict[str, Any] = {"size": sizes, "line": {"width": 2, "color": _INK}, "opacity": 1.0, "color": _MATCH}
    if colors is not None:
        marker.update(colors.marker(np.arange(first, first + len(rows))))
    scores = [f"{score:.4g} ({meaning})" if meaning else score for score in ranked["score"].tolist()]
    text = hover_text(rows, columns, {"rank": ranked["rank"].tolist(), "score": scores})
    entry = bool(len(rows)) and (colors is None or not colors.discrete)
    return kind(name=MATCHES, legendgroup=MATCHES, mode="markers", marker=marker, customdata=rows["id"].tolist(),
                hovertext=text, hovertemplate=_HOVER, showlegend=entry, **positions_of(xy))


def _matches_entry(kind: Any, n_components: int) -> Any:
    """The matches' legend entry when they are filled with their categories' colours (the matches trace's
    own entry would take the first match's colour, as if "matches" were a category): a ring."""
    return legend_entry(kind, MATCHES, {"color": "white", "line": {"width": 2, "color": _INK}}, n_components)


def _query(kind: Any, point: QueryPoint, xy: np.ndarray) -> Any:
    three_d = len(xy) == 3
    marker = {"symbol": "diamond" if three_d else "star", "size": 9 if three_d else 20, "color": _INK,
              "line": {"width": 1, "color": "white"}}
    return kind(name=QUERY, legendgroup=QUERY, mode="markers", marker=marker, customdata=[point.id],
                hovertext=[f"<b>query</b>: {plain(point.label)}"], hovertemplate=_HOVER, **positions_of(xy[None, :]))


def _method_text(world: PointMap) -> str:
    return f"projected with {world.projection.method.upper()}"


def _subtitle(results: pd.DataFrame, world: PointMap, flt: Any, namespace: str | None, note: str) -> str:
    asked = f"top {len(results)}" if len(results) else "no match"
    if flt is not None:
        asked += f" with filter {_short_json(flt)}"
    if namespace is not None:
        asked += f" in namespace {plain(repr(namespace))}"
    return "; ".join(part for part in (asked, f"background: {world.describe()}", _method_text(world), note) if part)


def _short_json(flt: Any) -> str:
    text = json.dumps(flt.to_json() if hasattr(flt, "to_json") else flt, separators=(",", ":"), default=str)
    return plain(text if len(text) <= 80 else text[:77] + "...")


def _finish(fig: Any, world: PointMap, title: str, subtitle: str, colors: Coloring | None,
            meta: dict[str, Any]) -> None:
    """Title, axes and legend: a legend of categories stands at the right, as in plotly express, and the
    other roles' entries in a row above the map (below 20 categories they would fall off a PNG);
    otherwise the legend lies below the map and a colour scale stands at the right."""
    by_category = colors is not None and colors.discrete
    right = {"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02}
    below = {"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0}
    shared = {"itemsizing": "constant", "groupclick": "toggleitem", "tracegroupgap": 8}
    layout: dict[str, Any] = {
        "template": TEMPLATE, "title": heading(title, subtitle), "meta": {**meta, "subtitle": subtitle},
        "legend": {**(right if by_category else below), **shared}, **axis_layout(world.projection, fig.data),
    }
    if by_category and any(trace.legendgroup != INDEX for trace in fig.data):
        layout["legend2"] = {"orientation": "h", "yanchor": "bottom", "y": 1, "xanchor": "right", "x": 1,
                             **shared, "groupclick": "togglegroup"}  # the matches' entry hides the matches
        fig.update_traces(legend="legend2", selector=lambda trace: trace.legendgroup != INDEX)
    if colors is not None and colors.coloraxis is not None:
        layout["coloraxis"] = {**colors.coloraxis, "colorbar": {"title": {"text": short(colors.column)}}}
    fig.update_layout(**layout)
