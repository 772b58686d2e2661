"""UMAP, on small sets (each new process still pays ~10 s of numba compilation on its first fit)."""

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb.viz import cache_info, clear_cache, plot_neighbourhood, project

from ..helpers import TINY
from .conftest import trace, xy

pytestmark = pytest.mark.slow


def test_umap_is_seeded_and_clamps_its_neighbours_to_small_sets():
    rng = np.random.default_rng(2)
    X = np.repeat(rng.standard_normal((3, 16)) * 5, 20, axis=0) + rng.standard_normal((60, 16))
    first = project(X, "umap", progress=False)
    assert first.shape == (60, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, project(X, "umap", progress=False))
    assert project(X[:6], "umap", n_neighbors=15, n_components=3, progress=False).shape == (6, 3)
    with pytest.raises(ValueError, match="UMAP needs more than 3 points for a 2-D picture, got 3"):
        project(X[:3], "umap", progress=False)


def test_a_umap_neighbourhood_places_queries_and_outlives_the_kernel(disk_index, store, fits, capsys):
    fig = plot_neighbourhood(disk_index, "v042", top_k=5, method="umap")
    assert "UMAP of 300 points" in capsys.readouterr().err  # the wait was shown
    assert fig.layout.meta["method"] == "umap" and fig.layout.xaxis.title.text == "UMAP 1"
    np.testing.assert_allclose(xy(trace(fig, "query"))[0], xy(trace(fig, "matches"))[0])  # its own fitted place
    stored = disk_index.get_by_ids(["v042"])["values"].iloc[0]
    again = plot_neighbourhood(disk_index, stored, top_k=5, method="umap")
    np.testing.assert_allclose(xy(trace(again, "query"))[0], xy(trace(fig, "query"))[0], atol=1e-5)

    new = np.array([5.0, 5.0], np.float32)
    placed = plot_neighbourhood(disk_index, new, top_k=10, method="umap")
    around = xy(trace(placed, "matches"))  # its 10 nearest vectors are the ones it is averaged over
    assert (around.min(axis=0) <= xy(trace(placed, "query"))[0]).all()
    assert (xy(trace(placed, "query"))[0] <= around.max(axis=0)).all()

    clear_cache()
    with vz.connect("local", path=store, limits=TINY) as client:
        reopened = plot_neighbourhood(client.get_index("points"), new, top_k=10, method="umap")
    assert len(fits) == 1 and cache_info()["disk_hits"] == 1
    np.testing.assert_array_equal(xy(trace(reopened, "query")), xy(trace(placed, "query")))
