"""Result frames are built block by block (pandas' `create_dataframe_from_blocks`): the frames must be the
ones pandas' own constructor makes from the same columns, dtypes included, and independent of each other."""

import warnings
from datetime import datetime, UTC

import numpy as np
import pandas as pd
import pytest

from vectorize_nb import results
from vectorize_nb.contract.models import IndexConfig, IndexDescription, IndexExport, Match, MetadataIndex, VectorRecord

NOON = datetime(2026, 1, 1, 12, tzinfo=UTC)
ATTRS = {"index": "docs", "retrieved_at": "2026-01-01T00:00:00+00:00"}
METADATA = [{"genre": "drama", "year": 2001, "score": 1.5, "deep": {"k": True}}, None,
            {"genre": None, "year": 1999, "tags": ["a", "b"], "id": "clash"}, {}]


def matches(namespace: bool = True) -> list[list[Match]]:
    rng = np.random.default_rng(3)
    return [[Match(f"doc-{q}-{r}", float(rng.random()), rng.random(4, dtype=np.float32), METADATA[(q + r) % 4],
                   f"ns-{r}" if namespace and r % 2 else None) for r in range(3)] for q in range(3)] + [[]]


def records() -> list[VectorRecord]:
    return [VectorRecord(f"doc-{i}", np.full(4, i, dtype=np.float32), METADATA[i], None if i % 2 else "ns")
            for i in range(4)]


