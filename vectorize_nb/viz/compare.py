"""Two indexes, the same questions: how far do their answers agree?

    table = compare(minilm, bge, ids)                # stored ids present in both indexes
    table = compare(local, remote, X)                # an (n, d) array, when the dimensions agree
    table = compare(minilm, bge, queries, vectors=("minilm", "bge"))   # a frame, one vector column each
    table = compare(minilm, bge, ["how do I read a CSV?"], text=True)   # questions, each index's model
    plot_comparison(table)

Per query: `overlap` (overlap@k: the share of the top k both returned), `rbo` (rank-biased overlap,
p=0.9: agreement weighted towards the top ranks, 1 for identical lists), `kendall_tau` (Kendall's tau
between the two orders of the ids both returned; NaN when fewer than two), `top1_same`. When the
queries are stored ids, each index is queried with its own stored vector for the id and the id
itself is left out of both answers (it would always agree).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from ..contract.validation import id_text
from ..frames import check_columns
from ..index import Index
from .inputs import frame_matrix, vector_column, whole_number
from .traces import TEMPLATE, heading, plain, plotly, short, shorten

__all__ = ["compare", "plot_comparison", "agreement", "rank_biased_overlap"]

RBO_P = 0.9
_LONGEST = 24  # characters of a query's tick label (its hover shows all of it)


def compare(index_a: Index, index_b: Index, queries: Any, top_k: int = 10, *,
            vectors: Hashable | tuple[Hashable, Hashable] | None = None, key: Hashable | None = None,
            filter: Any = None, namespace: str | None = None, text: Hashable | bool | None = None,
            model: str | tuple[str, str] | None = None, pooling: str | None = None) -> pd.DataFrame:
    """Overlap@k and rank agreement of the two indexes' answers to the same questions, one row per query.

    Parameters
    ----------
    index_a, index_b : Index
        The two indexes (two embeddings of the same data, or a local index and its Cloudflare copy).
    queries : list of str, ndarray or DataFrame
        Stored ids present in both indexes (integers are ids too: 7 is "7"; each index is then queried
        with its own vector for the id, and the id itself is left out of both answers); an (n, d) array
        when both indexes have d dimensions; a DataFrame with a vector column for each index; or
        questions (with `text`), which each index embeds as `Index.query` does a text.
    top_k : int, default 10
        The depth compared (k of overlap@k); at the largest, 100, a stored id's answers are 99 others.
    vectors : str or (str, str), optional
        A frame's vector column for both indexes, or one for each (default: a 'values', 'embedding' or 'vector' column).
    key : str, optional
        A frame's column that names each query (default: the row labels).
    filter, namespace : optional
        Asked of both indexes, as for `Index.query`.
    text : True or str, optional
        True: `queries` is a list of questions; a column name: a frame's column of questions.
    model : str or (str, str), optional
        With `text`: the embedding model for both indexes, or one for each (default: the model each
        index was created from, its preset; `UnknownModel` when it has none).
    pooling : {"mean", "cls"}, optional
        With `text`: as for `Client.embed`.

    Returns
    -------
    DataFrame
        `query`, `overlap` (the share of the top k both returned), `rbo` (rank-biased overlap, p=0.9),
        `kendall_tau` (between the two orders of the ids both returned; NaN for fewer than two),
        `top1_same` and `shared`; `attrs` name the indexes and hold `mean_overlap`.

    Examples
    --------
    >>> table = compare(small, large, docs["id"].sample(40).tolist(), top_k=10)
    >>> plot_comparison(table)
    Figure({...})
    """
    top_k = _checked(index_a, index_b, top_k)
    if hasattr(queries, "__len__") and len(queries) == 0:
        raise ValueError("queries is empty: compare needs at least one stored id, vector or row to ask both indexes")
    keys, matrix_a, matrix_b, own_ids = _questions(index_a, index_b, queries, (vectors, key), (text, model, pooling))
    answers = []
    for index, matrix in ((index_a, matrix_a), (index_b, matrix_b)):
        asked = top_k + 1 if own_ids and top_k < index.limits.max_top_k else top_k  # one more: the id itself
        hits = index.query_many(matrix, asked, keys=list(range(len(keys))), filter=filter, namespace=namespace)
        answers.append(_ranked_ids(hits, len(keys), own_ids, top_k))
    rows = [agreement(a, b) for a, b in zip(*answers)]
    table = pd.DataFrame(rows)
    table.insert(0, "query", pd.Series(list(keys), dtype=object) if len(keys) else pd.Series([], dtype=object))
    table.attrs.update({"operation": "compare", "index_a": index_a.name, "index_b": index_b.name, "top_k": top_k,
                        "target_a": index_a.target, "target_b": index_b.target, "filter": filter,
                        "namespace": namespace, "mean_overlap": float(table["overlap"].mean()) if len(table) else None})
    return table


def _checked(index_a: Any, index_b: Any, top_k: Any) -> int:
    """compare's `top_k`, once both indexes are seen to be Index handles."""
    for name, index in (("index_a", index_a), ("index_b", index_b)):
        if not isinstance(index, Index):
            raise TypeError(f"compare's {name} must be an Index (client.get_index(name)), got {index!r:.40}")
    return whole_number(top_k, "top_k", 1)


