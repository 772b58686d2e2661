"""plot_index: a whole index or a frame; WebGL past a thousand points; a sample, said in the title, past a limit."""

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.viz import plot_index
from vectorize_nb.viz import figures

from ..helpers import TINY
from .conftest import points, role_points, titles, trace

GENRES_IN_ORDER = ["comedy", "drama", "horror", "noir"]


def test_a_small_index_is_drawn_whole_in_svg(index):
    fig = plot_index(index, color="year", hover="genre")  # 70 years: a colour scale, one trace
    points_trace = trace(fig, "index")
    assert type(points_trace).__name__ == "Scatter" and len(fig.data) == 1
    assert sorted(points_trace.customdata) == sorted(index.list_ids())
    assert titles(fig)[0] == "points: all 300 vectors"
    assert titles(fig)[1] == "projected with PCA"
    assert fig.layout.xaxis.title.text.startswith("PC 1 (") and "genre=" in points_trace.hovertext[0]


def test_past_a_thousand_points_webgl_and_past_the_limit_a_sample(monkeypatch):
    with vz.connect("memory", limits=TINY) as client:
        big = client.create_index("big", 2, "euclidean")
        frame = points(1500, seed=3)
        frame.vectorize.upsert(big, id="id", vector="values", metadata=["genre"])
        fig = plot_index(big)
        assert type(fig.data[0]).__name__ == "Scattergl" and len(fig.data[0].customdata) == 1500
        monkeypatch.setattr(figures, "MAX_POINTS", 1200)
        sampled = plot_index(big)
        assert len(sampled.data[0].customdata) == 1200
        assert titles(sampled)[0] == "big: a seeded sample of 1,200 of 1,500 vectors (seed 42)"
        assert len(plot_index(big, sample=100).data[0].customdata) == 100


def test_an_exported_frame_is_drawn_like_its_index(index):
    from_index = plot_index(index, color="genre")
    from_frame = plot_index(index.to_frame(), color="genre")
    assert titles(from_frame)[0] == "points: all 300 vectors"  # the frame remembers its index
    mine, theirs = role_points(from_index, "index"), role_points(from_frame, "index")
    assert [t.name for t in from_index.data] == [t.name for t in from_frame.data] == GENRES_IN_ORDER
    assert sorted(mine) == sorted(theirs)
    np.testing.assert_allclose([mine[vid] for vid in sorted(mine)], [theirs[vid] for vid in sorted(mine)], atol=1e-5)


def test_any_frame_with_a_vector_column(data):
    frame = data.rename(columns={"values": "embedding"}).set_index("id")
    fig = plot_index(frame, color="year", metric="euclidean")
    assert list(fig.data[0].customdata) == frame.index.tolist()  # no id column: the row labels
    assert fig.layout.coloraxis.colorscale[0][1] == "#440154"  # numbers: a continuous scale (viridis)
    assert titles(fig)[0] == "frame: all 300 vectors"
    with pytest.raises(KeyError, match="no vector column among 'values', 'embedding', 'vector'"):
        plot_index(pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(KeyError, match="hover column 'nope' not in the frame"):
        plot_index(frame, hover=["nope"])


def test_a_long_text_in_a_hover_is_broken_into_lines_and_cut():
    """A 640-character description was one hover line wider than the figure: a browser drew it from the
    middle of the text, and the id and the other fields fell off the left edge."""
    text = "This is a long description of the item, which goes on and on about its plot. " * 8
    frame = pd.DataFrame({"id": ["a", "b"], "values": list(np.eye(2, 2, dtype=np.float32)),
                          "text": [text, "short <i>one</i>"]})
    long, short = plot_index(frame, hover="text").data[0].hovertext
    lines = long.split("<br>")
    assert lines[0] == "<b>a</b>" and lines[1].startswith("text=This is a long description")
    assert max(len(line) for line in lines[1:]) <= len("text=") + 60 and len(lines) == 1 + 8
    assert lines[-1].endswith(" …") and " ".join(lines[1:]).removeprefix("text=")[:400] == text[:400]
    assert short == "<b>b</b><br>text=short &lt;i&gt;one&lt;/i&gt;"


def test_an_index_of_one_vector_is_one_vector():
    """The title read "one: all 1 vectors"."""
    with vz.connect("memory", limits=TINY) as client:
        one = client.create_index("one", 2)
        one.upsert([{"id": "a", "values": [1.0, 0.0]}])
        assert titles(plot_index(one))[0] == "one: 1 vector"


def test_one_point_or_identical_points_get_axes_whose_corner_ticks_stand_apart():
    """plotly gave a map of one point axes from -1 to 1, and the two "-1" ticks overlapped in the corner."""
    with vz.connect("memory", limits=TINY) as client:
        same = client.create_index("same", 2)
        same.upsert([{"id": vid, "values": [1.0, 0.0]} for vid in "abc"])
        one = plot_index(same.to_frame().head(1))
        near = vz.plot_neighbourhood(same, "a", top_k=2)
    for fig in (one, near):
        assert fig.layout.xaxis.range == fig.layout.yaxis.range == (-1.25, 1.25)
    spread = plot_index(points(20))
    assert spread.layout.xaxis.range is None and spread.layout.yaxis.range is None  # plotly's own
