"""How a column colours points: categories (one colour and legend entry each) or a colour scale."""

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import F
from vectorize_nb.viz import plot_index, plot_neighbourhood, plot_scores
from vectorize_nb.viz.colors import MISSING_COLOR, OTHER_COLOR, coloring, palette

from ..helpers import TINY
from .conftest import titles


def test_whole_numbers_with_few_values_are_categories_in_numeric_order():
    """Digit labels 0-9 used to get a colour scale: 0 and 1 nearly the same purple."""
    labels = pd.Series([3, 10, 0, 1, 10, 2] * 5)
    colors = coloring(labels, "label")
    assert colors.discrete and colors.categories == ("0", "1", "2", "3", "10")
    assert colors.labels.tolist() == ["3", "10", "0", "1", "10", "2"] * 5
    assert list(colors.colors.values()) == palette(5) and colors.coloraxis is None


def test_a_filtered_pair_of_labels_stays_two_categories():
    """A 6/8 filter showed ticks at 6.5 and 7.5 on a colour bar."""
    colors = coloring(pd.Series([6, 8, 8, 6]), "label")
    assert colors.categories == ("6", "8")


def test_missing_values_are_their_own_grey_category_last():
    colors = coloring(pd.Series([2.0, np.nan, 1.0, 2.0]), "label")  # metadata some vectors lack: floats
    assert colors.categories == ("1", "2", "(none)") and colors.colors["(none)"] == MISSING_COLOR
    text = coloring(pd.Series(["b", None, "a"], dtype=object), "genre")
    assert text.categories == ("a", "b", "(none)") and text.labels.tolist() == ["b", "(none)", "a"]


def test_text_with_numbers_in_it_is_in_the_order_a_reader_counts():
    """The legend read "ns-1, ns-10, ns-11, ns-2": text order, where 2 comes after 11."""
    labels = pd.Series(["ns-10", "ns-2", "NS-1", "ns-11", "ns-2b", "chapter 9", "chapter 10", "ns-02"])
    assert coloring(labels, "ns").categories == (
        "chapter 9", "chapter 10", "NS-1", "ns-02", "ns-2", "ns-2b", "ns-10", "ns-11")


def test_text_and_booleans_are_categories():
    assert coloring(pd.Series(["noir", "Drama", "comedy"]), "genre").categories == ("comedy", "Drama", "noir")
    assert coloring(pd.Series([True, False, True]), "seen").categories == ("False", "True")
    assert coloring(pd.Series([True, None, False], dtype=object), "seen").categories == ("False", "True", "(none)")


def test_many_categories_keep_the_most_frequent_and_fold_the_rest_into_other():
    modules = pd.Series([f"m{i:02d}" for i in range(30) for _ in range(i + 1)])  # m29 is the most frequent
    colors = coloring(modules, "module", max_categories=5)
    assert colors.kept == ("m25", "m26", "m27", "m28", "m29")
    assert colors.categories == (*colors.kept, "other (25 more)")
    assert colors.colors["other (25 more)"] == OTHER_COLOR
    assert (colors.labels == "other (25 more)").sum() == sum(range(1, 26))
    wide = coloring(modules, "module")  # 20 by default, with colours distinct from the greys
    assert len(wide.kept) == 20 and len(set(wide.colors.values())) == 21
    assert not {"#565656", "#E2E2E2", OTHER_COLOR, MISSING_COLOR} & {c.upper() for c in palette(20)}


def test_forty_categories_get_forty_colours():
    """Past 24 categories the palette started again: with max_categories=40, 'c0' and 'c24' were both purple
    and the legend could not tell them apart."""
    frame = pd.DataFrame({"id": [f"v{i}" for i in range(80)], "values": list(np.eye(80, 4, dtype=np.float32) + 1),
                          "cat": [f"c{i % 40}" for i in range(80)]})
    fig = plot_index(frame, color="cat", max_categories=40, method="pca")
    colors = [trace.marker.color for trace in fig.data]
    assert len(fig.data) == 40 and len(set(colors)) == 40
    assert len(set(palette(71))) == 71 and "#222A2A" not in palette(71)  # the query's near-black is not a category's


