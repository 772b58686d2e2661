"""Pooling and normalisation on hand-made numbers."""

import numpy as np

from vectorize_nb.embeddings.pooling import normalise, pool

HIDDEN = np.array([[[1, 2], [3, 4], [100, 100]],
                   [[5, 6], [7, 8], [9, 10]]], np.float32)
MASK = np.array([[1, 1, 0], [1, 1, 1]])


def test_mean_counts_only_the_masked_in_tokens():
    np.testing.assert_array_equal(pool(HIDDEN, MASK, "mean"), [[2, 3], [7, 8]])


def test_cls_is_the_first_token():
    np.testing.assert_array_equal(pool(HIDDEN, MASK, "cls"), [[1, 2], [5, 6]])


def test_normalise_scales_rows_in_place_and_leaves_a_zero_row_zero():
    rows = np.array([[3, 4], [0, 0], [0, -2]], np.float32)
    assert normalise(rows) is rows
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0, 0], [0, -1]])
