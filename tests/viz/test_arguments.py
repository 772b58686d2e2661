"""Bad arguments: an error naming the argument and the value, before anything is read or computed."""

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.viz import (ColumnNotFound, compare, plot_comparison, plot_index, plot_neighbourhood, plot_scores,
                              project, to_png)

from ..helpers import TINY


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda idx, frame: plot_neighbourhood(frame, "v001"), TypeError,
     "plot_neighbourhood draws an Index (client.get_index(name)), got a DataFrame; plot_index(frame) maps one"),
    (lambda idx, frame: plot_index(None), TypeError, "plot_index draws an Index or a DataFrame of vectors, got None"),
    (lambda idx, frame: plot_index(idx, color=["genre"]), TypeError,
     "color names one column, got ['genre']; more columns are shown with hover=[...]"),
    (lambda idx, frame: plot_index(idx, sample=2.5), TypeError, "sample must be a whole number of at least 1, got 2.5"),
    (lambda idx, frame: plot_index(idx, sample="10"), TypeError,
     "sample must be a whole number of at least 1, got '10'"),
    (lambda idx, frame: plot_neighbourhood(idx, "v001", background=0), ValueError,
     "background must be a whole number of at least 1, got 0"),
    (lambda idx, frame: plot_index(frame, metric="manhattan"), ValueError,
     "metric is one of 'cosine', 'euclidean', 'dot-product', got 'manhattan'"),
    (lambda idx, frame: plot_index(idx, method="umap", n_neighbors=-3), ValueError,
     "n_neighbors must be a whole number of at least 2, got -3"),
    (lambda idx, frame: plot_neighbourhood(idx, "v001", max_categories=0), ValueError,
     "max_categories must be a whole number of at least 1, got 0"),
    (lambda idx, frame: plot_neighbourhood(idx, "v001", method="tsne"), ValueError,
     "method is one of 'auto', 'pca', 'umap', got 'tsne'"),
    (lambda idx, frame: plot_neighbourhood(idx, ["a", "b"]), ValueError,  # was numpy's "could not convert string"
     "query is a vector of numbers, a stored id or a DataFrame row; got ['a', 'b']"),
    (lambda idx, frame: plot_neighbourhood(idx, {"values": [1, 2]}), TypeError,
     "query is a vector of numbers, a stored id or a DataFrame row; got {'values': [1, 2]}"),
])
def test_a_map_refuses_bad_arguments_before_any_work(index, fits, capsys, call, error, message):
    with pytest.raises(error) as raised:
        call(index, index.to_frame())
    assert str(raised.value) == message
    assert fits == [] and capsys.readouterr().out == ""  # DataFrame.info() printed the frame's summary


def test_project_refuses_an_unknown_metric_and_vectors_that_are_not_numbers():
    with pytest.raises(ValueError, match="^metric is one of 'cosine', 'euclidean', 'dot-product', got 'manhattan'$"):
        project(np.ones((10, 5)), metric="manhattan")
    vectors = np.ones((10, 5))
    vectors[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"^vectors must hold finite numbers: row 3 holds nan \(a projection"):
        project(vectors)  # was numpy's "SVD did not converge"
    with pytest.raises(ValueError, match="^n_neighbors must be a whole number of at least 2, got 1$"):
        project(np.ones((10, 5)), "umap", n_neighbors=1)  # was clamped to 2 without a word
    for given in ["x", [[1.0, 2.0], [3.0]], [["a", "b"]]]:  # numpy's "could not convert string to float: 'x'"
        with pytest.raises(ValueError, match=r"^vectors must be a 2-D array of numbers \(one row per vector\), got "):
            project(given)


def test_plot_scores_refuses_what_is_not_results(index):
    hits = index.query([0.0, 0.0], top_k=3)
    with pytest.raises(ValueError, match="^results is an empty dict: give it a DataFrame of results per label$"):
        plot_scores({})
    with pytest.raises(TypeError, match="^results is a DataFrame of results, or a dict of label to .*; got list$"):
        plot_scores([hits])
    with pytest.raises(TypeError, match=r"^results\['all'\] is a list, not a DataFrame of results$"):
        plot_scores({"all": [hits]})
    with pytest.raises(TypeError, match="^max_lines must be a whole number of at least 0, got '3'$"):
        plot_scores(hits, max_lines="3")


def test_compare_takes_integer_ids_as_ids_and_refuses_no_depth_or_no_queries():
    frame = pd.DataFrame({"id": range(20), "embedding": list(np.random.default_rng(0).standard_normal((20, 4)))})
    with vz.connect("memory", limits=TINY) as client:
        a, b = client.create_index("ints-a", 4), client.create_index("ints-b", 4, "euclidean")
        for idx in (a, b):
            frame.vectorize.upsert(idx, id="id", vector="embedding")
        table = compare(a, b, [0, 1, 2], top_k=5)  # ids written from range(20) are stored as "0", "1", ...
        assert table["query"].tolist() == ["0", "1", "2"] and table["shared"].tolist()
        assert compare(a, b, frame["id"].head(3), top_k=5)["query"].tolist() == ["0", "1", "2"]
        assert compare(a, b, np.array(["0", "1"]), top_k=5)["query"].tolist() == ["0", "1"]
        with pytest.raises(ValueError, match="^top_k must be a whole number of at least 1, got 0$"):
            compare(a, b, ["1"], top_k=0)  # was a row of NaN
        with pytest.raises(ValueError, match="^queries is empty: compare needs at least one stored id, vector or"):
            plot_comparison(compare(a, b, np.empty((0, 4))))  # was a KeyError about missing columns


def test_to_png_refuses_what_is_not_a_figure(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")  # said before the browser is looked for
    with pytest.raises(TypeError, match="^to_png renders a plotly figure \\(or its dict\\), got str 'not a figure'$"):
        to_png("not a figure")


@pytest.mark.parametrize("draw", [
    lambda idx: plot_index(idx, color="genr"),
    lambda idx: plot_index(idx.to_frame(), color="genr"),
    lambda idx: plot_neighbourhood(idx, "v001", color="genr"),
    lambda idx: plot_index(idx, hover=["year", "genr"]),
])
def test_a_misspelt_column_is_said_before_the_projection_is_computed(index, fits, draw):
    """color='lable' with method='umap' was reported after 6.6 s of UMAP."""
    with pytest.raises(ColumnNotFound, match="'genr'"):
        draw(index)
    assert fits == []


def test_a_frame_drawn_but_never_written_may_have_ids_longer_than_an_index_takes():
    from vectorize_nb.viz.inputs import frame_ids

    assert frame_ids(pd.DataFrame({"id": ["y" * 69, "b"]})) == ["y" * 69, "b"]
