"""The two readers of list cells give the same rows and name the same first bad row."""

from __future__ import annotations

import os
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from vectorize_nb import packing

REQUIRE_COMPILED = "VECTORIZE_NB_REQUIRE_COMPILED"

compiled = packing._COMPILED_READER  # the extension itself, when it was built

READERS = [pytest.param(packing.pack_rows_struct, id="struct")]
if compiled is not None:
    READERS += [pytest.param(lambda cells, out, width: compiled(cells, out, width, 1), id="compiled"),
                pytest.param(lambda cells, out, width: compiled(cells, out, width, 2), id="compiled-2-threads")]


def test_the_compiled_reader_is_built_where_required():
    if os.environ.get(REQUIRE_COMPILED) != "1":
        pytest.skip(f"{REQUIRE_COMPILED} is not set")
    assert packing.COMPILED


@pytest.fixture(params=READERS)
def pack(request):
    return request.param


def packed(pack, cells, width):
    out = np.full((len(cells), width), -7.0, dtype=np.float32)
    return pack(cells, out, width), out


def test_rows_match_numpys_float32_conversion_exactly(pack):
    rng = np.random.default_rng(1)
    cells = [row.tolist() for row in rng.standard_normal((50, 24))]  # float64: rounding to float32 is tested
    problem, out = packed(pack, cells, 24)
    assert problem is None
    np.testing.assert_array_equal(out, np.asarray(cells, dtype=np.float32))


def test_any_kind_of_number_and_sequence_is_read(pack):
    cells = [[1, True, 2.5], (np.float64(0.1), np.int8(-3), Fraction(1, 4)), np.array([7, 8, 9]),
             [Decimal("0.5"), 0, -0.0]]
    problem, out = packed(pack, cells, 3)
    assert problem is None
    np.testing.assert_array_equal(out, np.float32([[1, 1, 2.5], [0.1, -3, 0.25], [7, 8, 9], [0.5, 0, 0]]))


def test_nan_infinity_and_numbers_beyond_float32_are_packed_for_the_caller_to_find(pack):
    problem, out = packed(pack, [[1.0, float("nan")], [float("inf"), 2.0], [3.4e38, -1e39], [1e300, 0]], 2)
    assert problem is None
    assert np.isnan(out[0, 1]) and np.isposinf(out[1, 0])
    assert out[2, 0] == np.float32(3.4e38) and np.isneginf(out[2, 1]) and np.isposinf(out[3, 0])


@pytest.mark.parametrize("cells, expected", [
    ([[1.0, 2.0], [1.0, "x"], [None, 1.0]], (1, "number")),
    ([[1.0, 2.0], [3.0, 4.0], [5.0, None]], (2, "number")),
    ([[1.0, 2.0], 5.0], (1, "number")),
    ([[1.0, 2.0], [1.0, 2.0, 3.0]], (1, "width")),
    ([[1.0, 2.0], [1.0]], (1, "width")),
])
def test_the_first_bad_row_is_named_with_what_is_wrong(pack, cells, expected):
    problem, out = packed(pack, cells, 2)
    assert problem == expected
    np.testing.assert_array_equal(out[0], [1.0, 2.0])  # rows before it were packed


def test_a_number_that_changes_its_row_while_read_is_caught(pack):
    row: list = [1.0, 2.0, 3.0]

    class Shrinking:
        def __float__(self):
            row.clear()
            return 4.0

    row[1] = Shrinking()
    problem, _ = packed(pack, [row], 3)
    assert problem in ((0, "width"), None)  # struct copies the row before reading it: either is safe
    assert row == []


def test_an_output_too_small_is_refused(pack):
    with pytest.raises(ValueError, match="fewer than"):
        pack([[1.0, 2.0]] * 3, np.empty(5, dtype=np.float32), 2)


def test_an_empty_column_and_zero_width(pack):
    assert pack([], np.empty(0, dtype=np.float32), 3) is None
    assert pack([[], []], np.empty(0, dtype=np.float32), 0) is None


def test_bad_rows_in_either_half_of_a_split_column(pack):
    cells = [[float(r), 1.0] for r in range(10)]
    cells[7] = [1.0, "x"]  # in the second half
    assert packed(pack, cells, 2)[0] == (7, "number")
    cells[2] = [1.0]  # now also in the first half, which comes first
    assert packed(pack, cells, 2)[0] == (2, "width")


def test_a_number_that_empties_the_column_while_read_is_safe(pack):
    cells: list = [[1.0, 2.0] for _ in range(6)]

    class Emptying:
        def __float__(self):
            cells.clear()
            return 4.0

    cells[1] = [Emptying(), 3.0]
    problem, out = packed(pack, cells, 2)  # no crash, and the rows read are right
    assert problem is None and cells == []
    np.testing.assert_array_equal(out[:2], [[1.0, 2.0], [4.0, 3.0]])


def test_rows_off_the_fast_path_are_read_in_both_halves_and_the_fast_path_resumes(pack):
    cells = [[float(r), 0.5] for r in range(12)]
    cells[1], cells[4], cells[8] = (1, 2), [3, 4.0], np.array([5.0, 6.0])
    problem, out = packed(pack, cells, 2)
    assert problem is None
    np.testing.assert_array_equal(out, np.asarray([list(map(float, c)) for c in cells], dtype=np.float32))


def test_a_large_column_is_read_exactly():
    rng = np.random.default_rng(2)
    cells = [row.tolist() for row in rng.standard_normal((3000, 384))]  # over a million numbers: two threads
    cells[2500][7] = 3  # one row off the fast path, in the second half
    out = np.empty((3000, 384), dtype=np.float32)
    assert packing.pack_rows(cells, out, 384) is None
    np.testing.assert_array_equal(out, np.asarray(cells, dtype=np.float32))
