"""df.vectorize and the conversions behind it: DataFrames in, DataFrames out, bad rows named."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import F, errors
from vectorize_nb.client import Client
from vectorize_nb.contract import validation
from vectorize_nb.contract.models import VectorCells
from vectorize_nb.frame_batch import to_vectors

from .helpers import TINY
from .test_writes import Flaky


@pytest.fixture
def index():
    with vz.connect("memory", limits=TINY) as client:
        idx = client.create_index("films", 3)
        idx.create_metadata_index("genre", "string")
        yield idx


@pytest.fixture
def films():
    return pd.DataFrame({
        "film_id": ["a", "b", "c", "d"],
        "embedding": [np.array([1, 0, 0], np.float32), np.array([0, 1, 0], np.float32),
                      np.array([0, 0, 1], np.float32), np.array([1, 1, 0], np.float32)],
        "genre": ["drama", "comedy", None, "drama"],
        "year": [1999, 2001, 2020, 1950],
        "rating": [7.5, np.nan, 6.0, 8.25],
        "released": pd.to_datetime(["1999-01-01 00:00", "2001-05-02 10:30", None, "1950-07-14 00:00"]),
        "cast": [["x", "y"], [], ["z"], ["x"]],
        "extra": [{"studio": "s1", "budget": np.int64(5)}, None, {"studio": None}, {}],
    }, index=[10, 11, 12, 13])


def test_upsert_converts_metadata_the_way_vectorize_stores_json(index, films):
    before = films.copy(deep=True)
    result = films.vectorize.upsert(index, id="film_id", vector="embedding", metadata="all", wait=True)
    assert result.ok and result.rows == 4
    pd.testing.assert_frame_equal(films, before)  # the caller's frame is untouched
    stored = {v.id: v.metadata for v in index.backend.get_by_ids("films", ["a", "b", "c", "d"])}
    assert stored["a"] == {"genre": "drama", "year": 1999, "rating": 7.5,
                                       "released": "1999-01-01T00:00:00", "cast": ["x", "y"],
                                       "extra": {"studio": "s1", "budget": 5}}
    assert stored["b"] == {"genre": "comedy", "year": 2001, "released": "2001-05-02T10:30:00",
                                       "cast": []}  # NaN and None are left out
    assert stored["c"] == {"year": 2020, "rating": 6.0, "cast": ["z"], "extra": {"studio": None}}


def test_nulls_inside_a_list_or_dict_cell_keep_their_places(index):
    """[0.9, None, 0.7] was stored as [0.9, 0.7], each later score moved up a place, where index.upsert of the
    same record keeps the null."""
    frame = pd.DataFrame({"id": ["a", "b"], "v": [[1, 0, 0], [0, 1, 0]],
                          "scores": [[0.9, None, 0.7], np.array([1.0, np.nan, 3.0])],
                          "extra": [{"x": None, "y": 1}, {"x": pd.NA, "tags": [None, "t"]}]})
    frame.vectorize.upsert(index, id="id", vector="v", metadata=["scores", "extra"])
    stored = {v.id: v.metadata for v in index.backend.get_by_ids("films", ["a", "b"])}
    assert stored == {"a": {"scores": [0.9, None, 0.7], "extra": {"x": None, "y": 1}},
                      "b": {"scores": [1.0, None, 3.0], "extra": {"x": None, "tags": [None, "t"]}}}


def test_metadata_true_is_every_other_column_and_false_none(index, films):
    """metadata=True raised TypeError: 'bool' object is not iterable, from inside the frame reader."""
    films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=True, wait=True)
    assert index.get_by_ids(["a"]).columns.tolist() == ["id", "namespace", "values", "genre", "year", "rating",
                                                        "released", "cast", "extra.studio", "extra.budget"]
    with pytest.warns(vz.errors.VectorizeWarning, match="the frame's column 'genre' was not written as metadata"):
        films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=False, wait=True)
    assert index.get_by_ids(["a"]).columns.tolist() == ["id", "namespace", "values"]


def test_metadata_that_names_no_column_is_refused_in_its_terms(index, films):
    with pytest.raises(errors.MalformedRequest, match=r'metadata must be a list of columns, a column or "all"; got 5'):
        films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=5)
    numbered = films.rename(columns={"genre": 5})
    numbered.vectorize.upsert(index, id="film_id", vector="embedding", metadata=5, wait=True)  # a column's label
    assert index.get_by_ids(["a"])["5"].tolist() == ["drama"]


def test_several_numeric_columns_and_a_literal_namespace(index):
    frame = pd.DataFrame({"id": [1, 2], "x": [1.0, 0.0], "y": [0.0, 1.0], "z": [0.0, 0.0]})
    frame.vectorize.upsert(index, id="id", vectors=["x", "y", "z"], namespace="tenant-1")
    stored = index.get_by_ids(["1", "2"])
    assert stored["id"].tolist() == ["1", "2"]  # integer ids become strings
    assert stored["namespace"].tolist() == ["tenant-1", "tenant-1"]
    assert [v.tolist() for v in stored["values"]] == [[1, 0, 0], [0, 1, 0]]


def test_namespace_from_a_column_and_lists_of_floats(index):
    frame = pd.DataFrame({"id": ["p", "q"], "vec": [[0.5, 0.25, 0.0], [1.0, 2.0, 3.0]], "ns": ["eu", None]})
    frame.vectorize.insert(index, id="id", vector="vec", namespace="ns")
    stored = index.get_by_ids(["p", "q"])
    assert stored["namespace"].tolist()[0] == "eu" and pd.isna(stored["namespace"].tolist()[1])
    assert stored["values"].iloc[1].tolist() == [1.0, 2.0, 3.0]


def test_query_returns_one_long_frame_keyed_by_the_callers_rows(index, films):
    films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre", "year"])
    hits = films.vectorize.query(index, vector="embedding", top_k=2, return_metadata="all")
    assert list(hits.columns[:5]) == ["query", "rank", "id", "score", "namespace"]
    assert hits["query"].tolist() == [10, 10, 11, 11, 12, 12, 13, 13]
    assert hits.loc[hits["query"] == 13, "id"].tolist()[0] == "d"
    named = films.set_index("film_id").vectorize.query(index, vector="embedding", top_k=1)
    assert list(named.columns[:2]) == ["query", "rank"] and named["query"].tolist() == named["id"].tolist()
    assert named.attrs["query_key"] == "film_id"
    by_key = films.vectorize.query(index, vector="embedding", top_k=1, key="year", filter=F("genre") == "drama")
    assert by_key["query"].tolist() == [1999, 2001, 2020, 1950] and set(by_key["id"]) == {"a", "d"}


def test_query_vectors_of_another_width_are_a_query_dimension_mismatch_as_in_query_many(index, films):
    short = films.assign(embedding=[np.ones(2, np.float32)] * 4)
    with pytest.raises(errors.QueryDimensionMismatch) as raised:
        short.vectorize.query(index, vector="embedding")
    assert raised.value.code == 40006 and "expected 3 dimensions, and got 2" in str(raised.value)
    assert "row 10" in str(raised.value) and "during query on index 'films'" in str(raised.value)
    with pytest.raises(errors.QueryDimensionMismatch):
        films.assign(x=1.0, y=2.0).vectorize.query(index, vectors=["x", "y"])


def test_a_query_vector_of_nan_is_an_invalid_query_as_in_query_many(index, films):
    """df.vectorize.query raised the write's InvalidVector (40103, its hint about ids) where Index.query and
    query_many raise InvalidQuery (40112), as its Raises section says; 'except InvalidQuery' missed it."""
    holed = films.assign(embedding=[np.array([1.0, np.nan, 0.0], np.float32)] * 4)
    for ask in (lambda: holed.vectorize.query(index, vector="embedding"),
                lambda: films.assign(x=1.0, y=np.nan, z=0.0).vectorize.query(index, vectors=["x", "y", "z"])):
        with pytest.raises(errors.InvalidQuery) as raised:
            ask()
        assert raised.value.code == 40112 and "row 10" in str(raised.value) and "NaN" in str(raised.value)
        assert "during query on index 'films'" in str(raised.value) and "Ids are" not in str(raised.value)


def test_a_query_cell_that_is_not_numbers_is_a_python_argument_as_in_query_many(index, films):
    """It was InvalidQuery 40112 with the hint "Give exactly one of vector or vectorId, and a whole-number topK",
    where query_many says MalformedRequest 40026 for the same cell."""
    worded = films.assign(embedding=[[1.0, 0.0, 0.0]] * 3 + [["a", 0.0, 0.0]])
    texts = films.assign(x=1.0, y=[1, 2, 3, "four"], z=0.0)
    for ask in (lambda: worded.vectorize.query(index, vector="embedding"),
                lambda: texts.vectorize.query(index, vectors=["x", "y", "z"])):
        with pytest.raises(errors.MalformedRequest) as raised:
            ask()
        assert raised.value.code == 40026 and "row 13" in str(raised.value) and "not a number" in str(raised.value)
        assert str(raised.value).endswith("(during query on index 'films')")


def test_a_key_column_named_id_gives_unique_columns_and_merges_back(index, films):
    """The natural call on a frame whose id column is called "id" (as the bundled datasets are)."""
    frame = films.rename(columns={"film_id": "id"})
    frame.vectorize.upsert(index, id="id", vector="embedding", metadata=["genre"])
    hits = frame.vectorize.query(index, vector="embedding", key="id", top_k=2, return_metadata="all")
    assert hits.columns.is_unique and list(hits.columns[:3]) == ["query", "rank", "id"]
    merged = hits.merge(frame[["id", "year"]], left_on="query", right_on="id", suffixes=("", "_query"))
    assert merged.columns.is_unique and merged.loc[merged["rank"] == 1, "id"].tolist() == ["a", "b", "c", "d"]
    by_label = frame.vectorize.query(index, vector="embedding", top_k=1).join(frame[["year"]], on="query")
    assert by_label["year"].tolist() == [1999, 2001, 2020, 1950]


def test_fetch_aligns_to_the_callers_ids_and_delete_removes(index, films):
    films.iloc[:2].vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre"])
    fetched = films.vectorize.fetch(index, id="film_id")
    assert fetched.index.tolist() == [10, 11, 12, 13]
    assert fetched["id"].tolist() == ["a", "b", "c", "d"]
    assert fetched["values"].iloc[0].tolist() == [1, 0, 0] and fetched["values"].iloc[2:].isna().all()
    # an unknown id's namespace was NaN beside the stored rows' None
    assert fetched["namespace"].dtype == object and fetched["namespace"].tolist() == [None] * 4
    films.iloc[:1].vectorize.delete(index, id="film_id")
    assert index.info().vector_count == 1


def test_a_namespace_column_searches_each_row_in_its_own_namespace(index):
    """namespace="kind" names the column on upsert but was one literal namespace on query: each row searched
    the namespace "kind", which held nothing. Now each row searches its row's namespace, as upsert reads it."""
    stored = pd.DataFrame({"id": ["a1", "a2", "b1", "n1"], "kind": ["a", "a", "b", None],
                           "vec": [[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [1.0, 0.05, 0.0], [1.0, 0.0, 0.01]]})
    stored.vectorize.upsert(index, id="id", vector="vec", namespace="kind", wait=True)
    asking = pd.DataFrame({"vec": [[1.0, 0.0, 0.0]] * 3, "kind": ["b", "a", None]}, index=["x", "y", "z"])
    hits = asking.vectorize.query(index, vector="vec", namespace="kind", top_k=2)
    assert hits["query"].tolist() == ["x", "y", "y", "z", "z"]  # the frame's order, each answer ranked
    assert hits["id"].tolist() == ["b1", "a1", "a2", "a1", "n1"] and hits["rank"].tolist() == [1, 1, 2, 1, 2]
    assert hits["namespace"].tolist()[:3] == ["b", "a", "a"]  # a missing namespace: every namespace
    assert hits.attrs["namespace"] == "column 'kind'"
    none = asking.iloc[:0].vectorize.query(index, vector="vec", namespace="kind", top_k=2)
    assert none.empty and none.columns.tolist() == hits.columns.tolist()


def test_to_frame_exports_the_whole_index(index, films):
    films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre"])
    exported = index.to_frame()
    assert exported["id"].tolist() == ["a", "b", "c", "d"]
    assert exported["genre"].tolist()[:2] == ["drama", "comedy"]
    assert index.to_frame(values=False, metadata=False).columns.tolist() == ["id", "namespace"]


def test_an_export_of_nested_metadata_is_written_back_nested(index):
    """to_frame flattens {"author": {"name": ...}} into a column "author.name", which upsert refused: "key
    'author.name' contains '.' (dots are reserved for nesting)", so an export could not be copied."""
    index.create_metadata_index("author.name", "string")
    index.upsert([{"id": "a", "values": [1, 0, 0], "metadata": {"author": {"name": "x", "born": 1900}, "tags": ["t"]}},
                  {"id": "b", "values": [0, 1, 0], "metadata": {"author": {"born": 1950}, "title": "b"}},
                  {"id": "c", "values": [0, 0, 1]}])
    exported = index.to_frame()
    assert exported.columns.tolist() == ["id", "namespace", "values", "author.name", "author.born", "tags", "title"]
    with vz.connect("memory", limits=TINY) as client:
        copy = client.create_index("copy", 3)
        copy.create_metadata_index("author.name", "string")
        exported.vectorize.upsert(copy, id="id", vector="values", metadata="all")
        stored = {v.id: v.metadata for v in copy.backend.get_by_ids("copy", ["a", "b", "c"])}
        assert stored == {"a": {"author": {"name": "x", "born": 1900}, "tags": ["t"]},
                          "b": {"author": {"born": 1950}, "title": "b"}, "c": None}
        assert copy.query([1, 0, 0], top_k=3, filter={"author.name": "x"})["id"].tolist() == ["a"]
    clash = pd.DataFrame({"id": ["a"], "v": [[1, 0, 0]], "author": ["x"], "author.name": ["y"]})
    with pytest.raises(errors.InvalidMetadata, match=r"the metadata columns 'author' and 'author\.name' would both "
                                                     r"set the key 'author' in row 0 \(id='a'\); leave one empty"):
        clash.vectorize.upsert(index, id="id", vector="v", metadata="all")


def test_an_export_of_a_property_that_is_text_in_some_vectors_and_an_object_in_others_is_written_back(index):
    """to_frame exports such a property as two columns, "author" and "author.name", each empty where the other
    is set; writing it back was refused: "would both set the key 'author'; rename one of them"."""
    index.upsert([{"id": "a", "values": [1, 0, 0], "metadata": {"author": {"name": "x"}}},
                  {"id": "b", "values": [0, 1, 0], "metadata": {"author": "plain"}}])
    exported = index.to_frame()
    assert exported.columns.tolist() == ["id", "namespace", "values", "author.name", "author"]
    with vz.connect("memory", limits=TINY) as client:
        copy = client.create_index("copy", 3)
        exported.vectorize.upsert(copy, id="id", vector="values", metadata="all")
        stored = {v.id: v.metadata for v in copy.backend.get_by_ids("copy", ["a", "b"])}
    assert stored == {"a": {"author": {"name": "x"}}, "b": {"author": "plain"}}


BAD_FRAMES = [
    (lambda f: f.drop(columns="genre"), {"metadata": ["genre"]}, KeyError,
     r"metadata column 'genre' not in the frame; its columns are: 'film_id', 'embedding'"),
    (lambda f: f.assign(film_id=["a", "b", "a", "b"]), {}, errors.InvalidVector,
     r"duplicate ids in the frame: 'a' in rows 10, 12; 'b' in rows 11, 13"),
    (lambda f: pd.concat([f, f.head(1)]), {}, errors.InvalidVector,  # labels 10, 11, 12, 13, 10: "rows 10, 10"
     r"duplicate ids in the frame: 'a' in rows at positions 0, 4 \(labels 10, 10\)"),
    (lambda f: f.set_index([[1, 1, 2, 2], ["x", "y", "x", "y"]]).assign(film_id=list("aacd")), {},
     errors.InvalidVector, r"'a' in rows \(1, 'x'\), \(1, 'y'\)"),  # not \(np.int64\(1\), 'x'\)
    (lambda f: pd.concat([f, f.assign(film_id=["e", None, "g", "h"])]), {}, errors.InvalidVector,
     r"the id is missing in row at position 5 \(label 11\)"),
    (lambda f: f.assign(film_id=["a", None, "c", "d"]), {}, errors.InvalidVector, "the id is missing in row 11"),
    (lambda f: f.assign(film_id=["a", 2.5, "c", "d"]), {}, errors.InvalidVector,
     r"the id in row 11 is a float \(2.5\), not a string or an integer"),
    (lambda f: f.assign(film_id=["a", "é" * 40, "c", "d"]), {}, errors.IdTooLong, "max is 64 bytes, got 80 bytes"),
    (lambda f: f.assign(film_id=["a", "b", "", "d"]), {}, errors.InvalidVector, "the id in row 12 is empty"),
    (lambda f: f.assign(film_id=[1, None, 3, 4]), {}, errors.InvalidVector, "the id is missing in row 11"),
    (lambda f: pd.concat([f, f[["film_id"]]], axis=1), {}, ValueError,
     "id column 'film_id' appears more than once in the frame"),
    (lambda f: pd.concat([f, f[["genre"]]], axis=1), {"metadata": ["genre"]}, ValueError,
     "metadata column 'genre' appears more than once"),
    (lambda f: f.assign(**{"5": 1}).rename(columns={"year": 5}), {"metadata": [5, "5"]}, errors.InvalidMetadata,
     "the metadata columns 5 and '5' would both be the key '5'"),
    (lambda f: f.assign(year=[1, 2**70, 3, 4]), {"metadata": ["year"]}, errors.InvalidMetadata,
     'id="b": Integer exceeds 64-bit range'),
    (lambda f: f.assign(x=[1, 0, 0, 1], y=[0, 1, "one", 1], z=0.5), {"vector": None, "vectors": ["x", "y", "z"]},
     errors.InvalidVector, r"vector column 'y' holds 'one' in row 12 \(id='c'\), which is not a number"),
    (lambda f: f, {"vector": None, "vectors": ["embedding"]}, errors.InvalidVector,
     r"vector column 'embedding' holds an array of 3 values in row 10 \(id='a'\), which is not a number; a "
     r"column of lists or arrays goes in vector='embedding'"),
    (lambda f: f, {"vector": None, "vectors": "embedding"}, ValueError,
     r"vectors= takes a list of columns .* got 'embedding'; one column of lists or arrays goes in "
     r"vector='embedding'"),
    (lambda f: f, {"vector": ["embedding"]}, ValueError,
     r"vector= names one column of lists or arrays, got the list \['embedding'\]"),
    (lambda f: f.assign(embedding=[np.ones(3), np.ones(2), np.ones(3), np.ones(3)]), {},
     errors.VectorDimensionMismatch, r"row 11 \(id='b'\), expected 3 dimensions, and got 2"),
    (lambda f: f.assign(embedding=[np.ones(4)] * 4), {}, errors.VectorDimensionMismatch,
     "expected 3 dimensions, and got 4"),
    (lambda f: f.assign(embedding=[np.ones(3), np.ones(3), np.array([1, np.nan, 0]), np.ones(3)]), {},
     errors.InvalidVector, r"row 12 \(id='c'\) holds NaN, an infinity"),
    (lambda f: f.assign(embedding=[np.ones(3), None, np.ones(3), np.ones(3)]), {}, errors.InvalidVector,
     r"the vector in row 11 \(id='b'\) of column 'embedding' is None"),
    (lambda f: f.assign(embedding=[str(np.ones(3) / 3)] * 4), {}, errors.InvalidVector,  # read back from a csv
     r"row 10 \(id='a'\) of column 'embedding' is '\[0.33333333 0.33333333 0.33333333\]', not a list or array of "
     r"numbers; vectors saved as text \(to_csv\) do not read back as numbers: save a frame of vectors with "
     "to_parquet"),
    (lambda f: f.assign(embedding=[[1, 0, 0], [1, "x", 0], [1, 0, 0], [1, 0, 0]]), {}, errors.InvalidVector,
     r"row 11 \(id='b'\) holds something that is not a number"),
    (lambda f: f.assign(embedding=[[1, 0, 0], [1, 0, 0], [1, None, 0], [1, 0, 0]]), {}, errors.InvalidVector,
     r"row 12 \(id='c'\) holds something that is not a number"),
    (lambda f: f.assign(embedding=[[1, 0, 0], [1, 0, 0], [1, 0, 0], [1e39, 0, 0]]), {}, errors.InvalidVector,
     r"row 13 \(id='d'\) holds NaN, an infinity or a number beyond float32's range"),
    (lambda f: f.assign(embedding=[[1, 0, 0], [1, float("nan"), 0], [1, 0, 0], [1, 0, 0]]), {}, errors.InvalidVector,
     r"row 11 \(id='b'\) holds NaN, an infinity"),
    (lambda f: f.assign(genre=["drama", b"bytes", "x", "y"]), {"metadata": ["genre"]}, errors.InvalidMetadata,
     "metadata column 'genre' holds a bytes in row 11"),
    (lambda f: f.assign(genre=pd.Series([np.timedelta64(5, "s")] * 4, dtype=object, index=f.index)),
     {"metadata": ["genre"]}, errors.InvalidMetadata, "metadata column 'genre' holds a timedelta64 in row 10"),
    (lambda f: f.assign(genre=[pd.Interval(0, 1)] * 4), {"metadata": ["genre"]}, errors.InvalidMetadata,
     "metadata column 'genre' holds an Interval in row 10"),
    (lambda f: f.assign(rating=[1.0, np.inf, 2.0, 3.0]), {"metadata": ["rating"]}, errors.InvalidMetadata,
     "metadata column 'rating' holds an infinity in row 11"),
    (lambda f: f.assign(genre=["x" * 11000, "a", "b", "c"]), {"metadata": ["genre"]}, errors.MetadataTooLarge,
     'id="a"; max is 10240 bytes'),
    (lambda f: f.assign(genre=["ok", "fine", "bad", "ok"]).rename(columns={"genre": "g..enre"}),
     {"metadata": ["g..enre"]}, errors.InvalidMetadata, 'key "g..enre" contains "."'),  # "g.enre" is a path
]


def test_an_export_of_keys_named_like_its_columns_is_written_back_as_those_keys(index):
    """to_frame named a property "id" "metadata.id", and upsert stored that column as {"metadata": {"id": ...}}:
    a filter on "id" matched the source's vector and not the copy's."""
    index.upsert([{"id": "a", "values": [1, 0, 0], "namespace": "n",
                   "metadata": {"id": "sku-1", "namespace": "shop", "values": [1], "metadata": {"id": "deep"}}}])
    exported = index.to_frame()
    assert exported.columns.tolist() == ["id", "namespace", "values", 'metadata["id"]', 'metadata["namespace"]',
                                         'metadata["values"]', "metadata.id"]
    with vz.connect("memory", limits=TINY) as client:
        copy = client.create_index("copy", 3)
        exported.vectorize.upsert(copy, id="id", vector="values", namespace="namespace", metadata="all")
        [stored] = copy.backend.get_by_ids("copy", ["a"])
        assert stored.metadata == {"id": "sku-1", "namespace": "shop", "values": [1], "metadata": {"id": "deep"}}
        assert stored.namespace == "n"


def test_an_export_written_back_with_all_metadata_keeps_its_namespaces(index):
    """metadata="all" without namespace= stored the export's `namespace` column as a metadata property (a query
    in namespace "n1" then found nothing), and refused a vector whose metadata also held a key "namespace"."""
    index.upsert([{"id": "a", "values": [1, 0, 0], "namespace": "n1", "metadata": {"genre": "x"}},
                  {"id": "b", "values": [0, 1, 0], "metadata": {"genre": "y", "namespace": "shop"}}], wait=True)
    exported = index.to_frame()
    with vz.connect("memory", limits=TINY) as client:
        copy = client.create_index("copy", 3)
        exported.vectorize.upsert(copy, id="id", vector="values", metadata="all", wait=True)
        stored = {v.id: (v.namespace, v.metadata) for v in copy.backend.get_by_ids("copy", ["a", "b"])}
        assert stored == {"a": ("n1", {"genre": "x"}), "b": (None, {"genre": "y", "namespace": "shop"})}
        assert copy.query([1, 0, 0], namespace="n1")["id"].tolist() == ["a"]
        pd.testing.assert_frame_equal(copy.to_frame(), exported)


def test_a_column_named_namespace_listed_in_metadata_stays_metadata(index, films):
    """Only metadata="all" takes a column "namespace" for the namespaces (as `to_frame` names them); a column
    named in metadata=[...] is written as metadata, and an indexed one left out of "all" is said."""
    frame = films.assign(namespace=["p", "q", "p", None])
    frame.vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre", "namespace"], wait=True)
    stored = index.get_by_ids(["a", "d"], values=False)
    assert stored["namespace"].tolist() == [None, None] and stored['metadata["namespace"]'].tolist()[0] == "p"
    index.create_metadata_index("namespace", "string")
    with pytest.warns(errors.VectorizeWarning, match=r"'namespace' was not written as metadata.*=\['namespace'"):
        frame.vectorize.upsert(index, id="film_id", vector="embedding", metadata="all", wait=True)
    assert index.get_by_ids(["a"], values=False)["namespace"].tolist() == ["p"]
    with pytest.raises(errors.InvalidVector, match=r'holds an int \(1\) in row 10; namespaces are strings '
                       r'\(metadata="all" reads a column "namespace".*metadata=\[\.\.\., "namespace"\]'):
        frame.assign(namespace=[1, 2, 3, 4]).vectorize.upsert(index, id="film_id", vector="embedding", metadata="all")


def test_a_metadata_column_named_twice_is_one_key(index, films):
    twice = ["genre", "".join(["gen", "re"])]  # equal labels, two objects
    assert films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=twice).ok
    assert index.get_by_ids(["a"], values=False)["genre"].tolist() == ["drama"]


