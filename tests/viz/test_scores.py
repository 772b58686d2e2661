"""plot_scores: score by rank for one query, many, or several runs overlaid."""

import numpy as np
import pytest

from vectorize_nb.viz import plot_scores


def test_one_query_is_one_line(index):
    hits = index.query([0.0, 0.0], top_k=8)
    fig = plot_scores(hits)
    assert len(fig.data) == 1 and list(fig.data[0].x) == list(range(1, 9))
    assert list(fig.data[0].customdata) == hits["id"].tolist()
    np.testing.assert_allclose(fig.data[0].y, hits["score"])
    assert fig.layout.yaxis.title.text == "score (euclidean distance: lower is closer)"


def test_a_few_queries_get_a_line_each(index):
    hits = index.query_many(np.array([[0, 0], [10, 10], [5, 5]], np.float32), top_k=4, keys=["a", "b", "c"])
    fig = plot_scores(hits)
    assert [t.name for t in fig.data] == ["a", "b", "c"]
    assert list(fig.data[1].customdata) == hits.loc[hits["query"] == "b", "id"].tolist()


def test_many_queries_are_a_median_and_a_band(index, data):
    hits = data.head(40).vectorize.query(index, vector="values", top_k=5)  # first column: "row"
    fig = plot_scores(hits)
    median = fig.data[-1]
    assert median.name == "queries: median of 40 queries"
    np.testing.assert_allclose(median.y, hits.groupby("rank")["score"].median())
    assert fig.data[1].fill == "tonexty"


def test_runs_overlay_with_and_without_a_filter(index):
    queries = np.array([[0, 0], [10, 10]], np.float32)
    runs = {"all": index.query_many(queries, top_k=5),
            "noir": index.query_many(queries, top_k=5, filter={"genre": "noir"})}
    fig = plot_scores(runs)
    assert [t.name for t in fig.data] == ["all: 0", "all: 1", "noir: 0", "noir: 1"]
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert fig.data[2].y[0] > fig.data[0].y[0]  # the filter pushed the nearest match of [0, 0] further away
    summed = plot_scores(runs, max_lines=2)
    assert [t.name for t in summed.data if t.showlegend is not False] == [
        "all: 10-90%", "all: median of 2 queries", "noir: 10-90%", "noir: median of 2 queries"]


def test_a_frame_without_scores_is_refused(index):
    with pytest.raises(KeyError, match="results columns 'rank', 'score' not in the frame; its columns are: 'id'"):
        plot_scores(index.to_frame(values=False))