def _questions(index_a: Index, index_b: Index, queries: Any, columns: tuple[Any, Hashable | None],
               embedding: tuple[Hashable | bool | None, Any, str | None]
               ) -> tuple[list[Any], np.ndarray, np.ndarray, list[str] | None]:
    """(keys, vectors for A, vectors for B, the stored ids when the queries are ids)."""
    vectors, key = columns
    text, model, pooling = embedding
    if text is not None and text is not False:
        return (*_asked(index_a, index_b, _texts(queries, text, key), model, pooling), None)
    if model is not None or pooling is not None:
        raise ValueError("model= and pooling= go with text= (True for a list of questions, or a frame's column of "
                         "questions)")
    if isinstance(queries, pd.DataFrame):
        names = (vectors, vectors) if not isinstance(vectors, tuple) else vectors
        first, second = (vector_column(queries, name) for name in names)
        if key is not None:
            check_columns(queries, [key], "key")
        keys = list(queries[key] if key is not None else queries.index)
        return keys, frame_matrix(queries, first), frame_matrix(queries, second), None
    if _are_ids(queries):
        ids = [id_text(vid) for vid in queries]
        return ids, _stored(index_a, ids), _stored(index_b, ids), ids
    matrix = np.asarray(queries, dtype=np.float32)
    if matrix.ndim != 2 or index_a.dimensions != index_b.dimensions or matrix.shape[1] != index_a.dimensions:
        raise ValueError(f"an array of queries must be (n, d) with d the dimensions of both indexes; got shape "
                         f"{matrix.shape} for indexes of {index_a.dimensions} and {index_b.dimensions} dimensions "
                         "(for indexes of different dimensions give stored ids or a frame with a column for each)")
    return list(range(len(matrix))), matrix, matrix, None


def _texts(queries: Any, text: Hashable | bool, key: Hashable | None) -> tuple[list[Any], list[str]]:
    """(keys, questions): a frame's `text` column (keyed by `key`, else the row labels), or a list of questions
    (keyed by themselves)."""
    if isinstance(queries, pd.DataFrame):
        if text is True:
            raise ValueError("text= names the frame's column of questions: compare(a, b, frame, text='question')")
        check_columns(queries, [text] + ([] if key is None else [key]), "text")
        return list(queries[key] if key is not None else queries.index), queries[text].tolist()
    if isinstance(queries, str):
        raise ValueError("queries is a list of questions, not one: compare(a, b, [the_question], text=True)")
    if text is not True:
        raise ValueError(f"text={text!r} names a frame's column of questions, but queries is a "
                         f"{type(queries).__name__}: for a list of questions, text=True")
    questions = list(queries)
    odd = next((q for q in questions if not isinstance(q, str)), None)
    if odd is not None:
        raise TypeError(f"with text=True each query is a question (str); got {odd!r:.40}")
    return questions, questions