@pytest.mark.parametrize("change, options, error, message", BAD_FRAMES)
def test_bad_input_is_a_clear_error_and_writes_nothing(index, films, change, options, error, message):
    with pytest.raises(error, match=message):
        change(films).vectorize.upsert(index, id="film_id", **{"vector": "embedding", **options})
    assert index.info().vector_count == 0


def test_a_column_of_arrays_is_checked_and_written_a_slice_at_a_time(index, monkeypatch):
    """The frame's arrays are never all copied into one matrix: the batch keeps one array per row."""
    monkeypatch.setattr(validation, "CELL_ROWS", 2)
    data = np.random.default_rng(5).standard_normal((7, 3))  # float64 cells, stored as float32
    frame = pd.DataFrame({"doc": [f"d{i}" for i in range(7)], "vec": list(data)})
    batch = to_vectors(frame, id="doc", vector="vec", dimensions=3, limits=TINY)
    assert isinstance(batch.values, VectorCells) and batch.values.cells[6] is frame["vec"].iloc[6]
    assert np.array_equal(batch.slice(2, 5).values, data[2:5].astype(np.float32))
    frame.vectorize.upsert(index, id="doc", vector="vec", batch_size=3, wait=True)
    stored = index.get_by_ids(frame["doc"].tolist())
    assert np.array_equal(np.stack(stored["values"]), data.astype(np.float32))


