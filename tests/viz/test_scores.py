"""plot_scores: score by rank for one query, many, or several runs overlaid."""

import numpy as np
import pytest

from vectorize_nb.errors import VectorizeWarning
from vectorize_nb.viz import plot_scores

from .conftest import titles


def test_one_query_is_one_line(index):
    hits = index.query([0.0, 0.0], top_k=8)
    fig = plot_scores(hits)
    assert len(fig.data) == 1 and list(fig.data[0].x) == list(range(1, 9))
    assert list(fig.data[0].customdata) == hits["id"].tolist()
    np.testing.assert_allclose(fig.data[0].y, hits["score"])
    assert fig.layout.yaxis.title.text == "score (euclidean distance: lower is closer)"


def test_dot_product_scores_say_lower_is_closer(dots):
    """The y axis said "score (dot-product)" over a curve rising with rank: the score is the negative dot."""
    hits = dots.query([10.0, 10.0], top_k=5)
    assert hits["score"].is_monotonic_increasing and hits["score"].iloc[0] < 0
    fig = plot_scores(hits)
    assert fig.layout.yaxis.title.text == "score (negative dot product: lower is closer)"
    hits.attrs["metric"] = "cosine"
    assert plot_scores(hits).layout.yaxis.title.text == "score (cosine similarity: higher is closer)"


def test_runs_of_indexes_of_other_metrics_say_what_each_score_is(index, dots):
    """Overlaid, a euclidean run and a dot-product run were both titled by the first run's metric."""
    runs = {"euclid": index.query([1.0, 1.0], top_k=5), "dots": dots.query([1.0, 1.0], top_k=5)}
    assert plot_scores(runs).layout.yaxis.title.text == (
        "score<br>euclid: euclidean distance: lower is closer<br>dots: negative dot product: lower is closer")
    runs["dots"].attrs["metric"] = "euclidean"
    assert plot_scores(runs).layout.yaxis.title.text == "score (euclidean distance: lower is closer)"


def test_a_few_queries_get_a_line_each(index):
    hits = index.query_many(np.array([[0, 0], [10, 10], [5, 5]], np.float32), top_k=4, keys=["a", "b", "c"])
    fig = plot_scores(hits)
    assert [t.name for t in fig.data] == ["a", "b", "c"]
    assert list(fig.data[1].customdata) == hits.loc[hits["query"] == "b", "id"].tolist()


def test_many_queries_are_a_median_and_a_band(index, data):
    hits = data.head(40).vectorize.query(index, vector="values", top_k=5)
    fig = plot_scores(hits)
    median = fig.data[-1]
    assert median.name == "median of 40 queries" and {t.legendgroup for t in fig.data} == {"queries"}
    np.testing.assert_allclose(median.y, hits.groupby("rank")["score"].median())
    assert fig.data[1].fill == "tonexty"
    assert titles(fig)[1] == "40 queries"


def test_runs_overlay_with_and_without_a_filter(index):
    queries = np.array([[0, 0], [10, 10]], np.float32)
    runs = {"all": index.query_many(queries, top_k=5),
            "noir": index.query_many(queries, top_k=5, filter={"genre": "noir"})}
    fig = plot_scores(runs)
    assert [(t.legendgroup, t.name) for t in fig.data] == [
        ("all", "query 0"), ("all", "query 1"), ("noir", "query 0"), ("noir", "query 1")]
    assert [t.legendgrouptitle.text for t in fig.data] == ["all", None, "noir", None]
    assert fig.layout.legend.groupclick == "toggleitem" and "<extra>noir: query 1</extra>" in fig.data[3].hovertemplate
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert fig.data[2].y[0] > fig.data[0].y[0]  # the filter pushed the nearest match of [0, 0] further away
    assert titles(fig) == ("Score by rank", "queries per run: all: 2, noir: 2")
    summed = plot_scores(runs, max_lines=2)
    assert [(t.legendgroup, t.name) for t in summed.data if t.showlegend is not False] == [
        ("all", "10-90% of queries"), ("all", "median of 2 queries"),
        ("noir", "10-90% of queries"), ("noir", "median of 2 queries")]