BUILDERS = {
    "a query": lambda: results.matches_frame(matches()[:1], ATTRS),
    "a query with values and metadata": lambda: results.matches_frame(matches()[:1], ATTRS, return_values=True),
    "many queries with keys": lambda: results.matches_frame(matches(), ATTRS, keys=["a", "b", "c", "d"]),
    "many queries keyed by a series": lambda: results.matches_frame(matches(False), ATTRS,
                                                                     keys=pd.Series([10, 20, 30, 40])),
    "many queries keyed by object labels": lambda: results.matches_frame(
        matches(), ATTRS, keys=pd.Index(["a", "b", "c", "d"], dtype=object)),
    "no matches": lambda: results.matches_frame([[]], ATTRS, return_values=True),
    "records": lambda: results.records_frame(records(), ATTRS),
    "records without values": lambda: results.records_frame(records(), ATTRS, values=False, metadata=False),
    "an export": lambda: results.export_frame(IndexExport(["a", "b"], [None, "ns"], np.eye(2, dtype=np.float32),
                                                          {"genre": ["x", None], "n": [1, None]}), ATTRS),
    "an empty export": lambda: results.export_frame(IndexExport([], []), ATTRS),
    "indexes": lambda: results.indexes_frame([IndexDescription("docs", IndexConfig(4, "cosine"), "", NOON, NOON)],
                                             ATTRS),
    "metadata indexes": lambda: results.metadata_indexes_frame([MetadataIndex("genre", "string")], ATTRS),
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_frame_built_from_blocks_is_the_frame_pandas_constructor_makes(build, monkeypatch):
    fast = build()
    monkeypatch.setattr(results, "create_dataframe_from_blocks", None)  # pandas < 3 has no such function
    slow = build()
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert fast.columns.dtype == slow.columns.dtype and fast.attrs == slow.attrs


def test_a_query_frame_has_its_columns_in_order_with_pandas_dtypes():
    frame = results.matches_frame(matches()[:1], {})
    assert list(frame.columns) == ["rank", "id", "score", "namespace", "genre", "year", 'metadata["score"]', "deep.k",
                                     "tags", 'metadata["id"]']
    assert frame["rank"].tolist() == [1, 2, 3] and frame["id"].tolist() == ["doc-0-0", "doc-0-1", "doc-0-2"]
    assert frame["id"].dtype == pd.Series(["x"]).dtype and frame["score"].dtype == np.float64
    assert datetime.fromisoformat(frame.attrs["retrieved_at"]) <= datetime.now(UTC)


def test_a_key_named_like_a_column_is_told_from_a_nested_one_of_that_name():
    """Both were named "metadata.rank" (the first renamed again while the name was taken), and upsert read
    such a column as a path, so an export written back moved a key "rank" under "metadata"."""
    found = [Match("a", 0.9, metadata={"rank": "TOP", "metadata": {"rank": "NESTED", "metadata": {"rank": "DEEP"}}})]
    frame = results.matches_frame([found], {})
    assert frame.loc[0, ["rank", "metadata.rank", "metadata.metadata.rank", 'metadata["rank"]']
                     ].tolist() == [1, "NESTED", "DEEP", "TOP"]
    assert [results.metadata_key(name) for name in ('metadata["rank"]', "metadata.rank", 'metadata[""]', 7)] == [
        "rank", "metadata.rank", 'metadata[""]', "7"]


def test_frames_with_the_same_columns_share_nothing_a_user_can_change():
    first, second = (results.matches_frame(matches()[:1], ATTRS) for _ in range(2))
    first.columns.name = "renamed"
    first.loc[0, "score"] = -1.0
    first.attrs["index"] = "other"
    assert second.columns.name is None and second.loc[0, "score"] != -1.0 and second.attrs["index"] == "docs"
    assert results.matches_frame(matches()[:1], ATTRS).columns.name is None


def test_a_frame_of_many_metadata_columns_takes_a_new_column_without_a_warning():
    metadata = {f"p{i}": [float(i), None] for i in range(150)} | {f"n{i}": [i, i] for i in range(150)}
    frame = results.export_frame(IndexExport(["a", "b"], [None, None], None, metadata), ATTRS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas warns of a "highly fragmented" frame past 100 blocks
        frame["added"] = 1.0
    assert frame["p3"].tolist()[0] == 3.0 and np.isnan(frame["p3"].tolist()[1]) and frame["n7"].tolist() == [7, 7]


_STRINGS = pd.Series(["x"]).dtype


@pytest.mark.parametrize("values", [["doc-1", None, "été", "数据", ""], ["a"] * 3, [None, None], []],
                         ids=["mixed", "repeated", "missing", "empty"])
def test_a_text_column_is_the_one_pandas_infers_from_the_same_strings(values):
    made = pd.Series(results._text(values))
    inferred = pd.Series(values, dtype=object if values and values.count(None) == len(values) else _STRINGS)
    assert type(made.array) is type(inferred.array)
    pd.testing.assert_series_equal(made, inferred, check_exact=True)


EMPTY_AND_FULL = {
    "indexes": lambda n: results.indexes_frame(
        [IndexDescription("docs", IndexConfig(4, "cosine"), "", NOON, NOON)] * n, ATTRS),
    "metadata indexes": lambda n: results.metadata_indexes_frame([MetadataIndex("genre", "string")] * n, ATTRS),
    "ids": lambda n: results.ids_frame(["doc-1"] * n, ATTRS),
    "a query": lambda n: results.matches_frame([matches()[0][1:1 + n]], ATTRS),
    "records": lambda n: results.records_frame(records()[:n], ATTRS, values=False, metadata=False),
    "records with values": lambda n: results.records_frame(records()[:n], ATTRS, metadata=False, dimensions=4),
    "queries keyed by numbers": lambda n: results.matches_frame([matches()[0][1:1 + n]], ATTRS, keys=[7]),
    "queries keyed by text": lambda n: results.matches_frame([matches()[0][1:1 + n]], ATTRS, keys=["a"]),
    "an export": lambda n: results.export_frame(IndexExport(["a"] * n, ["ns"] * n), ATTRS),
}


@pytest.mark.parametrize("build", EMPTY_AND_FULL.values(), ids=EMPTY_AND_FULL.keys())
def test_an_empty_result_has_the_dtypes_of_a_full_one(build):
    """A page with nothing on it concatenates with the others, and a check of its dtypes holds either way."""
    empty, full = build(0), build(1)
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()



def test_integer_and_boolean_properties_come_back_nullable_whatever_rows_an_answer_holds():
    """A property some vectors lack came back float64 (3 as 3.0, digits past 2**53 lost) or object, and as
    int64/bool when the answer held only vectors that have it."""
    metadata = {"year": [1999, None, 2024], "ref": [2**62 + 1, None, 7], "ok": [True, None, False],
                "full": [1, 2, 3], "big": [2**64 - 1, None, 1], "huge": [2**64, -1, None], "price": [1.5, None, 2],
                "genre": ["a", None, "b"]}
    frame = results.export_frame(IndexExport(["a", "b", "c"], [None] * 3, None, metadata), ATTRS)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        "id": str(_STRINGS), "namespace": "object", "year": "Int64", "ref": "Int64", "ok": "boolean", "full": "Int64",
        "big": "UInt64", "huge": "object", "price": "float64", "genre": str(_STRINGS)}
    assert frame["ref"].tolist() == [2**62 + 1, pd.NA, 7] and frame["big"].tolist()[0] == 2**64 - 1
    assert frame["huge"].tolist() == [2**64, -1, None]
    present = [VectorRecord("a", np.zeros(4, np.float32), {name: values[0] for name, values in metadata.items()})]
    subset = results.records_frame(present, ATTRS, values=False)
    assert subset.dtypes.to_dict() == frame.loc[:, subset.columns].dtypes.to_dict()
    match = results.matches_frame([[Match("a", 0.5, metadata=present[0].metadata)]], ATTRS)
    assert match.dtypes[list(metadata)].to_dict() == frame.dtypes[list(metadata)].to_dict()