@pytest.mark.parametrize("cell, error, message", [
    (np.array([1.0, np.inf, 0.0]), errors.InvalidVector, r"row 15 \(id='d5'\) holds NaN, an infinity"),
    (np.array([1e39, 0.0, 0.0]), errors.InvalidVector, r"row 15 \(id='d5'\) holds NaN, an infinity or a number beyond"),
    (np.ones(4), errors.VectorDimensionMismatch, r"row 15 \(id='d5'\), expected 3 dimensions, and got 4"),
    (np.ones((1, 3)), errors.InvalidVector, r"row 15 \(id='d5'\) is not a flat array of numbers"),
    (np.array(1.0), errors.InvalidVector, r"row 15 \(id='d5'\) is not a flat array of numbers"),
    (np.array(["1", "x", "0"], dtype=object), errors.InvalidVector, r"row 15 \(id='d5'\) is not a flat array"),
])
def test_a_bad_array_in_a_later_slice_is_named_and_nothing_is_written(index, monkeypatch, cell, error, message):
    monkeypatch.setattr(validation, "CELL_ROWS", 2)
    cells = [np.ones(3) for _ in range(7)]
    cells[5] = cell
    frame = pd.DataFrame({"doc": [f"d{i}" for i in range(7)], "vec": cells}, index=range(10, 17))
    with pytest.raises(error, match=message):
        frame.vectorize.upsert(index, id="doc", vector="vec")
    assert index.info().vector_count == 0


