"""compare: overlap@k and rank agreement of two indexes, per query; plot_comparison."""

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.viz import compare, plot_comparison
from vectorize_nb.viz.compare import agreement, rank_biased_overlap

from ..helpers import TINY
from .conftest import fill, titles


@pytest.fixture
def pair(data):
    """The same 300 points in 2-D (A) and lifted to 3-D (B); in B the second cluster's points are shuffled."""
    with vz.connect("memory", limits=TINY) as client:
        a = client.create_index("flat", 2, "euclidean")
        fill(a, data)
        b = client.create_index("lifted", 3, "euclidean")
        lifted = np.column_stack([np.stack(data["values"]), np.zeros(len(data), np.float32)])
        rng = np.random.default_rng(5)
        moved = (data["genre"] == "comedy").to_numpy()
        lifted[moved] = lifted[moved][rng.permutation(moved.sum())]
        b.upsert(data["id"].tolist(), lifted)
        yield a, b


def test_identical_indexes_agree_on_everything(index, data):
    with vz.connect("memory", limits=TINY) as client:
        twin = client.create_index("twin", 2, "euclidean")
        fill(twin, data)
        table = compare(index, twin, ["v001", "v002", "v003"], top_k=5)
    assert table.columns.tolist() == ["query", "overlap", "rbo", "kendall_tau", "top1_same", "shared"]
    assert table["query"].tolist() == ["v001", "v002", "v003"]
    assert (table[["overlap", "rbo", "kendall_tau"]] == 1.0).all().all() and table["top1_same"].all()
    assert table.attrs["index_a"] == "points" and table.attrs["index_b"] == "twin" and table.attrs["top_k"] == 5


def test_stored_ids_leave_themselves_out(pair, data):
    a, b = pair
    drama = data.loc[data["genre"] == "drama", "id"].head(5).tolist()
    comedy = data.loc[data["genre"] == "comedy", "id"].head(5).tolist()
    table = compare(a, b, drama + comedy, top_k=5).set_index("query")
    assert (table.loc[drama, "overlap"] == 1.0).all()  # untouched cluster: the same neighbours
    assert (table.loc[comedy, "overlap"] < 1.0).all()  # shuffled cluster: other neighbours
    assert (table.loc[drama, "shared"] == 5).all()  # five neighbours besides the id itself


def test_ids_at_the_largest_top_k_leave_themselves_out_of_it(index, data):
    """compare(a, b, ids, top_k=100) failed with "max top K is 100, but got 101": it asked one match more
    to drop each id's own vector."""
    with vz.connect("memory", limits=TINY) as client:
        twin = client.create_index("twin", 2, "euclidean")
        fill(twin, data)
        table = compare(index, twin, ["v001", "v002"], top_k=100)
        with pytest.raises(vz.errors.TopKTooLarge, match="max top K is 100, but got 101"):
            compare(index, twin, ["v001"], top_k=101)
    assert table["shared"].tolist() == [99, 99] and (table["overlap"] == 1.0).all()  # 100 asked, itself left out
    assert table.attrs["top_k"] == 100


def test_an_array_when_the_dimensions_agree_and_a_frame_otherwise(pair, index):
    a, b = pair
    same = compare(index, a, np.array([[0, 0], [10, 10]], np.float32), top_k=4)
    assert same["query"].tolist() == [0, 1] and (same["overlap"] == 1).all()
    with pytest.raises(ValueError, match="d the dimensions of both indexes"):
        compare(a, b, np.zeros((2, 2), np.float32))
    frame = pd.DataFrame({"q": ["near origin", "far"], "flat": [[0.0, 0.0], [10.0, 10.0]],
                          "lifted": [[0.0, 0.0, 0.0], [10.0, 10.0, 0.0]]})
    table = compare(a, b, frame, top_k=4, vectors=("flat", "lifted"), key="q")
    assert table["query"].tolist() == ["near origin", "far"] and (table["overlap"] == 1).all()


def test_ids_missing_from_one_index_are_named(pair):
    a, b = pair
    a.upsert(["only-in-a"], np.array([[1.0, 1.0]], np.float32))
    with pytest.raises(KeyError, match="index 'lifted' has no vector for 'only-in-a'"):
        compare(a, b, ["v001", "only-in-a"])


def test_the_measures():
    assert agreement(["a", "b", "c"], ["c", "b", "a"]) == pytest.approx(
        {"overlap": 1.0, "rbo": rank_biased_overlap(["a", "b", "c"], ["c", "b", "a"]), "kendall_tau": -1.0,
         "top1_same": False, "shared": 3})
    assert rank_biased_overlap(list("abcdef"), list("abcdef")) == pytest.approx(1.0)
    assert rank_biased_overlap(list("abc"), list("xyz")) == 0.0
    assert 0 < rank_biased_overlap(list("abcd"), list("abdc")) < 1
    assert rank_biased_overlap(list("abcd"), list("bacd")) < rank_biased_overlap(list("abcd"), list("abdc"))
    assert np.isnan(agreement(["a"], ["a"])["kendall_tau"]) and np.isnan(agreement([], [])["overlap"])


