"""plot_neighbourhood: the figure's data says what the index answered, where, and what a filter left out."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import vectorize_nb as vz

from vectorize_nb import F, errors
from vectorize_nb.viz import TRACE_NAMES, ColumnNotFound, plot_neighbourhood
from vectorize_nb.viz.colors import palette
from vectorize_nb.viz.projection import SEED
from vectorize_nb.viz.sample import sample_index

from ..helpers import TINY
from .conftest import entry_only, role, role_points, titles, trace, xy


def stored(index, ids):
    frame = index.get_by_ids(ids)
    return np.asarray(frame["values"].tolist(), dtype=np.float64)


def test_traces_have_stable_names_and_the_matches_are_the_query_result(index):
    q = np.array([9.0, 1.0], np.float32)
    fig = plot_neighbourhood(index, q, top_k=7)
    assert isinstance(fig, go.Figure)
    assert tuple(t.name for t in fig.data) == TRACE_NAMES == ("filtered out", "index", "links", "matches", "query")
    expected = index.query(q, top_k=7)
    matches = trace(fig, "matches")
    assert list(matches.customdata) == expected["id"].tolist()
    assert [text.split("<br>")[1:3] for text in matches.hovertext] == [
        [f"rank={r}", f"score={s:.4g} (euclidean distance: lower is closer)"]
        for r, s in zip(expected["rank"], expected["score"])]
    sizes = np.asarray(matches.marker.size)
    assert sizes[0] == 18 and sizes[-1] == 9 and (np.diff(sizes) <= 0).all()  # sized by rank
    assert matches.marker.line.width == 2  # ringed
    assert trace(fig, "query").customdata == (None,)


def test_a_dot_product_hover_says_the_score_is_the_negative_dot_product(dots):
    """The hover said "score=-21.15" with nothing to say that lower is closer."""
    matches = trace(plot_neighbourhood(dots, [10.0, 10.0], top_k=3), "matches")
    best = dots.query([10.0, 10.0], top_k=1)["score"].iloc[0]
    assert matches.hovertext[0].split("<br>")[2] == f"score={best:.4g} (negative dot product: lower is closer)"


def test_a_pca_of_2d_vectors_keeps_every_distance(index):
    """With 2-D vectors PCA is a rotation: the picture's distances are the index's own."""
    q = np.array([4.0, 6.0], np.float32)
    fig = plot_neighbourhood(index, q, top_k=10, method="pca")
    matches = trace(fig, "matches")
    where = xy(matches)
    query = xy(trace(fig, "query"))[0]
    original = stored(index, list(matches.customdata))
    np.testing.assert_allclose(np.linalg.norm(where - query, axis=1), np.linalg.norm(original - q, axis=1),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(where - query, axis=1), index.query(q, top_k=10)["score"], rtol=1e-4)


def test_links_join_the_query_to_each_match_and_carry_its_id(index):
    fig = plot_neighbourhood(index, np.array([0.5, 0.5], np.float32), top_k=4)
    links, matches = trace(fig, "links"), trace(fig, "matches")
    query = xy(trace(fig, "query"))[0]
    ids = list(matches.customdata)
    assert list(links.customdata) == [end for vid in ids for end in (vid, vid, None)]
    segments = np.column_stack([np.asarray(links.x, dtype=float), np.asarray(links.y, dtype=float)])
    np.testing.assert_allclose(segments[0::3], np.repeat(query[None, :], 4, axis=0))
    np.testing.assert_allclose(segments[1::3], xy(matches))
    assert np.isnan(segments[2::3]).all()


def test_greyed_points_are_exactly_the_filters_complement(index):
    flt = F("genre") == "drama"
    fig = plot_neighbourhood(index, np.array([10.0, 10.0], np.float32), top_k=5, filter=flt, namespace="a")
    background = set(trace(fig, "index").customdata) | set(trace(fig, "filtered out").customdata)
    matches = set(trace(fig, "matches").customdata)
    allowed = index.matches_filter(sorted(background), flt, "a")
    assert set(trace(fig, "filtered out").customdata) == set(allowed.index[~allowed])
    assert set(trace(fig, "index").customdata) == set(allowed.index[allowed])
    frame = index.get_by_ids(sorted(matches))
    assert set(frame["genre"]) == {"drama"} and set(frame["namespace"]) == {"a"}
    assert not background & matches  # each id is drawn once
    assert background | matches == set(index.list_ids())  # 300 vectors: the whole index is the background
    assert 'with filter {"genre":{"$eq":"drama"}} in namespace \'a\'' in titles(fig)[1]


def test_without_a_filter_nothing_is_greyed(index):
    fig = plot_neighbourhood(index, "v000", top_k=3)
    assert len(trace(fig, "filtered out").customdata) == 0 and trace(fig, "filtered out").showlegend is False


def test_a_stored_id_as_query_sits_on_its_own_point(index):
    fig = plot_neighbourhood(index, "v042", top_k=3)
    matches, query = trace(fig, "matches"), trace(fig, "query")
    assert matches.customdata[0] == "v042" and query.customdata == ("v042",)
    np.testing.assert_allclose(xy(query)[0], xy(matches)[0], atol=1e-6)
    assert titles(fig)[0] == "Neighbours of v042 in 'points'"
    assert "v042" not in trace(fig, "index").customdata


def test_metadata_called_score_or_rank_colours_and_shows_beside_the_matchs_own():
    """A property named "score" or "rank" made plot_neighbourhood raise KeyError('rank')."""
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("named", 2)
        angles = np.arange(10)
        idx.upsert([f"v{i}" for i in angles], np.column_stack([np.cos(angles), np.sin(angles)]),
                   metadata=[{"score": int(i), "rank": "high" if i < 5 else "low"} for i in angles])
        fig = plot_neighbourhood(idx, "v1", top_k=3, color="rank", hover=["score"])
        expected = idx.query_by_id("v1", top_k=3)
        matches = trace(fig, "matches")
        assert list(matches.customdata) == expected["id"].tolist()
        assert matches.hovertext[0].split("<br>")[1:5] == [
            "rank=1", "score=1 (cosine similarity: higher is closer)", "metadata[\"rank\"]=high",
            "metadata[\"score\"]=1"]
        assert {t.name for t in fig.data if t.legendgroup == "index"} == {"high", "low"}


def test_an_integer_id_is_the_query_it_was_written_as():
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("ints", 2)
        idx.upsert(range(10), np.column_stack([np.cos(np.arange(10)), np.sin(np.arange(10))]))
        assert idx.query_by_id(7, top_k=1)["id"].tolist() == ["7"]
        fig = plot_neighbourhood(idx, 7, top_k=3)
        assert trace(fig, "query").customdata == ("7",) and trace(fig, "matches").customdata[0] == "7"


def test_a_row_with_an_integer_id_is_that_id():
    """A row of a frame with id=range(n) was labelled "row 3" and its query carried no id."""
    frame = pd.DataFrame({"id": range(10), "embedding": list(np.eye(10, 2, dtype=np.float32) + np.arange(10)[:, None])})
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("ints", 2)
        frame.vectorize.upsert(idx, id="id", vector="embedding")
        fig = plot_neighbourhood(idx, frame.iloc[3], top_k=3)
    assert trace(fig, "query").customdata == ("3",) and fig.layout.meta["query"] == "3"
    assert titles(fig)[0] == "Neighbours of 3 in 'ints'"


def test_a_dataframe_row_is_a_query(index, data):
    row = index.to_frame().set_index("id", drop=False).loc["v010"]
    fig = plot_neighbourhood(index, row, top_k=3)
    assert trace(fig, "query").customdata == ("v010",) and trace(fig, "matches").customdata[0] == "v010"
    mine = pd.DataFrame({"name": ["x"], "embedding": [np.array([10.0, 0.0], np.float32)]}).iloc[0]
    fig = plot_neighbourhood(index, mine, top_k=3)
    assert list(trace(fig, "matches").customdata) == index.query([10.0, 0.0], top_k=3)["id"].tolist()
    assert titles(fig)[0] == "Neighbours of row 0 in 'points'"
    named = pd.Series({"doc": "y", "vec": [0.0, 10.0]})
    assert len(trace(plot_neighbourhood(index, named, top_k=2, vector="vec"), "matches").customdata) == 2
    with pytest.raises(KeyError, match=r"the row has no vector cell: name it with vector=.*'doc', 'vec'"):
        plot_neighbourhood(index, named)


def test_the_background_is_a_seeded_deterministic_sample(index):
    def background(seed):
        fig = plot_neighbourhood(index, "v000", top_k=1, background=50, seed=seed)
        return set(trace(fig, "index").customdata) | set(trace(fig, "matches").customdata)

    first = background(1)
    assert len(first - {"v000"}) <= 50 and background(1) == first and background(2) != first
    fig = plot_neighbourhood(index, "v000", top_k=1, background=50, seed=1)
    assert "a seeded sample of 50 of 300 vectors (seed 1)" in titles(fig)[1]


def test_matches_outside_the_sample_are_placed_on_the_same_picture(index):
    q = np.array([0.0, 10.0], np.float32)
    fig = plot_neighbourhood(index, q, top_k=20, background=10, method="pca")
    matches = trace(fig, "matches")
    assert len(set(matches.customdata) - set(sample_index(index, 10, SEED).ids)) >= 15
    where, query = xy(matches), xy(trace(fig, "query"))[0]
    np.testing.assert_allclose(np.linalg.norm(where - query, axis=1),
                               np.linalg.norm(stored(index, list(matches.customdata)) - q, axis=1), rtol=1e-4)


def test_categories_get_a_trace_and_a_legend_entry_each(index):
    fig = plot_neighbourhood(index, "v001", top_k=5, color="genre", hover=["year"])
    assert [t.legendgroup for t in fig.data] == ["filtered out"] + ["index"] * 4 + ["links"] + ["matches"] * 2 + [
        "query"]  # the matches' points, and their legend entry
    points = role(fig, "index")
    assert [t.name for t in points] == ["comedy", "drama", "horror", "noir"]
    assert points[0].legendgrouptitle.text == "genre" and fig.layout.legend.groupclick == "toggleitem"
    assert fig.layout.coloraxis.colorscale is None  # no colour bar: a legend
    genre = index.to_frame(values=False).set_index("id")["genre"]
    for t in points:
        assert set(genre.loc[list(t.customdata)]) == {t.name} and isinstance(t.marker.color, str)
    colours = {t.name: t.marker.color for t in points}
    assert len(set(colours.values())) == 4
    matches = trace(fig, "matches")
    assert list(matches.marker.color) == [colours[g] for g in genre.loc[list(matches.customdata)]]
    assert set(role_points(fig, "index")) | set(matches.customdata) == set(index.list_ids())
    hover = points[0].hovertext[0]
    assert "genre=comedy" in hover and "year=" in hover and "namespace=" in hover


def test_the_roles_stay_in_a_legend_of_their_own_above_the_map_beside_many_categories(index):
    """Coloured by 21 categories, the legend at the right ran past the foot of a 900x600 PNG: the entries
    saying what the star, the rings and the lines are were cut off."""
    fig = plot_neighbourhood(index, "v001", top_k=5, color="year", discrete=True, filter={"genre": "noir"})
    assert {t.legend for t in role(fig, "index")} == {None} and fig.layout.legend.orientation == "v"
    roles = [t for t in fig.data if t.legendgroup != "index"]
    assert [t.name for t in roles] == ["filtered out", "links", "matches", "matches", "query"]
    assert {t.legend for t in roles} == {"legend2"}
    above = fig.layout.legend2
    assert (above.orientation, above.yanchor, above.y, above.xanchor, above.x) == ("h", "bottom", 1, "right", 1)
    assert (above.groupclick, above.itemsizing) == ("togglegroup", "constant") and fig.layout.legend.y == 1
    assert {t.legend for t in plot_neighbourhood(index, "v001", top_k=5, color="year").data} == {None}


def test_an_id_the_index_lacks_is_said_before_any_projection(index, fits):
    """A question typed where an id goes was looked up only after the map was projected (from a background
    of 5,000 points, a UMAP fit of seconds), then said that query_by_id needs a stored id."""
    with pytest.raises(errors.VectorNotFound, match=(
            r'no vector with id="films about the sea" in index "points"; plot_neighbourhood takes a stored id, a '
            r'vector or a frame.s row, or a question where the index.s model is known: '
            r'index\.embed\(\[question\], model=\.\.\.\)\[0\]')):
        plot_neighbourhood(index, "films about the sea")
    assert fits == []


@pytest.mark.embeds
def test_a_question_on_an_index_of_texts_is_embedded_as_index_query_does(tmp_path):
    """index.query("a question") embeds it with the model the texts were written with, but plot_neighbourhood
    took every string for an id: "no vector with id=...". A stored id still wins over a question."""
    docs = pd.DataFrame({"id": ["csv", "gzip", "smtp", "json"],
                         "body": ["read a CSV file into rows and columns", "compress a file with gzip",
                                  "send an email message over SMTP", "parse and write JSON documents"]})
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", 256)
        docs.vectorize.upsert(index, id="id", text="body", model=vz.SHIPPED_MODEL, wait=True)
        fig = plot_neighbourhood(index, "mail someone a message", top_k=2, method="pca")
        assert list(trace(fig, "matches").customdata) == index.query("mail someone a message", top_k=2)["id"].tolist()
        assert list(trace(fig, "matches").customdata)[0] == "smtp"
        assert fig.layout.title.text.startswith('Neighbours of "mail someone a message" in \'docs\'')
        assert list(trace(fig, "query").customdata) == [None]
        by_id = plot_neighbourhood(index, "gzip", top_k=2, method="pca")
        assert list(trace(by_id, "matches").customdata)[0] == "gzip"


def test_numbers_with_many_values_keep_a_colour_scale(index):
    fig = plot_neighbourhood(index, "v001", top_k=5, color="year")  # 70 distinct years
    points = trace(fig, "index")
    assert fig.layout.coloraxis.colorbar.title.text == "year" and points.marker.coloraxis == "coloraxis"
    year = index.to_frame(values=False).set_index("id")["year"]
    np.testing.assert_array_equal(points.marker.color, year.loc[list(points.customdata)].to_numpy(float))
    assert trace(fig, "matches").marker.coloraxis == "coloraxis"
    split = plot_neighbourhood(index, "v001", top_k=5, color="year", discrete=True, max_categories=5)
    drawn = role(split, "index")
    legend = [t.name for t in sorted(drawn, key=lambda t: t.legendrank)]
    assert len(legend) == 6 and legend[-1] == "other (65 more)" == drawn[0].name  # listed last, drawn underneath


def test_a_colour_the_vectors_do_not_hold_says_how_to_store_it(index):
    with pytest.raises(ColumnNotFound) as raised:
        plot_neighbourhood(index, "v001", color="rating")
    assert str(raised.value) == (
        "the vectors drawn from index 'points' hold no metadata 'rating' (never written, or an upsert without it "
        "replaced it): upsert the vectors again with metadata=['rating'] (df.vectorize.upsert(index, id=..., "
        "vector=..., metadata=['rating'])), or color by one of: 'namespace', 'genre', 'year'")
    assert isinstance(raised.value, KeyError)
    with pytest.raises(ColumnNotFound, match=r"hold no metadata 'nope' .* or hover by one of: 'namespace'"):
        plot_neighbourhood(index, "v001", hover=["year", "nope"])


def test_a_colour_close_to_a_held_property_is_taken_for_a_typo_first(index):
    """color="yera" first said to upsert the vectors again with metadata=['yera'], the right name last."""
    with pytest.raises(ColumnNotFound) as raised:
        plot_neighbourhood(index, "v001", color="yera")
    assert str(raised.value) == ("the vectors drawn from index 'points' hold no metadata 'yera'; did you mean 'year'? "
                                 "(the columns drawn: 'namespace', 'genre', 'year')")
    with pytest.raises(ColumnNotFound, match=r"hold no metadata 'genr', 'yaer'; did you mean 'genre', 'year'\?"):
        plot_neighbourhood(index, "v001", hover=["genr", "yaer"])

def test_three_dimensions(index):
    fig = plot_neighbourhood(index, "v001", top_k=5, n_components=3, method="pca")
    assert {type(t).__name__ for t in fig.data} == {"Scatter3d"}
    assert trace(fig, "query").marker.symbol == "diamond"
    assert fig.layout.scene.xaxis.title.text.startswith("PC 1")


def test_in_3d_the_matches_stand_out_of_the_cloud_as_in_2d(index):
    """Matches were drawn at half size in 3-D (4.5-9 px), smaller than the 6 px cloud they hid in."""
    flat = plot_neighbourhood(index, "v001", top_k=5)
    deep = plot_neighbourhood(index, "v001", top_k=5, n_components=3)
    sizes = trace(deep, "matches").marker.size
    assert list(sizes) == list(trace(flat, "matches").marker.size) and trace(deep, "matches").marker.line.width == 2
    assert {t.marker.size for t in role(deep, "index") + role(deep, "filtered out")} == {3}
    assert min(sizes) >= 3 * 3


def test_figures_are_returned_never_shown(index, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a view called .show()")

    monkeypatch.setattr(go.Figure, "show", refuse)
    assert plot_neighbourhood(index, "v001").layout.meta["kind"] == "neighbourhood"


def test_an_empty_index_says_so(index):
    empty = vz.Client(index.backend, index.target).create_index("empty", 2, "euclidean")
    with pytest.raises(ValueError, match="index 'empty' holds no vectors"):
        plot_neighbourhood(empty, [1.0, 0.0])


def test_a_64_byte_id_and_index_name_are_cut_in_the_title_and_whole_in_meta():
    """A 64-byte id in a 64-byte index ran the title off a 900 px PNG."""
    vid, name = "q" * 51 + "-chapter-0042", "i" * 52 + "-chapter-007"
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index(name, 2)
        idx.upsert([vid, "other"], [[1.0, 0.0], [0.0, 1.0]])
        fig = plot_neighbourhood(idx, vid, top_k=2)
    title = titles(fig)[0]
    assert title == f"Neighbours of {'q' * 27}…chapter-0042 in '{'i' * 27}…-chapter-007'"
    assert fig.layout.meta["query"] == vid and fig.layout.meta["index"] == name
    assert trace(fig, "query").customdata == (vid,)


def test_a_filter_that_matches_nothing_says_no_match():
    """The subtitle read "top 0 with filter ..."."""
    with vz.connect("memory", limits=TINY) as client:
        two = client.create_index("two", 2)
        two.create_metadata_index("genre", "string")
        two.upsert([{"id": vid, "values": [1.0, i], "metadata": {"genre": "drama"}} for i, vid in enumerate("ab")])
        fig = plot_neighbourhood(two, "a", filter={"genre": "noir"})
    assert titles(fig)[1].startswith('no match with filter {"genre":"noir"}; background: all 2 vectors; ')
    assert trace(fig, "matches").customdata == () and trace(fig, "filtered out").customdata == ("b",)


def test_hover_all_leaves_out_a_namespace_no_vector_has(data):
    """hover="all" showed "namespace=–" on every point of an index without namespaces."""
    with vz.connect("memory", limits=TINY) as client:
        plain = client.create_index("plain", 2, "euclidean")
        data.vectorize.upsert(plain, id="id", vector="values", metadata=["genre", "year"])
        hovers = [text for t in plot_neighbourhood(plain, "v001", top_k=3, hover="all").data
                  for text in (t.hovertext or ())]
    assert hovers and all("namespace=" not in text for text in hovers)
    assert all("genre=" in text and "year=" in text for text in hovers if text.startswith("<b>v"))


def legend(fig) -> dict:
    """name -> swatch colour of each legend entry."""
    return {t.name: t.marker.color for t in fig.data if t.showlegend is not False and t.name}


def test_a_category_only_the_matches_hold_has_a_legend_entry():
    """Three "rare" matches were drawn red with no legend entry saying what red is, and the "matches" entry
    took the first match's colour, as if it were a category."""
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("rare", 2, "euclidean")
        idx.upsert([{"id": f"v{i}", "values": [float(i), 0.0], "metadata": {"g": "rare" if i < 3 else "common"}}
                    for i in range(30)])
        fig = plot_neighbourhood(idx, "v0", top_k=5, color="g")
    matches = [t for t in role(fig, "matches") if not entry_only(t)]
    assert len(matches) == 1 and matches[0].showlegend is False
    colours = {t.name: t.marker.color for t in role(fig, "index")}
    assert list(matches[0].marker.color) == [colours["rare"]] * 3 + [colours["common"]] * 2
    shown = legend(fig)
    assert {name: shown[name] for name in colours} == colours and set(colours) == {"rare", "common"}
    assert shown["matches"] not in colours.values()
    assert role_points(fig, "index").keys() == {f"v{i}" for i in range(5, 30)}  # each point in one trace
    assert fig.layout.legend2.groupclick == "togglegroup"  # the legend entry hides the matches with it


def test_when_every_point_is_a_match_each_category_is_in_the_legend():
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("three", 2, "euclidean")
        idx.upsert([{"id": f"v{i}", "values": [float(i), 1.0], "metadata": {"g": f"c{i}"}} for i in range(3)])
        fig = plot_neighbourhood(idx, "v0", top_k=3, color="g")
    shown = legend(fig)
    assert [t.name for t in role(fig, "index")] == ["c0", "c1", "c2"]
    assert role(fig, "index")[0].legendgrouptitle.text == "g"
    assert {shown[f"c{i}"] for i in range(3)} == set(palette(3)) and shown["matches"] not in palette(3)