def test_a_half_way_failure_reports_the_rows_written_and_retries_the_rest():
    backend = Flaky(fail_calls={7})
    with Client(backend, "flaky") as client:
        index = client.create_index("half", 3)
        frame = pd.DataFrame({"doc": [f"d{i:03d}" for i in range(200)],
                              "vec": list(np.random.default_rng(3).standard_normal((200, 3)).astype(np.float32))})
        result = frame.vectorize.upsert(index, id="doc", vector="vec", batch_size=10, on_error="report",
                                        progress=False)
        assert (result.written, len(result.batches), [b.number for b in result.failures]) == (60, 20, [7])
        assert result.unwritten_ids == frame["doc"].tolist()[60:]
        assert index.info().vector_count == 60
        assert result.retry().ok and index.info().vector_count == 200


def test_a_retry_checks_again_the_arrays_it_reads_from_the_frame():
    backend = Flaky(fail_calls={2})
    with Client(backend, "flaky") as client:
        index = client.create_index("again", 3)
        frame = pd.DataFrame({"doc": [f"d{i}" for i in range(30)], "vec": [np.ones(3) for _ in range(30)]})
        result = frame.vectorize.upsert(index, id="doc", vector="vec", batch_size=10, on_error="report",
                                        progress=False)
        assert result.written == 10
        frame["vec"].iloc[25][1] = np.nan  # the user's array changes before the retry
        with pytest.raises(errors.InvalidVector, match='id="d25": values must be finite numbers'):
            result.retry()
        assert index.info().vector_count == 10