def test_numbers_with_many_values_or_fractions_get_a_colour_scale():
    years = pd.Series(np.arange(1950, 1990))
    scale = coloring(years, "year")
    assert not scale.discrete and scale.coloraxis["colorscale"] == "Viridis"
    np.testing.assert_array_equal(scale.marker(np.array([0, 39]))["color"], [1950.0, 1989.0])
    assert not coloring(pd.Series([0.5, 1.0, 1.5]), "rating").discrete
    assert not coloring(pd.Series(np.arange(21)), "n").discrete  # past 20 distinct values
    assert coloring(pd.Series(np.arange(21)), "n", max_categories=25).discrete


def test_a_parameter_overrides_the_choice_either_way():
    assert not coloring(pd.Series([0, 1, 2]), "label", discrete=False).discrete
    forced = coloring(pd.Series(np.arange(100) % 40), "bucket", discrete=True)
    assert forced.discrete and forced.categories[-1] == "other (20 more)"
    assert coloring(pd.Series([0.25, 0.5]), "share", discrete=True).categories == ("0.25", "0.5")
    with pytest.raises(ValueError, match="color column 'genre' does not hold numbers, so it cannot be drawn on a"):
        coloring(pd.Series(["a", "b"]), "genre", discrete=False)
    with pytest.raises(ValueError, match="max_categories must be at least 1, got 0"):
        coloring(pd.Series([1]), "label", max_categories=0)


def test_an_index_map_coloured_by_a_few_integers_has_a_legend(index):
    fig = plot_index(index, color="year", max_categories=70)
    assert [t.name for t in fig.data][:3] == ["1950", "1951", "1952"] and len(fig.data) == 70
    assert fig.layout.legend.orientation == "v" and fig.layout.coloraxis.colorbar.title.text is None


def test_the_subtitle_is_a_second_line_of_the_title(index):
    """plotly's own title.subtitle is drawn above the title in a FigureWidget (the panels' figures)."""
    fig = plot_scores(index.query([0.0, 0.0], top_k=3))
    assert fig.layout.title.subtitle.text is None
    assert fig.layout.title.text == "Score by rank<br><sup>1 query</sup>" and titles(fig)[1] == "1 query"


def test_large_whole_numbers_keep_a_category_each_with_their_exact_label():
    """Store numbers 1000001-1000003 were one entry, '1e+06'; timestamps in ms one entry, '1.7e+12'."""
    stores = coloring(pd.Series([1000002, 1000001, 1000003] * 3), "store")
    assert stores.categories == ("1000001", "1000002", "1000003") and len(set(stores.colors.values())) == 3
    stamps = coloring(pd.Series([1700000000123.0, 1700000000456.0, np.nan]), "ts")
    assert stamps.categories == ("1700000000123", "1700000000456", "(none)")
    close = coloring(pd.Series([0.1, 0.1000001, 2.5e-12]), "share", discrete=True)
    assert close.categories == ("2.5e-12", "0.1", "0.1000001")


def test_integers_past_two_to_the_53_keep_a_category_each_with_their_exact_label():
    """UInt64 9223372036854775813 and ...814 were one legend entry, "9.223372036854776e+18", one colour;
    Int64 1700000000000000001 and ...002 one entry, "1.7e+18"."""
    big = coloring(pd.Series(pd.array([2**63 + 6, 2**63 + 5, None, 7], dtype="UInt64")), "big")
    assert big.categories == ("7", "9223372036854775813", "9223372036854775814", "(none)")
    assert big.labels.tolist() == ["9223372036854775814", "9223372036854775813", "(none)", "7"]
    ns = coloring(pd.Series(pd.array([1700000000000000002, 1700000000000000001, -5], dtype="Int64")), "ns")
    assert ns.categories == ("-5", "1700000000000000001", "1700000000000000002")
    plain = coloring(pd.Series(np.array([2**63 + 5, 2**63 + 6], dtype=np.uint64)), "plain")
    assert plain.categories == ("9223372036854775813", "9223372036854775814") and len(set(plain.colors.values())) == 2
    many = coloring(pd.Series(pd.array([2**62 + i for i in range(21)], dtype="Int64")), "many")
    assert not many.discrete  # 21 distinct values, though float64 holds them as fewer


def test_a_map_of_large_whole_numbers_names_each_in_the_legend_and_the_hover():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "values": list(np.eye(4, 2, dtype=np.float32)),
                          "store": [1000001.0, 1000002.0, 1000001.0, np.nan]})  # NaN: a float column
    fig = plot_index(frame, color="store")
    drawn = {t.name: t for t in fig.data}
    assert sorted(drawn, key=lambda name: drawn[name].legendrank) == ["1000001", "1000002", "(none)"]
    assert drawn["1000002"].hovertext == ("<b>b</b><br>store=1000002",)


