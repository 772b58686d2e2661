"""The two readers of list cells give the same rows and name the same first bad row."""

from __future__ import annotations

import os
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from vectorize_nb import frames, packing

REQUIRE_COMPILED = "VECTORIZE_NB_REQUIRE_COMPILED"

try:
    from vectorize_nb._packing import pack_rows as compiled
except ImportError:
    compiled = None

READERS = [
    pytest.param(packing.pack_rows_struct, id="struct"),
    pytest.param(compiled, id="compiled",
                 marks=pytest.mark.skipif(compiled is None, reason="installed without a C compiler")),
]


def test_the_compiled_reader_is_built_where_required():
    if os.environ.get(REQUIRE_COMPILED) != "1":
        pytest.skip(f"{REQUIRE_COMPILED} is not set")
    assert packing.COMPILED and packing.pack_rows is compiled


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


def test_frames_use_the_compiled_reader_when_it_is_built():
    assert packing.pack_rows is (compiled or packing.pack_rows_struct)
    assert frames.packing.pack_rows is packing.pack_rows