def test_explain_filter_on_the_local_engine(index, films):
    films.iloc[:1].vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre", "year"])
    index.create_metadata_index("year", "number")
    films.iloc[1:].vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre", "year"])
    explained = index.explain_filter((F("genre") == "drama") & F("year").between(1900, 2000) & (F("cast") == "x"))
    assert explained["property"].tolist() == ["genre", "year", "year", "cast"]
    assert explained["metadata_index"].tolist()[:3] == ["string", "number", "number"]
    assert pd.isna(explained["metadata_index"].tolist()[3])
    assert explained["vectors_predating_index"].tolist()[:3] == [0, 1, 1]  # "a" was written before "year"'s index
    assert explained["matching_vectors"].tolist() == [2, 3, 1, 0]  # years of b, c, d: 2001, 2020, 1950
    assert "cannot match until written again" in explained.loc[1, "note"]
    assert explained.attrs["matching_vectors"] == 0 and explained.attrs["vectors"] == 4
    long = index.explain_filter({"genre": "x" * 70, "year": "1999"})
    assert long["compared_on_prefix"].tolist() == [True, False]
    assert long["value_type_fits"].tolist() == [True, False]
    for empty in (None, {}):  # a frame with no columns at all
        nothing = index.explain_filter(empty)
        assert nothing.columns.tolist() == explained.columns.tolist() and nothing.empty
        assert nothing.attrs["matching_vectors"] == nothing.attrs["vectors"] == 4