def test_text_of_the_data_is_shown_as_it_is_not_as_markup(index):
    """'<b>new</b>' was drawn bold in the legend and hover, and 'x<br>y' broke the line."""
    frame = pd.DataFrame({"id": ["<a>", "b", "c"], "values": list(np.eye(3, 2, dtype=np.float32)),
                          "tag": ["<b>new</b>", "x<br>y", "R&D"]})
    fig = plot_index(frame, color="tag")
    assert sorted(t.name for t in fig.data) == ["&lt;b&gt;new&lt;/b&gt;", "R&amp;D", "x&lt;br&gt;y"]
    shown = {t.name: t.hovertext[0] for t in fig.data}
    assert shown["&lt;b&gt;new&lt;/b&gt;"] == "<b>&lt;a&gt;</b><br>tag=&lt;b&gt;new&lt;/b&gt;"
    hits = index.query_many(np.array([[0, 0], [1, 1]], np.float32), top_k=3, keys=["<q>", "b"])
    line = plot_scores({"<i>all</i>": hits}).data[0]
    assert (line.name, line.legendgrouptitle.text) == ("&lt;q&gt;", "&lt;i&gt;all&lt;/i&gt;")
    assert "<extra>&lt;i&gt;all&lt;/i&gt;: &lt;q&gt;</extra>" in line.hovertemplate


def test_an_empty_or_blank_name_is_shown_in_quotes():
    """A category "" was named "index" (the trace's role) in the legend, and " " was a blank entry."""
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "values": list(np.eye(4, 2, dtype=np.float32)),
                          "genre": ["", " ", "drama", "\t"]})
    fig = plot_index(frame, color="genre")
    assert sorted(t.name for t in fig.data) == ['" "', '""', '"\\t"', "drama"]
    shown = {t.name: t.hovertext[0] for t in fig.data}
    assert shown['""'] == '<b>a</b><br>genre=""' and shown["drama"] == "<b>c</b><br>genre=drama"


def test_plotly_template_syntax_in_the_data_is_shown_as_it_is(index):
    """A category "%{x}" was a blank legend entry: plotly reads %{...} in names and titles as a template
    (and in a line's hovertemplate)."""
    frame = pd.DataFrame({"id": ["%{y}", "b"], "values": list(np.eye(2, 2, dtype=np.float32)),
                          "cat": ["%{x}", "50%"]})
    fig = plot_index(frame, color="cat")
    assert sorted(t.name for t in fig.data) == ["&#37;{x}", "50%"]
    assert {t.name: t.hovertext[0] for t in fig.data}["&#37;{x}"] == "<b>&#37;{y}</b><br>cat=&#37;{x}"
    hits = index.query_many(np.array([[0, 0]], np.float32), top_k=3, keys=["%{x}"])
    line = plot_scores({"run %{y}": hits}).data[0]
    assert line.name == "&#37;{x}" and "<extra>run &#37;{y}: &#37;{x}</extra>" in line.hovertemplate


def test_long_categories_are_cut_in_the_legend_and_whole_in_the_hover():
    """140-character titles were legend names: the legend took the figure and left the map a sliver."""
    long = "A very long product title that goes on and on " * 3
    frame = pd.DataFrame({"id": ["a", "b", "c"], "values": list(np.eye(3, 2, dtype=np.float32)),
                          long: [f"{long}#{i}" for i in range(3)]})
    fig = plot_index(frame, color=long)
    assert [t.name for t in fig.data] == [f"A very long product title t…on and on #{i}" for i in range(3)]
    assert {len(t.name) for t in fig.data} == {40} and len(fig.data[0].legendgrouptitle.text) == 40
    name, value = fig.data[0].hovertext[0].split("<br>", 1)[1].split("=")  # the value whole, on lines of 60
    assert name == fig.data[0].legendgrouptitle.text and value.replace("<br>", " ") == f"{long}#0"
    scale = plot_index(frame.assign(**{long: [0.5, 1.5, 2.5]}), color=long)
    assert scale.layout.coloraxis.colorbar.title.text == fig.data[0].legendgrouptitle.text


def rare_genres(n: int = 400) -> pd.DataFrame:
    """Ten common genres and one on a single vector: 11 categories in all, 10 in most samples."""
    values = np.random.default_rng(3).standard_normal((n, 8)).astype(np.float32)
    genre = [f"g{i % 10}" for i in range(n)]
    genre[17] = "rare"
    return pd.DataFrame({"id": [f"v{i:03d}" for i in range(n)], "values": list(values), "genre": genre,
                         "rating": np.linspace(0.0, 1.0, n)})


