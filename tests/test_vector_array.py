"""VectorArray: a column of float32 vectors held as one matrix, in results and in the frames users write."""

import pickle

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract.models import VectorCells
from vectorize_nb.frames import vectors_of
from vectorize_nb.vector_array import VectorArray, VectorDtype

from .helpers import TINY


@pytest.fixture
def matrix():
    return np.arange(12, dtype=np.float32).reshape(4, 3)


@pytest.fixture
def index():
    with vz.connect("memory", limits=TINY) as client:
        yield client.create_index("films", 3, metric="euclidean")


def column(matrix):
    return pd.Series(VectorArray(matrix), index=[10, 11, 12, 13])


# --- what the results hold ------------------------------------------------------------------------

def test_to_frame_holds_the_exported_matrix_and_nothing_per_row(index, matrix):
    index.upsert(["a", "b", "c", "d"], matrix, wait=True)
    exported = index.to_frame()
    assert exported["values"].dtype == VectorDtype(3) and str(exported["values"].dtype) == "vector[3]"
    np.testing.assert_array_equal(exported["values"].array.matrix, matrix)
    assert exported["values"].memory_usage(index=False, deep=True) == matrix.nbytes
    cell = exported["values"].iloc[1]
    assert type(cell) is np.ndarray and cell.dtype == np.float32 and cell.tolist() == [3, 4, 5]
    np.testing.assert_array_equal(np.stack(exported["values"]), matrix)


def test_query_and_get_by_ids_give_vector_columns(index, matrix):
    index.upsert(["a", "b", "c", "d"], matrix, wait=True)
    hits = index.query(matrix[2], top_k=2, return_values=True)
    assert hits["id"].tolist() == ["c", "b"] and hits["values"].dtype == VectorDtype(3)
    assert hits["values"].iloc[0].tolist() == [6, 7, 8]
    stored = index.get_by_ids(["d", "a"])
    assert stored["values"].dtype == VectorDtype(3) and stored["values"].iloc[0].tolist() == [9, 10, 11]


def test_an_empty_result_takes_the_width_of_the_one_it_joins(index, matrix):
    index.upsert(["a"], matrix[:1], wait=True)
    empty, found = index.get_by_ids(["nope"]), index.get_by_ids(["a"])
    assert empty["values"].dtype == VectorDtype(3) and len(empty) == 0  # the index's width
    both = pd.concat([empty, found], ignore_index=True)
    assert both["values"].dtype == VectorDtype(3) and both["values"].iloc[0].tolist() == [0, 1, 2]


def test_a_query_with_values_that_matches_nothing_has_the_width_of_one_that_does(index, matrix):
    """It was vector[0], where get_by_ids of unknown ids had the index's width."""
    index.upsert(["a"], matrix[:1], wait=True)
    with pytest.warns(vz.errors.VectorizeWarning, match="no vector in the namespace 'none'"):
        answers = (index.query(matrix[0], return_values=True, namespace="none"),
                   index.query_many(matrix[:2], return_values=True, namespace="none"),
                   index.query_by_id("a", return_values=True, namespace="none"))
    for empty in answers:
        assert empty.empty and empty["values"].dtype == VectorDtype(3)


def test_a_missing_vector_is_nan_after_a_reindex_or_a_merge(index, matrix):
    index.upsert(["a", "b"], matrix[:2], wait=True)
    fetched = pd.DataFrame({"id": ["b", "x", "a"]}).vectorize.fetch(index, id="id")
    assert fetched["values"].isna().tolist() == [False, True, False]
    assert fetched["values"].iloc[0].tolist() == [3, 4, 5] and np.isnan(fetched["values"].iloc[1])
    merged = pd.merge(pd.DataFrame({"id": ["x", "a"]}), index.to_frame(), how="left")
    assert merged["values"].dtype == VectorDtype(3) and merged["values"].notna().tolist() == [False, True]
    assert merged.dropna(subset=["values"])["id"].tolist() == ["a"]


# --- what users do with the column ------------------------------------------------------------------

def test_selecting_sorting_and_concatenating_keep_the_dtype(matrix):
    frame = pd.DataFrame({"score": [0.5, 0.9, 0.1, 0.7], "values": VectorArray(matrix)})
    best = frame.sort_values("score", ascending=False).head(2)
    assert best["values"].dtype == VectorDtype(3)
    assert [v.tolist() for v in best["values"]] == [[3, 4, 5], [9, 10, 11]]
    assert frame[frame["score"] > 0.6]["values"].array.matrix.tolist() == [[3, 4, 5], [9, 10, 11]]
    doubled = pd.concat([frame, frame])
    assert doubled["values"].dtype == VectorDtype(3) and len(doubled["values"].array.matrix) == 8