def test_explain_filter_counts_vectors_holding_another_type(index):
    """Years written as strings under a number index: explain_filter said "ok" while the clause matched none."""
    index.create_metadata_index("year", "number")
    frame = pd.DataFrame({"id": list("abc"), "vector": [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]],
                          "year": ["1999", "1999", 1999]})
    with pytest.warns(errors.VectorizeWarning):  # the write says so too
        frame.vectorize.upsert(index, id="id", vector="vector", metadata=["year"], wait=True)
    explained = index.explain_filter(F("year") == 1999)
    assert explained["vectors_lacking_value"].tolist() == [2]
    assert explained.loc[0, "note"] == ('2 vectors hold no number value for "year" (it is missing or of another '
                                        "type), so this clause cannot match them")
    assert explained["matching_vectors"].tolist() == [1]
    other = index.explain_filter(F("year") != 1999)
    assert other["matching_vectors"].tolist() == [2] and other.loc[0, "note"] == "ok"  # $ne matches them


def test_filters_built_with_F_are_checked_against_the_index(index, films):
    films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre", "year"])
    with pytest.raises(errors.InvalidFilter, match='no metadata index for "year"'):
        index.query([1, 0, 0], filter=F("year") > 1990)
    with pytest.raises(errors.InvalidFilter, match="holds string values"):
        index.query([1, 0, 0], filter=F("genre") == 5)
    with pytest.warns(errors.VectorizeWarning, match='no metadata index for "year", so this clause matches nothing'):
        assert index.query([1, 0, 0], filter={"year": {"$gt": 1990}}).empty  # a dict goes as it is: no match


def test_fetch_and_delete_take_the_ids_the_index_takes():
    """An index whose limits allow 128-byte ids: ids its upsert stored are fetched and deleted by frame too
    (fetch and delete checked them against 64 bytes, written in frames.py apart from the limits)."""
    long_id = "x" * 100
    with vz.connect("memory", limits=TINY.with_changes(max_id_bytes=128)) as client:
        idx = client.create_index("docs", 2)
        frame = pd.DataFrame({"id": [long_id, "b"], "vector": [[1.0, 0.0], [0.0, 1.0]]})
        frame.vectorize.upsert(idx, id="id", vector="vector", wait=True)
        assert frame.vectorize.fetch(idx, id="id")["id"].tolist() == [long_id, "b"]
        frame.iloc[:1].vectorize.delete(idx, id="id", wait=True)
        assert idx.get_by_ids([long_id, "b"])["id"].tolist() == ["b"]
        with pytest.raises(errors.IdTooLong, match="max is 128 bytes, got 129 bytes"):
            pd.DataFrame({"id": ["y" * 129]}).vectorize.delete(idx, id="id")


def test_values_given_where_a_column_name_goes_say_to_name_a_column(index, films):
    """`id=df.index` or `vector=df["embedding"]` used to end in pandas' `TypeError: unhashable type`."""
    with pytest.raises(TypeError, match=r"id= takes the name of a column, got a Index.*df\.reset_index\(\)"):
        films.vectorize.upsert(index, id=films.index, vector="embedding")
    with pytest.raises(TypeError, match=r"vector= takes the name of a column, got a Series"):
        films.vectorize.upsert(index, id="film_id", vector=films["embedding"])
    with pytest.raises(TypeError, match=r"vector= takes the name of a column, got a Series"):
        films.vectorize.query(index, vector=films["embedding"])
    with pytest.raises(KeyError, match=r"id column 'index' not in the frame; .*the frame's index is not a column"):
        films.vectorize.upsert(index, id="index", vector="embedding")
    assert index.info().vector_count == 0


@pytest.mark.parametrize("call", ["upsert", "insert", "query", "delete"])
def test_a_frame_given_an_index_name_instead_of_an_index_is_told_how_to_get_one(films, call):
    """df.vectorize.upsert("films", ...) raised AttributeError: 'str' object has no attribute 'name'."""
    columns = {"id": "film_id"} if call == "delete" else {"vector": "embedding"}
    if call in ("upsert", "insert"):
        columns["id"] = "film_id"
    with pytest.raises(TypeError) as raised:
        getattr(films.vectorize, call)("films", **columns)
    assert str(raised.value) == "df.vectorize takes an Index (client.get_index('films')), got 'films'"


def test_embed_given_a_name_instead_of_a_client_says_what_it_takes(films):
    with pytest.raises(TypeError, match=r"^df.vectorize.embed takes a Client or an Index, got 'films'$"):
        films.vectorize.embed("films", text="film_id", model="wordllama/l2-supercat-256")


@pytest.mark.parametrize("url, shown", [("https://user:s3cret@vectorize.example.com", "https://***@vectorize.example.com"),
                                       ("http://127.0.0.1:8787/client/v4?token=s3cret", "http://127.0.0.1:8787/client/v4?***")])
def test_a_url_given_instead_of_a_client_or_an_index_is_quoted_without_its_secrets(films, url, shown):
    """The messages quoted the URL whole, password and query included."""
    with pytest.raises(TypeError) as upsert:
        films.vectorize.upsert(url, id="film_id", vector="embedding")
    assert str(upsert.value) == f"df.vectorize takes an Index (client.get_index({shown!r})), got {shown!r}"
    with pytest.raises(TypeError) as embed:
        films.vectorize.embed(url, text="film_id", model="wordllama/l2-supercat-256")
    assert str(embed.value) == f"df.vectorize.embed takes a Client or an Index, got {shown!r}"