def _asked(index_a: Index, index_b: Index, asked: tuple[list[Any], list[str]], model: Any, pooling: str | None
           ) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """(keys, the questions embedded for A, for B): by each index as its `query` embeds a text."""
    keys, questions = asked
    models = model if isinstance(model, tuple) else (model, model)
    return keys, index_a.embed(questions, models[0], pooling), index_b.embed(questions, models[1], pooling)


def _are_ids(queries: Any) -> bool:
    if isinstance(queries, str):
        raise ValueError("queries is a list of ids, not one id: compare(a, b, [the_id])")
    if not isinstance(queries, (list, tuple, pd.Index, pd.Series, np.ndarray)) or np.ndim(queries) != 1:
        return False
    return len(queries) > 0 and all(isinstance(id_text(v), str) for v in queries)  # 7 is id "7", as in writes


def _stored(index: Index, ids: Sequence[str]) -> np.ndarray:
    stored = index._read_ids(ids)
    missing = sorted(set(ids) - set(stored["id"]))
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise KeyError(f"index {index.name!r} has no vector for {shown}: compare needs ids stored in both indexes "
                       "(for questions, text=True)")
    return frame_matrix(stored.set_index("id").loc[list(ids)].reset_index(), "values")


def _ranked_ids(hits: pd.DataFrame, count: int, own_ids: list[str] | None, top_k: int) -> list[list[str]]:
    """Each query's ids in rank order, without the query's own id when the queries are stored ids."""
    answers: list[list[str]] = [[] for _ in range(count)]
    for position, vid in zip(hits["query"].tolist(), hits["id"].tolist()):
        if own_ids is None or vid != own_ids[position]:
            answers[position].append(vid)
    return [ids[:top_k] for ids in answers]


def agreement(a: Sequence[str], b: Sequence[str], p: float = RBO_P) -> dict[str, Any]:
    """How far two ranked lists of ids agree.

    Parameters
    ----------
    a, b : sequence of str
        The two answers, best first.
    p : float, default 0.9
        Rank-biased overlap's persistence: the weight of each next rank.

    Returns
    -------
    dict
        overlap, rbo, kendall_tau, top1_same and shared (as in `compare`'s columns).
    """
    shared = set(a) & set(b)
    depth = max(len(a), len(b))
    return {
        "overlap": len(shared) / depth if depth else np.nan,
        "rbo": rank_biased_overlap(a, b, p),
        "kendall_tau": _kendall_tau([vid for vid in a if vid in shared], {vid: r for r, vid in enumerate(b)}),
        "top1_same": bool(a) and bool(b) and a[0] == b[0],
        "shared": len(shared),
    }