def test_columns_of_two_widths_concatenate_to_arrays(matrix):
    wide = pd.DataFrame({"values": VectorArray(np.ones((1, 5)))})
    both = pd.concat([pd.DataFrame({"values": VectorArray(matrix)}), wide], ignore_index=True)
    assert both["values"].dtype == object and both["values"].iloc[4].tolist() == [1, 1, 1, 1, 1]


def test_setting_a_cell_writes_the_copy_not_the_original(matrix):
    frame = pd.DataFrame({"id": list("abcd"), "values": VectorArray(matrix)})
    changed = frame.copy()
    changed.at[0, "values"] = np.array([7, 7, 7], np.float32)
    changed.iat[1, 1] = [8, 8, 8]
    assert changed["values"].iloc[0].tolist() == [7, 7, 7] and changed["values"].iloc[1].tolist() == [8, 8, 8]
    assert frame["values"].iloc[0].tolist() == [0, 1, 2] and matrix[0].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="the value set is not a vector of 3 numbers: it has shape \\(2,\\)"):
        changed["values"].array[2] = [1, 2]


def test_duplicates_and_counts_compare_the_numbers(matrix):
    matrix[2] = matrix[0]
    matrix[3] = np.nan
    series = column(matrix)
    assert series.duplicated().tolist() == [False, False, True, False]
    assert series.drop_duplicates().index.tolist() == [10, 11, 13]
    counts = series.value_counts()
    assert counts.tolist() == [2, 1] and counts.index[0].tolist() == [0, 1, 2]
    assert series.nunique() == 2 and len(series.unique()) == 3


def test_conversions(matrix):
    series = column(matrix)
    assert pickle.loads(pickle.dumps(series)).array.matrix.tolist() == matrix.tolist()
    cells = series.to_numpy()
    assert cells.dtype == object and cells[3].tolist() == [9, 10, 11]
    assert series.astype(object).dtype == object
    again = pd.Series(list(matrix)).astype("vector[3]")
    assert again.dtype == VectorDtype(3) and again.array.matrix.tolist() == matrix.tolist()
    with pytest.raises(TypeError, match=r"np.stack\(column\) or column.array.matrix gives the \(4, 3\) float32"):
        np.asarray(series, dtype=np.float32)
    assert (series.array == matrix[1]).tolist() == [False, True, False, False]


def test_comparisons_and_a_frame_wide_replace(matrix):
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "values": VectorArray(matrix)})
    replaced = frame.replace({"a": "z"})  # compares every column with "a"
    assert replaced["id"].tolist() == ["z", "b", "c", "d"]
    assert replaced["values"].array.matrix.tolist() == matrix.tolist()
    cells = frame["values"].array
    assert (cells == "a").tolist() == [False] * 4 and (cells == np.zeros(5)).tolist() == [False] * 4
    assert (cells == list(matrix[::-1])).tolist() == [False] * 4 and (cells == list(matrix)).tolist() == [True] * 4
    assert (frame["values"] == frame["values"].copy()).all()


def test_membership_a_scalar_fill_and_sorting_say_what_a_vector_column_does(matrix):
    """isin of a stored vector was False for its row, fillna(0) raised "'int' object is not iterable" and
    sort_values numpy's "truth value of an array is ambiguous"."""
    matrix[3] = np.nan
    series = column(matrix)
    assert series.isin([matrix[1], [0, 1]]).tolist() == [False, True, False, False]
    assert series.isin(series.iloc[[0]]).tolist() == [True, False, False, False]
    assert series.isin([np.nan, "x"]).tolist() == [False, False, False, True]
    with pytest.raises(TypeError, match="takes a vector of 3 numbers or NaN, got 0"):
        series.fillna(0)
    assert series.fillna(pd.Series([np.zeros(3)] * 4, index=series.index)).array.matrix[3].tolist() == [0, 0, 0]
    with pytest.raises(TypeError, match="vectors have no order to sort by"):
        series.sort_values()


@pytest.mark.parametrize("kind", ["parquet", "feather"])
def test_a_vector_column_round_trips_through_arrow_files(matrix, tmp_path, kind):
    pyarrow = pytest.importorskip("pyarrow")
    missing = kind == "feather" or int(pyarrow.__version__.split(".")[0]) >= 26  # older: not to parquet
    if missing:
        matrix[1] = np.nan
    frame = pd.DataFrame({"id": list("abcd"), "values": VectorArray(matrix)})
    getattr(frame, f"to_{kind}")(tmp_path / "frame")
    back = getattr(pd, f"read_{kind}")(tmp_path / "frame")
    assert back["values"].dtype == VectorDtype(3) and back["values"].isna().tolist() == [False, missing, False, False]
    np.testing.assert_array_equal(back["values"].array.matrix, matrix)