@pytest.mark.parametrize("given, says", [
    ({"namespaces": 5}, "namespaces must be a string, or a list of one string (or None) per id; got 5"),
    ({"metadata": 5}, "metadata must be a list of one dict (or None) per id; got 5"),
    ({"metadata": {"genre": "drama"}}, "metadata must be a list of one dict (or None) per id; got {'genre': 'drama'}"),
    ({"metadata": [{}, {}]}, "metadata must have one entry per id (1), got 2"),
])
def test_an_index_write_given_namespaces_or_metadata_of_another_shape_says_so(index, given, says):
    """namespaces=5 raised TypeError: object of type 'int' has no len(); a dict of metadata for one id
    was read as a list of its keys."""
    with pytest.raises(errors.InvalidRequest) as raised:
        index.upsert(["a"], [[1.0, 0.0, 0.0]], **given)
    assert raised.value.message == says
    assert index.info().vector_count == 0


def test_a_namespace_that_is_a_misspelt_column_is_written_but_said(index, films):
    """namespace="genr" wrote every row into the namespace "genr", without a word."""
    with pytest.warns(vz.errors.VectorizeWarning) as heard:
        films.vectorize.upsert(index, id="film_id", vector="embedding", namespace="genr", metadata=["genre"],
                               wait=True)
    assert [str(w.message) for w in heard] == [
        "namespace='genr' is not a column of the frame, so every row goes to the namespace 'genr'; for the "
        "column 'genre', pass namespace='genre'"]
    assert set(index.get_by_ids(["a", "b"])["namespace"]) == {"genr"}


def test_a_namespace_far_from_every_column_is_one_namespace_for_every_row_without_a_word(index, films, recwarn):
    films.vectorize.upsert(index, id="film_id", vector="embedding", namespace="catalogue-2024", wait=True)
    assert not [w for w in recwarn if "namespace" in str(w.message)]


def test_a_not_a_time_in_an_object_list_or_dict_cell_is_missing_not_the_text_nat(index):
    """numpy's NaT in an object column, a list or a dict was stored as the text 'NaT' (a value a filter finds),
    where a datetime64 column's NaT leaves the key out."""
    nat, day = np.datetime64("NaT"), np.datetime64("2024-01-01T10:00:00")
    frame = pd.DataFrame({"id": ["a", "b", "c"], "v": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                          "seen": pd.Series([nat, np.timedelta64("NaT"), pd.NaT], dtype=object),
                          "history": [[day, nat], [pd.NaT], []], "extra": [{"at": nat}, {}, {}]})
    frame.vectorize.upsert(index, id="id", vector="v", metadata=["seen", "history", "extra"])
    stored = {v.id: v.metadata for v in index.backend.get_by_ids("films", ["a", "b", "c"])}
    assert stored == {"a": {"history": ["2024-01-01T10:00:00", None], "extra": {"at": None}},
                      "b": {"history": [None], "extra": {}}, "c": {"history": [], "extra": {}}}


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, pd.NaT, np.datetime64("NaT")])
def test_every_missing_value_in_a_namespace_column_is_no_namespace(index, missing):
    """NaT in an object column was refused as 'a NaTType' where None, NaN and pd.NA mean no namespace."""
    frame = pd.DataFrame({"id": ["a", "b"], "v": [[1, 0, 0], [0, 1, 0]],
                          "ns": pd.Series(["shop", missing], dtype=object)})
    frame.vectorize.upsert(index, id="id", vector="v", namespace="ns")
    assert [v.namespace for v in index.backend.get_by_ids("films", ["a", "b"])] == ["shop", None]


def test_a_namespace_that_is_not_text_is_named_with_its_value(index):
    """It read "holds a int in row 0", showing neither the value nor the right article."""
    frame = pd.DataFrame({"id": ["a", "b"], "v": [[1, 0, 0], [0, 1, 0]], "ns": [5, 6]})
    with pytest.raises(errors.InvalidVector, match=r"namespace column 'ns' holds an int \(5\) in row 0; namespaces"):
        frame.vectorize.upsert(index, id="id", vector="v", namespace="ns")


def test_times_with_a_zone_are_written_in_utc_so_that_their_text_sorts_as_they_do(index):
    """A whole second was written '...T09:00:00Z' and a fraction '...T09:00:00.500000Z': 'Z' sorts after '.', so
    a range filter on the text put the whole second after its fractions."""
    index.create_metadata_index("t", "string")
    times = pd.to_datetime(["2024-01-01 10:00:00", "2024-01-01 10:00:00.5", "2024-01-01 10:00:01"],
                           format="ISO8601").tz_localize("Europe/Paris")
    frame = pd.DataFrame({"id": ["whole", "half", "next"], "v": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "t": times})
    frame.vectorize.upsert(index, id="id", vector="v", metadata=["t"], wait=True)
    assert index.get_by_ids(["whole", "half"])["t"].tolist() == ["2024-01-01T09:00:00+00:00",
                                                                 "2024-01-01T09:00:00.500000+00:00"]
    cut = "2024-01-01T09:00:00.250000+00:00"
    assert index.query([1, 1, 1], top_k=3, filter=F("t") < cut)["id"].tolist() == ["whole"]
    assert sorted(index.query([1, 1, 1], top_k=3, filter=F("t") > cut)["id"]) == ["half", "next"]


def test_a_column_labelled_nan_is_one_metadata_key(index):
    """A pivot_table(dropna=False) column labelled NaN was refused as clashing with itself (nan != nan)."""
    frame = pd.DataFrame({"id": ["a", "b"], "v": [[1, 0, 0], [0, 1, 0]], np.nan: [1, 2]})
    frame.vectorize.upsert(index, id="id", vector="v", metadata="all")
    assert [v.metadata for v in index.backend.get_by_ids("films", ["a", "b"])] == [{"nan": 1}, {"nan": 2}]


@pytest.mark.parametrize("column, dtype", [
    (pd.to_datetime(["2024-01-01"] * 4), "datetime64"), (pd.to_timedelta([1] * 4, unit="s"), "timedelta64"),
    (pd.Series(["0.5", "1e3", "1", "2"], dtype="string"), "string"), (np.ones(4) + 1j, "complex128")],
    ids=["datetime", "timedelta", "text", "complex"])