def rank_biased_overlap(a: Sequence[str], b: Sequence[str], p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap (Webber, Moffat & Zobel 2010, eq. 32) to the shorter list's depth.

    Parameters
    ----------
    a, b : sequence of str
        Two rankings, best first.
    p : float, default 0.9
        The persistence: smaller weighs the top ranks more.

    Returns
    -------
    float
        1 for identical lists, 0 for disjoint ones; NaN when either is empty.
    """
    depth = min(len(a), len(b))
    if depth == 0:
        return np.nan
    seen_a: set[str] = set()
    seen_b: set[str] = set()
    overlap = 0
    total = 0.0
    for d in range(1, depth + 1):
        x, y = a[d - 1], b[d - 1]
        overlap += (x == y) + (x in seen_b) + (y in seen_a)
        seen_a.add(x)
        seen_b.add(y)
        total += overlap / d * p ** d
    return float(overlap / depth * p ** depth + (1 - p) / p * total)


def _kendall_tau(order_a: list[str], rank_b: dict[str, int]) -> float:
    """Kendall's tau between the order of `order_a` and those ids' ranks in the other list."""
    n = len(order_a)
    if n < 2:
        return np.nan
    ranks = np.asarray([rank_b[vid] for vid in order_a])
    signs = np.sign(ranks[None, :] - ranks[:, None])[np.triu_indices(n, 1)]
    return float(signs.sum() / len(signs))


def plot_comparison(table: pd.DataFrame, *, title: str | None = None) -> Any:
    """Bars of overlap@k per query, best first, with RBO and Kendall's tau as markers.

    Parameters
    ----------
    table : DataFrame
        What `compare` returned.
    title : str, optional
        Replaces the title ("<index a> vs <index b>").

    Returns
    -------
    plotly.graph_objects.Figure
        Three traces: "overlap@k" (bars), "rank-biased overlap" and "Kendall's tau (shared ids)"
        (markers); each point's customdata is its query.
    """
    go = plotly()
    check_columns(table, ["query", "overlap", "rbo", "kendall_tau"], "comparison")
    ordered = table.sort_values(["overlap", "rbo"], ascending=False, kind="stable")
    x = list(range(len(ordered)))
    keys = [str(k) for k in ordered["query"]]
    shown = {"customdata": keys, "hovertext": [plain(key) for key in keys]}
    k = table.attrs.get("top_k", "k")
    fig = go.Figure([
        go.Bar(x=x, y=ordered["overlap"], name=f"overlap@{k}", marker={"color": "#9db4d6"}, **shown,
               hovertemplate="%{hovertext}: overlap %{y:.0%}<extra></extra>"),
        go.Scatter(x=x, y=ordered["rbo"], name="rank-biased overlap", mode="markers", **shown,
                   marker={"color": "#d62728", "size": 7}, hovertemplate="%{hovertext}: RBO %{y:.3f}<extra></extra>"),
        go.Scatter(x=x, y=ordered["kendall_tau"], name="Kendall's tau (shared ids)", mode="markers", **shown,
                   marker={"color": "#222222", "symbol": "x", "size": 7},
                   hovertemplate="%{hovertext}: tau %{y:.3f}<extra></extra>"),
    ])
    a, b = (short(table.attrs.get(name, default)) for name, default in (("index_a", "A"), ("index_b", "B")))
    subtitle = _summary(table, k)
    low = min(0.0, float(np.nanmin(ordered["kendall_tau"]))) if ordered["kendall_tau"].notna().any() else 0.0
    fig.update_layout(template=TEMPLATE, title=heading(title or f"{a} vs {b}", subtitle),
                      meta={"kind": "comparison", "subtitle": subtitle},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1, "xanchor": "right", "x": 1},
                      xaxis={"title": {"text": "queries, by overlap"}, "tickvals": x if len(x) <= 40 else None,
                             "ticktext": [plain(shorten(key, _LONGEST)) for key in keys] if len(x) <= 40 else None},
                      yaxis={"title": {"text": "agreement"}, "range": [low - 0.05, 1.05]}, bargap=0.15)
    return fig


def _summary(table: pd.DataFrame, k: Any) -> str:
    """"12 queries; mean overlap@10 68%, mean RBO 0.51", or what stands for a mean of nothing."""
    asked = f"{len(table)} {'query' if len(table) == 1 else 'queries'}"
    if not table["overlap"].notna().any():
        return f"{asked}; neither index returned a match" if len(table) else "no queries"
    means = [f"mean overlap@{k} {table['overlap'].mean():.0%}"]
    if table["rbo"].notna().any():  # NaN where one index returned nothing
        means.append(f"mean RBO {table['rbo'].mean():.2f}")
    return f"{asked}; {', '.join(means)}"