def test_printed_cells_show_both_ends():
    shown = repr(pd.Series(VectorArray(np.arange(384, dtype=np.float32).reshape(1, 384) / 1000)))
    assert "[0, 0.001, …, 0.382, 0.383]" in shown and "dtype: vector[384]" in shown
    assert repr(VectorDtype(384)) == "VectorDtype(384)"


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="made of a 2-D matrix"):
        VectorArray(np.zeros(3))
    with pytest.raises(ValueError, match=r"row 1 is not a vector of 3 numbers: it has shape \(2,\)"):
        VectorArray._from_sequence([np.zeros(3), np.zeros(2)])
    with pytest.raises(ValueError, match=r"row 0 is not a vector of 3 numbers: it has shape \(4,\)"):
        pd.Series([np.zeros(4)]).astype("vector[3]")
    with pytest.raises(ValueError, match=r"row 1 is not a vector of 3 numbers: it has shape \(2,\)"):
        pd.Series(VectorArray(np.zeros((2, 3)))).array[:] = [np.zeros(3), np.zeros(2)]
    with pytest.raises(TypeError, match="Cannot construct a 'VectorDtype' from 'vector'"):
        VectorDtype.construct_from_string("vector")


# --- writing a vector column --------------------------------------------------------------------------

def test_a_vector_column_is_written_without_a_copy(index, matrix):
    frame = pd.DataFrame({"id": list("abcd"), "values": VectorArray(matrix)}, copy=False)
    values = vectors_of(frame, "values", None, 3, list("abcd"))
    assert isinstance(values, VectorCells) and np.shares_memory(np.asarray(values.cells), matrix)
    frame.vectorize.upsert(index, id="id", vector="values", wait=True)
    np.testing.assert_array_equal(index.to_frame()["values"].array.matrix, matrix)


def test_an_exported_index_upserts_into_another(matrix):
    with vz.connect("memory", limits=TINY) as client:
        source, copy = client.create_index("source", 3), client.create_index("copy", 3)
        source.upsert(["w", "x", "y", "z"], matrix + 1, metadata=[{"n": i} for i in range(4)], wait=True)
        source.to_frame().vectorize.upsert(copy, id="id", vector="values", metadata=["n"], wait=True)
        again = copy.to_frame()
    assert again["id"].tolist() == ["w", "x", "y", "z"] and again["n"].tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(again["values"].array.matrix, matrix + 1)


def test_a_missing_vector_in_the_column_is_refused_by_row_and_id(index, matrix):
    matrix[2] = np.nan
    frame = pd.DataFrame({"id": list("abcd"), "values": VectorArray(matrix)}, index=[10, 11, 12, 13])
    with pytest.raises(errors.InvalidVector, match=r"row 12 \(id='c'\)"):
        frame.vectorize.upsert(index, id="id", vector="values")
    assert index.to_frame().empty


def test_a_vector_column_of_the_wrong_width_is_refused(index):
    frame = pd.DataFrame({"id": ["a"], "values": VectorArray(np.ones((1, 4)))})
    with pytest.raises(errors.VectorDimensionMismatch, match="expected 3 dimensions, and got 4"):
        frame.vectorize.upsert(index, id="id", vector="values")
    assert index.to_frame().empty


def test_a_vector_column_asks_queries_and_stays_as_it_was(matrix):
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("cosine", 3, metric="cosine")
        index.upsert(["a", "b", "c", "d"], matrix + 1, wait=True)
        frame = pd.DataFrame({"q": VectorArray(matrix + 1)}, copy=False)
        hits = frame.vectorize.query(index, vector="q", top_k=1)
    assert hits["id"].tolist() == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(frame["q"].array.matrix, matrix + 1)  # lent read-only, not normalised in place


def test_the_views_read_a_vector_column(matrix):
    from vectorize_nb.viz.inputs import frame_matrix

    frame = pd.DataFrame({"values": VectorArray(matrix)})
    read = frame_matrix(frame, "values")
    np.testing.assert_array_equal(read, matrix)
    assert not read.flags.writeable  # the caller's column, lent read-only


# --- pandas' own conformance suite for extension arrays -----------------------------------------------

base = pytest.importorskip("pandas.tests.extension.base")


@pytest.fixture
def dtype():
    return VectorDtype(3)


@pytest.fixture
def data():
    return VectorArray(np.random.default_rng(0).standard_normal((100, 3)))


@pytest.fixture
def data_missing():
    return VectorArray([[np.nan] * 3, [1.0, 2.0, 3.0]])


@pytest.fixture
def na_cmp():
    return lambda a, b: isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b)


@pytest.fixture
def na_value():
    return np.nan


class TestPandasDtype(base.BaseDtypeTests):
    """pandas' own checks of an extension dtype (names, equality, hashing, construction from strings)."""


class TestPandasPrinting(base.BasePrintingTests):
    """pandas' own checks of how an extension array prints in a Series and a frame."""