def test_the_figure_sorts_queries_by_agreement(pair, data):
    a, b = pair
    table = compare(a, b, data["id"].head(12).tolist(), top_k=5)
    fig = plot_comparison(table)
    assert [t.name for t in fig.data] == ["overlap@5", "rank-biased overlap", "Kendall's tau (shared ids)"]
    assert list(fig.data[0].y) == sorted(table["overlap"], reverse=True)
    assert set(fig.data[0].customdata) == set(table["query"])
    assert titles(fig)[0] == "flat vs lifted"


def test_the_legend_row_stands_at_the_right_clear_of_the_subtitle(pair, data):
    """The legend row sat left, right against the subtitle's line."""
    legend = plot_comparison(compare(*pair, data["id"].head(3).tolist(), top_k=5)).layout.legend
    assert (legend.orientation, legend.yanchor, legend.y, legend.xanchor, legend.x) == ("h", "bottom", 1, "right", 1)


def test_long_query_names_are_cut_on_the_axis_and_whole_on_hover(pair, data):
    """40 docstring ids as tick labels took half the figure's height."""
    a, b = pair
    table = compare(a, b, data["id"].head(3).tolist(), top_k=5).assign(
        query=["a-rather-long-query-name-of-thirty-chars", "short", "x" * 24])
    fig = plot_comparison(table)
    assert sorted(fig.layout.xaxis.ticktext) == sorted(["a-rather-long-query-nam…", "short", "x" * 24])
    assert "a-rather-long-query-name-of-thirty-chars" in fig.data[0].customdata
    assert fig.layout.legend.orientation == "h"  # above the bars: the figure's width is the bars'


DOCS = ["read a CSV file with pandas", "parse JSON in Python", "train a linear regression", "plot a histogram",
        "join two data frames", "sort a list of numbers", "open a file for writing", "draw a scatter plot"]


@pytest.mark.embeds
def test_questions_are_embedded_by_each_index_as_its_query_embeds_a_text():
    """compare took stored ids or vectors only: a question was looked up as an id and refused."""
    model = vz.SHIPPED_MODEL
    with vz.connect("memory", limits=TINY) as client:
        made = [client.create_index(name, 256, "cosine") for name in ("first", "second")]
        for index in made:
            index.upsert([f"doc{i}" for i in range(len(DOCS))], index.embed(DOCS, model), wait=True)
        made[1].delete_by_ids(["doc0"], wait=True)
        questions = ["how do I load a CSV?", "make a chart"]
        table = compare(*made, questions, top_k=3, text=True, model=model)
        assert table["query"].tolist() == questions
        by_vector = compare(*made, made[0].embed(questions, model), top_k=3)
        assert table.drop(columns="query").equals(by_vector.drop(columns="query"))
        assert made[0].query(questions[0], top_k=1, model=model)["id"].tolist() == ["doc0"]
        assert table["top1_same"].tolist() == [False, True]  # doc0, the CSV answer, is gone from the second
        frame = pd.DataFrame({"name": ["csv", "chart"], "q": questions})
        keyed = compare(*made, frame, top_k=3, text="q", key="name", model=(model, model))
        assert keyed["query"].tolist() == ["csv", "chart"] and keyed.drop(columns="query").equals(
            table.drop(columns="query"))
        with pytest.raises(KeyError, match=r"no vector for 'how do I load a CSV\?'.*for questions, text=True"):
            compare(*made, questions)


def test_questions_without_a_model_are_refused_as_a_query_refuses_them(pair):
    a, b = pair
    with pytest.raises(vz.errors.UnknownModel) as by_query:
        a.query("a question")
    with pytest.raises(vz.errors.UnknownModel) as by_compare:
        compare(a, b, ["a question"], text=True)
    assert by_compare.value.message == by_query.value.message
    with pytest.raises(ValueError, match="model= and pooling= go with text="):
        compare(a, b, ["v001"], model=vz.SHIPPED_MODEL)


def test_a_column_name_with_a_list_of_questions_is_refused(pair):
    """text="question" with a list (not a frame) was taken as text=True without a word."""
    with pytest.raises(ValueError, match=r"text='question' names a frame's column of questions, but queries is a "
                                         r"list: for a list of questions, text=True"):
        compare(*pair, ["a question"], text="question", model=vz.SHIPPED_MODEL)


def test_a_long_index_name_is_cut_in_the_title():
    """Two 64-byte index names ran the title off a 900 px PNG."""
    table = pd.DataFrame({"query": ["a"], "overlap": [1.0], "rbo": [1.0], "kendall_tau": [np.nan]})
    table.attrs.update(index_a="a" * 64, index_b="b" * 20)
    assert titles(plot_comparison(table))[0] == f"{'a' * 27}…{'a' * 12} vs {'b' * 20}"


def test_one_query_and_no_answers_read_as_words_not_nan(pair):
    """Indexes holding only the query's own vector said "1 queries; mean overlap@10 nan%, mean RBO nan"."""
    with vz.connect("memory", limits=TINY) as client:
        alone = [client.create_index(name, 2) for name in ("alone", "lonely")]
        for index in alone:
            index.upsert(["x"], [[1.0, 0.0]])
        table = compare(*alone, ["x"], top_k=10)
    assert table["overlap"].isna().all()
    assert titles(plot_comparison(table))[1] == "1 query; neither index returned a match"
    a, b = pair
    assert titles(plot_comparison(compare(a, b, ["v000", "v001"])))[1].startswith("2 queries; mean overlap@10 ")
