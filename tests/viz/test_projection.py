"""project and Projection: shapes, determinism, the auto rule, placing new points (PCA); progress."""

import time

import numpy as np
import pandas as pd
import pytest

from vectorize_nb.viz import Projection, plot_index, project
from vectorize_nb.viz import projection as projection_module
from vectorize_nb.viz.progress import run_with_progress
from vectorize_nb.viz.projection import UMAP_FROM, nearest, resolve_method


@pytest.fixture
def embeddings():
    rng = np.random.default_rng(11)
    basis = rng.standard_normal((3, 64)).astype(np.float32)
    return (rng.standard_normal((400, 3)) * [5, 2, 1]).astype(np.float32) @ basis + 0.01 * rng.standard_normal(
        (400, 64)).astype(np.float32)


@pytest.mark.parametrize("n_components", [2, 3])
def test_pca_shapes_and_determinism(embeddings, n_components):
    first = project(embeddings, "pca", n_components=n_components)
    assert first.shape == (400, n_components) and first.dtype == np.float32
    np.testing.assert_array_equal(first, project(embeddings, "pca", n_components=n_components))


def test_pca_finds_the_axes_of_largest_variance(embeddings):
    fitted = Projection.fit(embeddings, "pca", n_components=3)
    assert fitted.method == "pca" and fitted.explained.sum() > 0.99  # the data lie on a 3-D subspace
    assert fitted.explained[0] > fitted.explained[1] > fitted.explained[2]
    centred = embeddings - embeddings.mean(axis=0)
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    for axis, exact in zip(fitted.axes, vt[:3]):
        assert abs(float(np.dot(axis, exact))) == pytest.approx(1.0, abs=1e-4)


def test_a_column_of_arrays_is_vectors_and_the_input_is_left_alone(embeddings):
    column = pd.Series(list(embeddings))
    np.testing.assert_array_equal(project(column, "pca"), project(embeddings, "pca"))
    fitted = Projection.fit(embeddings, "pca")
    assert embeddings.flags.writeable and not fitted.coords.flags.writeable


def test_new_points_go_where_the_fitted_ones_are(embeddings):
    fitted = Projection.fit(embeddings[:300], "pca")
    np.testing.assert_allclose(fitted.place(embeddings[:300]), fitted.coords, atol=1e-4)
    assert fitted.place(embeddings[300:]).shape == (100, 2)


def test_cosine_projects_directions_not_lengths(embeddings):
    scaled = embeddings * np.linspace(0.5, 3, 400, dtype=np.float32)[:, None]
    np.testing.assert_allclose(project(scaled, "pca", metric="cosine"), project(embeddings, "pca", metric="cosine"),
                               atol=1e-5)


def test_degenerate_inputs(embeddings):
    assert project(embeddings[:1], "pca").tolist() == [[0.0, 0.0]]
    assert project(np.ones((5, 8)), "pca").tolist() == [[0.0, 0.0]] * 5
    flat = project(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), "pca", n_components=3)
    assert flat.shape == (3, 3) and (flat[:, 2] == 0).all()  # 2-D vectors have no third axis
    with pytest.raises(ValueError, match="method is one of 'auto', 'pca', 'umap', got 'tsne'"):
        project(embeddings, "tsne")
    with pytest.raises(ValueError, match="n_components is 2 or 3"):
        project(embeddings, "pca", n_components=4)


def test_auto_takes_umap_for_large_sets_of_wide_vectors(monkeypatch):
    assert resolve_method("auto", UMAP_FROM - 1, 384) == "pca"
    assert resolve_method("auto", UMAP_FROM, 384) == "umap"
    assert resolve_method("auto", 50_000, 2) == "pca"  # PCA of 2-D vectors is exact
    assert resolve_method("umap", 10, 384) == "umap" and resolve_method("pca", 10**6, 384) == "pca"
    monkeypatch.setattr(projection_module, "available", lambda module: False)
    assert resolve_method("auto", 50_000, 384) == "pca"


def test_nearest_is_exact(embeddings):
    rows, distances = nearest(embeddings[:5], embeddings, 4)
    full = np.linalg.norm(embeddings[:5, None, :] - embeddings[None, :, :], axis=2)
    np.testing.assert_array_equal(rows, np.argsort(full, axis=1)[:, :4])
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :4], atol=1e-3)


def test_a_long_computation_ticks_elapsed_seconds(capsys):
    assert run_with_progress(lambda: time.sleep(1.2) or 42, "UMAP of 9 points") == 42
    shown = capsys.readouterr().err
    assert "UMAP of 9 points: 00:0" in shown and "UMAP of 9 points: done" in shown
    assert shown.count("UMAP of 9 points:") >= 3  # it ticked while the task ran
    assert run_with_progress(lambda: 7, "quiet", progress=False) == 7
    assert capsys.readouterr().err == ""


def test_a_failing_computation_raises_in_the_caller():
    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_with_progress(fail, "failing")


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_identical_vectors_are_one_point_with_no_axis(metric):
    """50 copies of one vector gave 'PC 1 (100%)' and two clusters 7e-15 apart: a PCA of rounding noise."""
    same = np.tile(np.random.default_rng(0).standard_normal(32).astype(np.float32), (50, 1))
    fitted = Projection.fit(same, "pca", metric=metric)
    np.testing.assert_array_equal(fitted.explained, [0.0, 0.0])
    np.testing.assert_array_equal(fitted.coords, np.zeros((50, 2)))
    many = np.tile(same[:1] * 1000, (20_000, 1))  # a float32 mean over many rows drifts by 1e-4
    np.testing.assert_array_equal(project(many, "pca"), np.zeros((20_000, 2)))


def test_a_direction_of_rounding_noise_is_no_axis():
    line = np.outer(np.arange(20, dtype=np.float32), np.random.default_rng(1).standard_normal(16)).astype(np.float32)
    jitter = np.nextafter(line, np.inf, dtype=np.float32)  # one ulp
    fitted = Projection.fit(np.vstack([line, jitter]) + 5.0, "pca")
    assert fitted.explained[0] == pytest.approx(1.0) and fitted.explained[1] == 0.0
    assert not fitted.coords[:, 1].any() and np.ptp(fitted.coords[:, 0]) > 1


def test_a_map_of_identical_vectors_says_0_percent():
    one = np.random.default_rng(0).standard_normal(32).astype(np.float32)
    fig = plot_index(pd.DataFrame({"id": [f"v{i}" for i in range(50)], "values": [one] * 50}))
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("PC 1 (0%)", "PC 2 (0%)")
    assert set(fig.data[0].x) == set(fig.data[0].y) == {0.0}