def index_colours(fig) -> dict:
    return {t.name: t.marker.color for t in fig.data if t.legendgroup == "index"}


def test_a_category_has_one_colour_in_every_figure_of_an_index():
    """A background sample that missed a rare genre took another palette: every genre changed colour."""
    frame = rare_genres()
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("genres", 8)
        frame.vectorize.upsert(idx, id="id", vector="values", metadata=["genre", "rating"])
        whole = index_colours(plot_index(idx, color="genre"))
        near = plot_neighbourhood(idx, "v000", top_k=3, background=40, color="genre")
        scale = plot_neighbourhood(idx, "v000", top_k=3, background=40, color="rating")
    assert "rare" in whole and "rare" not in index_colours(near)
    assert index_colours(near) == {genre: whole[genre] for genre in index_colours(near)}
    assert (scale.layout.coloraxis.cmin, scale.layout.coloraxis.cmax) == (0.0, 1.0)


def test_a_sample_of_a_frame_is_coloured_as_the_whole_frame():
    frame = rare_genres()
    sampled = plot_index(frame, color="genre", sample=40)
    whole = index_colours(plot_index(frame, color="genre"))
    assert "rare" not in index_colours(sampled)
    assert index_colours(sampled) == {genre: whole[genre] for genre in index_colours(sampled)}


def test_the_whole_column_decides_the_categories_of_some_of_its_rows():
    everything = pd.Series([f"m{i:02d}" for i in range(30) for _ in range(i + 1)])  # m29 the most frequent
    some = everything.iloc[:10]  # only m00 to m03
    colors = coloring(some, "module", max_categories=5, universe=everything)
    assert colors.kept == ("m25", "m26", "m27", "m28", "m29") and set(colors.labels) == {"other (25 more)"}
    assert colors.colors == coloring(everything, "module", max_categories=5).colors
    years = coloring(pd.Series([1990, 1991]), "year", universe=pd.Series(np.arange(1950, 2000)))
    assert not years.discrete and years.coloraxis["cmin"] == 1950 and years.coloraxis["cmax"] == 1999


def test_points_without_a_value_on_a_colour_scale_are_grey_and_named_in_the_legend():
    """A property some vectors lack was drawn in plotly's dark grey, on no legend, like the scale's low end."""
    scale = coloring(pd.Series([10.5, np.nan, 30.5]), "rating")
    assert not scale.discrete and scale.marker(np.arange(3))["color"] == [10.5, MISSING_COLOR, 30.5]
    frame = pd.DataFrame({"id": [f"v{i}" for i in range(6)], "values": list(np.eye(6, 3, dtype=np.float32) + 0.1),
                          "rating": [0.5, np.nan, 2.5, 3.5, np.nan, 5.5]})
    fig = plot_index(frame, color="rating")
    scaled, missing = fig.data
    assert (scaled.name, scaled.customdata) == ("index", ("v0", "v2", "v3", "v5"))
    assert list(scaled.marker.color) == [0.5, 2.5, 3.5, 5.5]
    assert (missing.name, missing.legendgroup, missing.customdata) == ("(none)", "index", ("v1", "v4"))
    assert missing.marker.color == MISSING_COLOR and missing.showlegend
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("ratings", 3, "cosine")
        frame.vectorize.upsert(idx, id="id", vector="values", metadata=["rating"])
        fig = plot_neighbourhood(idx, "v0", top_k=6, color="rating")
        matches = next(t for t in fig.data if t.name == "matches")
        shown = dict(zip(matches.customdata, matches.marker.color))
        assert shown["v1"] == shown["v4"] == MISSING_COLOR and shown["v5"] == 5.5


