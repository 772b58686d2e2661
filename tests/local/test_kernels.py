"""The compiled search kernels against numpy, and how they refuse what does not fit."""

import os

import numpy as np
import pytest

from vectorize_nb.local import search

kernels = search._kernels
built = pytest.mark.skipif(kernels is None, reason="the compiled kernels were not built")


def test_the_compiled_kernels_are_built_where_required():
    if os.environ.get("VECTORIZE_NB_REQUIRE_COMPILED") != "1":
        pytest.skip("VECTORIZE_NB_REQUIRE_COMPILED is not set")
    assert kernels is not None


@built
@pytest.mark.parametrize("width", [1, 15, 16, 37, 384])
def test_dots_match_numpy(rng, width):
    matrix = rng.standard_normal((300, width)).astype(np.float32)
    query = rng.standard_normal(width).astype(np.float32)
    rows = rng.integers(0, 300, 120)
    gathered, ranged = np.empty(120, np.float32), np.empty(300, np.float32)
    kernels.gather_dots(matrix, width, rows, query, gathered)
    kernels.range_dots(matrix, width, query, ranged)
    expected = matrix.astype(np.float64) @ query.astype(np.float64)
    assert np.allclose(gathered, expected[rows], rtol=1e-5, atol=1e-5)
    assert np.allclose(ranged, expected, rtol=1e-5, atol=1e-5)


@built
def test_keep_best_folds_blocks_into_each_querys_top_k(rng):
    queries, k = 5, 7
    best_sims = np.full((queries, k), -np.inf, np.float32)
    best_rows = np.full((queries, k), -1, np.int64)
    sims = rng.standard_normal((1000, queries)).astype(np.float32)
    for start in range(0, 1000, 64):
        block = np.ascontiguousarray(sims[start:start + 64])
        kernels.keep_best(block, queries, np.arange(start, start + len(block), dtype=np.int64), best_sims, best_rows)
    for query in range(queries):
        expected = np.argsort(-sims[:, query])[:k]
        assert set(best_rows[query].tolist()) == set(expected.tolist())
        assert sorted(best_sims[query].tolist()) == sorted(sims[expected, query].tolist())


@built
def test_keep_best_never_keeps_nan_or_minus_infinity():
    best_sims = np.full((1, 4), -np.inf, np.float32)
    best_rows = np.full((1, 4), -1, np.int64)
    sims = np.array([[np.nan], [-np.inf], [0.5], [np.nan], [-2.0]], np.float32)
    kernels.keep_best(sims, 1, np.array([10, 11, 12, 13, 14]), best_sims, best_rows)
    assert sorted(best_rows[0].tolist()) == [-1, -1, 12, 14]


@built
def test_a_row_outside_the_matrix_is_refused_by_number(rng):
    matrix = rng.standard_normal((10, 4)).astype(np.float32)
    out = np.empty(2, np.float32)
    for bad in (10, -1):
        with pytest.raises(IndexError, match=f"row {bad} of a matrix of 10 rows"):
            kernels.gather_dots(matrix, 4, np.array([3, bad]), np.ones(4, np.float32), out)


@built
def test_buffers_of_the_wrong_type_or_shape_are_refused(rng):
    matrix = rng.standard_normal((10, 4)).astype(np.float32)
    query, out = np.ones(4, np.float32), np.empty(10, np.float32)
    with pytest.raises(TypeError, match="matrix must be a contiguous float32 array"):
        kernels.range_dots(matrix.astype(np.float64), 4, query, out)
    with pytest.raises(TypeError, match="rows must be a contiguous int64 array"):
        kernels.gather_dots(matrix, 4, np.arange(3, dtype=np.int32), query, out[:3])
    with pytest.raises((ValueError, BufferError)):
        kernels.range_dots(matrix[:, :2], 2, query[:2], out)  # not contiguous
    with pytest.raises(ValueError, match="do not fit width"):
        kernels.range_dots(matrix, 3, query, out)
    read_only = np.zeros(10, np.float32)
    read_only.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        kernels.range_dots(matrix, 4, query, read_only)
    with pytest.raises(ValueError, match="do not fit the queries"):
        kernels.keep_best(np.ones((3, 2), np.float32), 2, np.arange(4, dtype=np.int64), np.ones((2, 2), np.float32),
                          np.ones((2, 2), np.int64))