def test_vectors_columns_that_are_not_real_numbers_are_refused_naming_their_dtype(index, films, column, dtype):
    """A datetime column was written as epoch microseconds, a timedelta one as microseconds, text parsed as
    numbers and complex numbers as their real parts (with numpy's ComplexWarning only)."""
    frame = films.assign(x=0.5, y=list(column), z=1.0).astype({"y": column.dtype})
    with pytest.raises(errors.InvalidVector, match=rf"vector column 'y' is of dtype {dtype}.*, not real numbers"):
        frame.vectorize.upsert(index, id="film_id", vectors=["x", "y", "z"])
    with pytest.raises(errors.MalformedRequest, match=rf"vector column 'y' is of dtype {dtype}.*, not real numbers"):
        frame.vectorize.query(index, vectors=["x", "y", "z"])
    assert index.info().vector_count == 0


def test_vectors_columns_of_decimals_are_read_as_numbers(index, films):
    """read_sql gives NUMERIC columns as Decimal objects: taken before, then refused as "not a number"."""
    from decimal import Decimal

    frame = films.assign(x=[Decimal("0.5")] * 4, y=[Decimal("1.25")] * 4, z=Decimal(0))
    frame.vectorize.upsert(index, id="film_id", vectors=["x", "y", "z"], metadata=["genre"], wait=True)
    assert index.get_by_ids(["a"])["values"].iloc[0].tolist() == [0.5, 1.25, 0.0]
    assert frame.head(1).vectorize.query(index, vectors=["x", "y", "z"], top_k=1)["score"].tolist() == [
        pytest.approx(1.0)]


def test_a_column_of_questions_holding_vectors_written_as_text_is_refused(index, films):
    """Vectors read back from CSV given as text= were embedded as questions and answered with unrelated matches."""
    frame = films.assign(question=["[1.0, 0.0, 0.0]"] * 4)
    with pytest.raises(errors.MalformedRequest, match=r"the question in row 10 of column 'question' is a vector "
                                                      r"written as text; vectors saved as text \(to_csv\)"):
        frame.vectorize.query(index, text="question", model="@cf/baai/bge-small-en-v1.5")


@pytest.mark.parametrize("cells", [[np.ones(3) + 1j] * 4, [np.array(["1", "2", "3"])] * 4,
                                   [np.ones(3), np.ones(3), np.ones(3), np.arange(3).astype("m8[s]")]],
                         ids=["complex", "text", "timedelta"])
def test_vector_arrays_that_are_not_real_numbers_are_refused(index, films, cells):
    """A column of complex arrays was written as their real parts, text arrays parsed as numbers."""
    frame = films.assign(embedding=cells)
    row = 13 if len({c.dtype for c in cells}) > 1 else 10
    said = re.escape(f"of column 'embedding' is an array of {cells[-1].dtype}, not real numbers")
    with pytest.raises(errors.InvalidVector, match=rf"the vector in row {row} .*{said}"):
        frame.vectorize.upsert(index, id="film_id", vector="embedding")
    with pytest.raises(errors.MalformedRequest, match=said):
        frame.vectorize.query(index, vector="embedding")
    assert index.info().vector_count == 0


def test_narrow_floats_are_written_as_the_decimal_pandas_shows(index):
    """float32's 0.1 was written as its exact double, 0.10000000149011612, so F("price") == 0.1 missed it."""
    index.create_metadata_index("price", "number")
    frame = pd.DataFrame({"id": ["a", "b"], "v": [[1, 0, 0], [0, 1, 0]],
                          "price": np.array([0.1, 2.5], np.float32), "nullable": pd.array([0.1, None], "Float32"),
                          "half": np.array([0.1, 3.0], np.float16),
                          "cell": pd.Series([np.float32(0.1), 1], dtype=object),
                          "scores": [np.array([0.1, 0.7], np.float32), []]})
    frame.vectorize.upsert(index, id="id", vector="v", metadata="all", wait=True)
    stored = {v.id: v.metadata for v in index.backend.get_by_ids("films", ["a", "b"])}
    assert stored == {"a": {"price": 0.1, "nullable": 0.1, "half": 0.1, "cell": 0.1, "scores": [0.1, 0.7]},
                      "b": {"price": 2.5, "half": 3.0, "cell": 1, "scores": []}}
    assert index.query([1, 0, 0], top_k=2, filter=F("price") == 0.1)["id"].tolist() == ["a"]


def test_an_export_of_integers_and_booleans_some_vectors_lack_is_written_back_exactly(index):
    """to_frame gave such properties as float64 and object, and writing it back stored 1999.0, and
    4.611686018427388e+18 for 2**62 + 1; a subset of the rows came back int64 and bool."""
    metadata = [{"year": 1999, "ref": 2**62 + 1, "ok": True}, None, {"year": 2024, "ref": 7, "ok": False}]
    index.upsert([{"id": vid, "values": [1, 0, 0], **({"metadata": m} if m else {})}
                  for vid, m in zip("abc", metadata)])
    exported = index.to_frame()
    assert exported.dtypes[["year", "ref", "ok"]].tolist() == ["Int64", "Int64", "boolean"]
    assert index.get_by_ids(["a", "c"]).dtypes.to_dict() == exported.dtypes.to_dict()
    with vz.connect("memory", limits=TINY) as client:
        copy = client.create_index("copy", 3)
        exported.vectorize.upsert(copy, id="id", vector="values", namespace="namespace", metadata="all")
        stored = [v.metadata for v in copy.backend.get_by_ids("copy", ["a", "b", "c"])]
    assert stored == metadata and [type(m["ref"]) for m in (stored[0], stored[2])] == [int, int]


def test_an_empty_answer_has_the_dtypes_of_a_full_one(index, films):
    """get_by_ids and fetch of unknown ids gave values of dtype vector[0], and df.vectorize.query's `query`
    column was object when nothing matched."""
    films.vectorize.upsert(index, id="film_id", vector="embedding", metadata=["genre"], wait=True)
    assert index.get_by_ids(["zz"])["values"].dtype == index.get_by_ids(["a"])["values"].dtype
    fetched = pd.DataFrame({"id": ["zz"]}).vectorize.fetch(index, id="id")
    assert fetched["values"].dtype == index.to_frame()["values"].dtype
    for frame in (films, films.set_index("film_id")):
        full = frame.vectorize.query(index, vector="embedding", top_k=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", errors.VectorizeWarning)  # "no vector in the namespace 'none-here'"
            literal = frame.vectorize.query(index, vector="embedding", top_k=1, namespace="none-here")
            column = frame.assign(ns="none-here").vectorize.query(index, vector="embedding", top_k=1, namespace="ns")
        for empty in (literal, column):
            assert len(empty) == 0 and empty["query"].dtype == full["query"].dtype