@pytest.mark.parametrize("color, values", [("genre", ["drama", None, "noir"]), ("rating", [0.5, None, 2.5])])
def test_points_a_filter_left_out_are_not_drawn_like_points_without_a_value(color, values):
    """Both were light grey dots of the same size, a shade apart ("#c8c8c8" and "#b4b4b4"): in a PNG a
    filter's "filtered out" and the colour column's "(none)" could not be told apart."""
    rows = 12
    frame = pd.DataFrame({"id": [f"v{i:02d}" for i in range(rows)],
                          "values": list(np.random.default_rng(3).standard_normal((rows, 3)).astype(np.float32)),
                          "year": [1990 + i for i in range(rows)], color: [values[i % 3] for i in range(rows)]})
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("films", 3, "cosine")
        idx.create_metadata_index("year", "number")
        frame.vectorize.upsert(idx, id="id", vector="values", metadata=["year", color])
        fig = plot_neighbourhood(idx, "v00", top_k=2, color=color, filter=F("year") >= 1996)
    left_out = next(t for t in fig.data if t.name == "filtered out")
    missing = next(t for t in fig.data if t.name == "(none)")
    assert len(left_out.customdata) and len(missing.customdata) and left_out.showlegend and missing.showlegend
    assert left_out.marker.symbol == "circle-open" and missing.marker.symbol in (None, "circle")
    assert missing.marker.color == MISSING_COLOR and (left_out.legendgroup, missing.legendgroup) == ("filtered out",
                                                                                                       "index")


def test_a_neighbourhood_counts_each_match_once_when_it_keeps_the_frequent_categories():
    """The matches were counted twice (as background and as matches): eight close C vectors, the least
    frequent genre, outnumbered B, took B's colour and put B into "other"."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((27, 8)).astype(np.float32)
    values[19:] = values[19] + 0.05 * rng.standard_normal((8, 8))  # the C vectors are each other's neighbours
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("shop", 8)
        idx.upsert([f"v{i}" for i in range(27)], values,
                   metadata=[{"cat": cat} for cat in ["A"] * 10 + ["B"] * 9 + ["C"] * 8])
        whole = index_colours(plot_index(idx, color="cat", max_categories=2))
        near = index_colours(plot_neighbourhood(idx, "v19", top_k=5, color="cat", max_categories=2))
    assert whole == near == {"other (1 more)": OTHER_COLOR, "A": palette(2)[0], "B": palette(2)[1]}


def vectors_for(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a vector column of 8 seeded values per row."""
    rng = np.random.default_rng(0)
    return frame.assign(embedding=list(rng.standard_normal((len(frame), 8)).astype(np.float32)))


def hovers(fig) -> dict:
    """id -> hover text over the traces that draw points."""
    return {vid: text for t in fig.data for vid, text in zip(t.customdata, t.hovertext or ()) if vid is not None}


def test_a_missing_value_of_a_nullable_dtype_shows_a_dash_in_the_hover():
    """Int64, UInt64, boolean and string cells a row lacks are pd.NA: the hover said "&lt;NA&gt;"."""
    frame = vectors_for(pd.DataFrame({"id": ["a", "b"], "year": pd.array([1999, None], dtype="Int64"),
                                      "big": pd.array([2**64 - 1, None], dtype="UInt64"),
                                      "seen": pd.array([True, None], dtype="boolean"),
                                      "sdt": pd.array(["x", None], dtype="string")}))
    shown = hovers(plot_index(frame, color="seen", hover="all"))
    assert shown["b"] == "<b>b</b><br>year=–<br>big=–<br>seen=–<br>sdt=–"
    assert shown["a"] == "<b>a</b><br>year=1999<br>big=18446744073709551615<br>seen=True<br>sdt=x"


@pytest.mark.parametrize("zone", [None, "UTC"])
def test_a_time_a_row_lacks_is_grey_none_not_a_category_nat(zone):
    when = pd.to_datetime(["2024-01-01 10:00", None, "2024-01-02 10:00", "2024-01-01 10:00"]).tz_localize(zone)
    fig = plot_index(vectors_for(pd.DataFrame({"id": list("abcd"), "when": when})), color="when")
    drawn = {t.name: (t.marker.color, t.customdata) for t in fig.data}
    assert list(drawn)[1:] == [str(when[0]), str(when[2])] and drawn["(none)"] == (MISSING_COLOR, ("b",))
    assert hovers(fig)["b"] == "<b>b</b><br>when=–"


@pytest.mark.parametrize("dtype", ["float32", "Float32", "float16"])
def test_categories_of_narrow_floats_are_named_as_pandas_shows_them(dtype):
    """A float32 0.1 was named 0.10000000149011612 in the legend, 0.1 in its hover."""
    rating = pd.Series([0.1, 0.2, 0.1, 0.7, None], dtype=dtype)
    fig = plot_index(vectors_for(pd.DataFrame({"id": list("abcde"), "rating": rating})), color="rating",
                     discrete=True)
    assert [t.name for t in fig.data] == ["(none)", "0.1", "0.2", "0.7"] and hovers(fig)["a"].endswith("rating=0.1")