def test_a_line_is_named_by_the_key_that_labels_its_query(index, data):
    """The legend used to read "all: 0, all: 1": the run's label and a bare key."""
    rows = data.head(3).set_axis([10, 11, 12])
    by_label = plot_scores({"all": rows.vectorize.query(index, vector="values", top_k=3)})
    assert [t.name for t in by_label.data] == ["row 10", "row 11", "row 12"]
    by_id = plot_scores(rows.vectorize.query(index, vector="values", top_k=3, key="id"))
    assert [t.name for t in by_id.data] == ["id v000", "id v001", "id v002"]
    long_key = rows.assign(id=["a-very-long-document-identifier-" + str(i) for i in range(3)])
    named = plot_scores(long_key.vectorize.query(index, vector="values", top_k=3, key="id"))
    assert named.data[0].name == "id a-very-long-document-identifier-0"  # 37 characters: whole
    assert "<extra>id a-very-long-document-identifier-0</extra>" in named.data[0].hovertemplate


def test_long_keys_keep_their_end_in_the_legend(index, data):
    """Three URL ids all read "id https://docs.example.com/gui…": the legend kept only their start."""
    urls = [f"https://docs.example.com/guide/chapter-{i}/page" for i in range(3)]
    rows = data.head(3).assign(id=urls)
    fig = plot_scores(rows.vectorize.query(index, vector="values", top_k=3, key="id"))
    assert [t.name for t in fig.data] == [f"id https://docs.example.com…apter-{i}/page" for i in range(3)]
    assert {len(t.name) for t in fig.data} == {40}


def test_a_frame_without_scores_is_refused(index):
    with pytest.raises(KeyError, match="results columns 'rank', 'score' not in the frame; its columns are: 'id'"):
        plot_scores(index.to_frame(values=False))


def test_one_band_takes_the_first_colour(index, data):
    fig = plot_scores(data.head(40).vectorize.query(index, vector="values", top_k=5))
    assert fig.data[-1].line.color == "#636EFA"  # plotly's first colour, not the 40th of a long palette


def test_a_query_without_matches_says_so(index):
    """An empty answer drew empty axes under "1 query"."""
    with pytest.warns(VectorizeWarning, match="no vector in the namespace 'nowhere'"):
        empty = index.query(np.array([0.0, 0.0], np.float32), top_k=5, namespace="nowhere")
    assert titles(plot_scores(empty))[1] == "1 query; no matches"
    assert titles(plot_scores({"all": index.query_many(np.ones((2, 2), np.float32)), "none": empty}))[1] == (
        "queries per run: all: 2, none: 1 (no matches)")


def test_queries_that_matched_nothing_are_counted_as_asked(index):
    """Four queries filtered to nothing said "0 queries", then "no matches" without a count: a result says how many
    queries it asked (`attrs["queries"]`); a frame that does not is counted by the queries it holds."""
    with pytest.warns(VectorizeWarning, match="no vector in the namespace 'nowhere'"):
        empty = index.query_many(np.ones((4, 2), np.float32), top_k=5, namespace="nowhere")
    assert titles(plot_scores(empty))[1] == "4 queries; no matches"
    assert titles(plot_scores({"all": index.query_many(np.ones((2, 2), np.float32)), "none": empty}))[1] == (
        "queries per run: all: 2, none: 4 (no matches)")
    empty.attrs.pop("queries")
    assert titles(plot_scores(empty))[1] == "no matches"


def test_queries_of_a_run_that_matched_nothing_are_counted_beside_those_that_did(index, data):
    """A run where some queries matched nothing (per-row namespaces, a filter) said only how many matched: beside a
    run where all did, it looked like fewer queries were asked."""
    asked = data.head(3).assign(where=[None, "nowhere", None])
    with pytest.warns(VectorizeWarning, match="no vector in the namespace 'nowhere'"):
        some = asked.vectorize.query(index, vector="values", top_k=3, namespace="where")
    assert some.attrs["queries"] == 3 and some["query"].nunique() == 2
    assert titles(plot_scores(some))[1] == "3 queries, 1 matched nothing"
    every = asked.vectorize.query(index, vector="values", top_k=3)
    assert titles(plot_scores({"all": every, "some": some}))[1] == (
        "queries per run: all: 3, some: 3 (1 matched nothing)")
    assert index.query([0.0, 0.0]).attrs["queries"] == 1
