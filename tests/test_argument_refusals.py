"""Arguments of the wrong kind, refused by name before anything is written or sent (the argument-fuzzing audit)."""

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import errors

from .helpers import TINY


@pytest.fixture
def index():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", dimensions=2)
        index.upsert(["a", "b", "c"], np.eye(3, 2, dtype=np.float32), wait=True)
        yield index


ID_READS_AND_DELETES = {
    "delete_by_ids": lambda index, ids: index.delete_by_ids(ids, wait=True),
    "get_by_ids": lambda index, ids: index.get_by_ids(ids),
    "matches_filter": lambda index, ids: index.matches_filter(ids, {}),
}


@pytest.mark.parametrize("call", ID_READS_AND_DELETES.values(), ids=ID_READS_AND_DELETES.keys())
def test_a_frame_given_as_ids_is_refused_not_read_as_its_column_names(index, call):
    """delete_by_ids(DataFrame({"a": ..., "b": ...})) deleted the vectors "a" and "b" (a frame iterates as its
    column names); get_by_ids and matches_filter answered for them."""
    with pytest.raises(errors.MalformedRequest) as refused:
        call(index, pd.DataFrame({"a": ["x"], "b": ["y"]}))
    assert "ids must be a list of ids; got" in refused.value.message
    assert 'pass its id column, df["id"], or give the frame to df.vectorize.delete' in refused.value.message
    assert sorted(index.list_ids()) == ["a", "b", "c"]


@pytest.mark.parametrize("ids", [np.array("a"), np.array([["a"], ["b"]])], ids=["0-d", "2-D"])
def test_an_array_of_ids_of_other_than_one_dimension_is_refused_by_name(index, ids):
    """A 0-d array said "iteration over a 0-d array"; a 2-D one, that an id must be a string."""
    with pytest.raises(errors.MalformedRequest) as refused:
        index.delete_by_ids(ids)
    assert "ids must be a list of ids; got" in refused.value.message
    assert sorted(index.list_ids()) == ["a", "b", "c"]


def test_a_set_of_ids_to_delete_or_read_is_taken(index):
    """Where no other argument is paired with the ids, their order does not matter."""
    assert sorted(index.get_by_ids({"a", "b"})["id"]) == ["a", "b"]
    index.delete_by_ids(frozenset({"a"}), wait=True)
    assert sorted(index.list_ids()) == ["b", "c"]


@pytest.mark.parametrize("ids, namespaces, name", [
    ({"x", "y"}, None, "ids"),
    (["x", "y"], {"ns-a", "ns-b"}, "namespaces"),
])
def test_a_set_paired_with_the_rows_of_a_write_is_refused_by_name(index, ids, namespaces, name):
    """upsert({"first", "second"}, X, namespaces={"ns-a", "ns-b"}) paired ids, rows and namespaces in the order of
    the strings' hashes, which changes from one run of Python to the next."""
    with pytest.raises(errors.MalformedRequest) as refused:
        index.upsert(ids, np.eye(2), namespaces=namespaces, wait=True)
    assert f"{name} must be " in refused.value.message
    assert f"a set has no order to pair its entries with the other arguments' rows: pass sorted({name})" in \
        refused.value.message
    assert sorted(index.list_ids()) == ["a", "b", "c"]


@pytest.mark.parametrize("keys", [{"q-a", "q-b"}, "ab", 5])
def test_query_many_keys_that_are_not_a_list_are_refused_by_name(index, keys):
    """keys={"q-a", "q-b"} labelled the answers in hash order, keys="ab" as 'a' and 'b', keys=5 said "'int' object
    is not iterable"."""
    with pytest.raises(errors.MalformedRequest) as refused:
        index.query_many(np.eye(2), keys=keys)
    assert "keys must be a list of one label per query vector; got" in refused.value.message


def test_texts_to_embed_given_as_a_set_are_refused():
    """Client.embed({"cat", "dog"}) gave its rows in the set's order, which the caller cannot know."""
    with vz.connect("memory") as client, pytest.raises(errors.TextNotString) as refused:
        client.embed({"cat", "dog"}, "wordllama/l2-supercat-256")
    assert "not a set: a set has no order to give the vectors' rows, pass sorted(texts)" in str(refused.value)


WRITES_WITH_OPTIONS = {
    "upsert": lambda index, **options: index.upsert(["w1"], np.ones((1, 2)), **options),
    "delete_by_ids": lambda index, **options: index.delete_by_ids(["a"], **options),
    "accessor": lambda index, **options: pd.DataFrame({"id": ["w1"], "v": [np.ones(2)]}).vectorize.upsert(
        index, id="id", vector="v", **options),
}


@pytest.mark.parametrize("call", WRITES_WITH_OPTIONS.values(), ids=WRITES_WITH_OPTIONS.keys())
@pytest.mark.parametrize("name, value", [
    ("wait", np.array([True, False])), ("wait", pd.Series([True])), ("wait", "no"), ("wait", 1),
    ("on_error", pd.Series(["raise"])),
])
def test_a_write_option_that_is_no_flag_is_refused_before_anything_is_written(index, call, name, value):
    """upsert(wait=np.array([True, False])) stored the vector, then raised numpy's "truth value of an array is
    ambiguous"; delete_by_ids(wait=Series) deleted first; wait="no" waited."""
    with pytest.raises(errors.MalformedRequest) as refused:
        call(index, **{name: value})
    assert refused.value.message.startswith(f"{name} must be ")
    assert sorted(index.list_ids()) == ["a", "b", "c"]


@pytest.mark.parametrize("write", ["upsert", "accessor"])
def test_progress_is_true_false_or_none(index, write):
    call = WRITES_WITH_OPTIONS[write]
    with pytest.raises(errors.MalformedRequest) as refused:
        call(index, progress="yes")
    assert refused.value.message == "progress must be True or False or None; got 'yes'"
    assert sorted(index.list_ids()) == ["a", "b", "c"]


def test_create_index_exist_ok_and_return_metadata_that_are_no_flag_are_refused_by_name(index):
    """Both raised numpy's "truth value of an array is ambiguous" (exist_ok only where the name existed)."""
    with vz.connect("memory", limits=TINY) as client:
        with pytest.raises(errors.MalformedRequest, match=r"\] exist_ok must be True or False; got array"):
            client.create_index("fresh", 2, exist_ok=np.array([1, 2]))
        assert client.list_indexes().empty
    with pytest.raises(errors.MalformedRequest, match=r"\] return_metadata must be one of 'none', 'indexed', 'all'"):
        index.query(np.ones(2), return_metadata=np.array(["all", "none"]))


@pytest.mark.parametrize("name", ["cache", "locally", "progress"])
def test_embed_flags_are_refused_by_name(name):
    with vz.connect("memory") as client, pytest.raises(errors.MalformedRequest) as refused:
        client.embed(["cat"], "wordllama/l2-supercat-256", **{name: "no"})
    assert refused.value.message.startswith(f"{name} must be True or False")


@pytest.mark.parametrize("batch_size", [2.5, "2", np.True_, True, float("inf"), float("nan"), "x", 0])
def test_a_batch_size_that_is_no_whole_number_of_at_least_one_is_refused_by_name(index, batch_size):
    """batch_size=2.5 became 2, "2" was taken, np.True_ became 1; inf raised OverflowError, nan and "x" int()'s
    own messages, none naming batch_size."""
    for call in (WRITES_WITH_OPTIONS["upsert"], WRITES_WITH_OPTIONS["accessor"],
                 lambda index, **options: index.copy_to(vz.connect("memory", limits=TINY), **options)):
        with pytest.raises(errors.MalformedRequest) as refused:
            call(index, batch_size=batch_size)
        assert refused.value.message.startswith("batch_size must be a whole number of at least 1 or None; got ")
    assert sorted(index.list_ids()) == ["a", "b", "c"]


def test_a_whole_float_batch_size_is_taken_as_its_int(index):
    result = index.upsert(["x", "y", "z"], np.ones((3, 2)), batch_size=2.0, wait=True)
    assert [batch.rows for batch in result.batches] == [2, 1]


@pytest.mark.parametrize("name, value", [
    ("timeout", float("nan")), ("timeout", None), ("timeout", True), ("timeout", float("inf")), ("timeout", 0),
    ("interval", -1), ("interval", "x"), ("interval", float("nan")), ("interval", float("inf")),
])
def test_wait_refuses_a_timeout_or_interval_that_is_no_finite_number_of_seconds(name, value):
    """wait(timeout=nan) never returned (nan <= 0 is False); None, "x", -1 and inf raised Python's own errors from
    inside the loop, and True waited 1 s."""
    with vz.connect("memory", limits=TINY, apply_delay=3600) as client:
        index = client.create_index("docs", dimensions=2)
        index.upsert(["a"], np.ones((1, 2)))
        with pytest.raises(errors.MalformedRequest) as refused:
            index.wait(**{name: value})
    assert f"{name} must be a finite number of seconds above 0; got " in refused.value.message


@pytest.fixture(params=["embedded", "rest"])
def client(request):
    """A client of the embedded engine, or of a server of it over REST, holding the index "docs"."""
    if request.param == "embedded":
        with vz.connect("memory", limits=TINY) as client:
            client.create_index("docs", dimensions=2)
            yield client
        return
    with vz.serve(memory=True, limits=TINY) as server, \
            vz.connect(server.url, account_id="local", max_retries=0, limits=TINY) as client:
        client.create_index("docs", dimensions=2)
        yield client


@pytest.mark.parametrize("name", [None, 7, 2**63, ("docs",), pd.NA, b"docs"])
def test_an_index_name_that_is_no_string_is_refused_alike_on_both_targets(client, name):
    """get_index(7) raised AttributeError, 2**63 OverflowError, a tuple sqlite3.ProgrammingError on the engine;
    over REST, urllib's TypeError."""
    for call in (client.get_index, client.delete_index):
        with pytest.raises(errors.MalformedRequest) as refused:
            call(name)
        assert "name must be a string; got " in refused.value.message
    assert client.list_indexes()["name"].tolist() == ["docs"]


def test_an_empty_index_name_is_not_found_on_both_targets(client):
    """Over REST, get_index("") read the listing's answer (ServerError) and delete_index("") found no route."""
    for call in (client.get_index, client.delete_index):
        with pytest.raises(errors.IndexNotFound, match='Index name ""'):
            call("")
    assert client.list_indexes()["name"].tolist() == ["docs"]


@pytest.mark.parametrize("cursor", [5, [], b"abc"])
def test_a_cursor_that_is_no_string_is_refused_alike_on_both_targets(client, cursor):
    """The engine raised AttributeError; over REST cursor=[] was dropped and the walk began again."""
    with pytest.raises(errors.MalformedRequest, match=r"cursor must be a string or None; got "):
        client.get_index("docs").list_vectors(count=1, cursor=cursor)


@pytest.mark.parametrize("metadata", [pd.Series(["x", "y"]), np.array([1, 2])])
def test_metadata_rows_that_are_no_dicts_are_refused_for_their_id_on_an_index_with_metadata_indexes(index, metadata):
    """With a metadata index, the warning about unheld values read row.get() first: AttributeError."""
    index.create_metadata_index("genre", "string")
    with pytest.raises(errors.InvalidMetadata, match='invalid metadata for id="m1": expected an object'):
        index.upsert(["m1", "m2"], np.ones((2, 2)), metadata=metadata)
    assert sorted(index.list_ids()) == ["a", "b", "c"]


@pytest.mark.parametrize("which", ["index_a", "index_b"])
def test_compare_refuses_what_is_no_index_by_name(index, which):
    """compare(None, index, ...) raised AttributeError: 'NoneType' object has no attribute 'dimensions'."""
    pair = {"index_a": index, "index_b": index, which: "docs"}
    with pytest.raises(TypeError, match=f"compare's {which} must be an Index"):
        vz.compare(pair["index_a"], pair["index_b"], ["a"])


@pytest.mark.parametrize("changes, error, says", [
    ({"max_top_k": "100"}, TypeError, "Limits.max_top_k must be a whole number (an int); got '100'"),
    ({"max_top_k": None}, TypeError, "Limits.max_top_k must be a whole number (an int); got None"),
    ({"min_dimensions": True}, TypeError, "Limits.min_dimensions must be a whole number (an int); got True"),
    ({"default_list_count": 0}, ValueError, "Limits.default_list_count must be at least 1; got 0"),
    ({"max_dimensions": 10}, ValueError, "Limits.min_dimensions (32) must not be above Limits.max_dimensions (10)"),
    ({"cursor_ttl_seconds": float("nan")}, ValueError, "Limits.cursor_ttl_seconds must be a finite number"),
])
def test_limits_no_engine_can_keep_are_refused_by_name(changes, error, says):
    """Limits(max_top_k="100") was taken and broke the first query with '>' not supported; max_dimensions=10
    read later as "Dimensions must be in range: [32, 10]"; default_list_count=0 listed no ids."""
    with pytest.raises(error) as refused:
        vz.DEFAULT_LIMITS.with_changes(**changes)
    assert says in str(refused.value)
    assert vz.Limits(min_dimensions=1).min_dimensions == 1


@pytest.mark.parametrize("limits", [None, {"max_top_k": 10}])
def test_connect_refuses_limits_that_are_no_limits(limits):
    with pytest.raises(TypeError, match="limits must be a vz.Limits, such as"):
        vz.connect("memory", limits=limits)


@pytest.mark.parametrize("vector_id, refused, says", [
    (float("nan"), errors.InvalidVector, "vector id must be a string, got float nan"),
    (b"a", errors.InvalidVector, "vector id must be a string, got bytes b'a'"),
    (None, errors.InvalidVector, "vector id must be a string, got NoneType None"),
    ("", errors.InvalidVector, "vector id must not be empty"),
    ("x" * 70, errors.IdTooLong, "id too long; max is 64 bytes, got 70 bytes"),
])
def test_query_by_id_refuses_what_is_no_id_alike_on_both_targets(client, vector_id, refused, says):
    """Over REST, query_by_id(nan) and (None) said "give exactly one of vector or vectorId", (b"a") raised orjson's
    TypeError, where the engine named what an id is."""
    with pytest.raises(refused) as raised:
        client.get_index("docs").query_by_id(vector_id)
    assert raised.value.message.startswith(says)


@pytest.mark.parametrize("dimensions", [float("nan"), 3.5, float("inf")])
def test_dimensions_that_are_no_whole_number_are_refused_alike_on_both_targets(client, dimensions):
    """Over REST, create_index(dimensions=nan) went out as null: "config.dimensions: missing field"."""
    with pytest.raises(errors.InvalidIndexConfig, match=r"Dimensions must be in range: \[2, 1536\], got"):
        client.create_index("other", dimensions)
    assert client.list_indexes()["name"].tolist() == ["docs"]


@pytest.mark.parametrize("target", [0, False, 8787, ["local"]])
def test_a_target_that_is_no_string_is_refused_not_read_as_the_default(target):
    """connect(0) opened ./.vectorize (a falsy target read as none given)."""
    with pytest.raises(errors.ConfigurationError, match=r"connect's first argument is a target .*, got "):
        vz.connect(target)


@pytest.mark.parametrize("apply_delay", ["5", True, float("nan"), -1, None])
def test_an_apply_delay_that_is_no_number_of_seconds_is_refused(apply_delay):
    """apply_delay="5" was taken as 5 seconds, True as 1."""
    with pytest.raises(errors.ConfigurationError, match="apply_delay must be 0 or more seconds, and finite: got"):
        vz.connect("memory", apply_delay=apply_delay)


def test_minor_arguments_of_the_wrong_kind_are_refused_by_name(index):
    """Each said something of pandas' or Python's own: "unhashable type: 'list'", "boolean value of NA is
    ambiguous", "metadata columns 97, 98", "'NAType' object is not iterable", a traitlets TraitError, a bare
    AssertionError from inside pandas."""
    frame = pd.DataFrame({"id": ["n1"], "emb": [np.ones(2, np.float32)]})
    with pytest.raises(TypeError, match="namespace= takes the name of a column, got a list"):
        frame.vectorize.upsert(index, id="id", vector="emb", namespace=["a"])
    with pytest.raises(TypeError, match="namespace= takes the name of a column, got a list"):
        frame.vectorize.query(index, vector="emb", namespace=["a"])
    with pytest.raises(TypeError, match="id= takes the name of a column, got a NAType"):
        frame.vectorize.upsert(index, id=pd.NA, vector="emb")
    for metadata in (b"ab", {"a": 1}, pd.NA):
        with pytest.raises(errors.MalformedRequest, match='metadata must be a list of columns, a column or "all"'):
            frame.vectorize.upsert(index, id="id", vector="emb", metadata=metadata)
    with pytest.raises(errors.InvalidRequest, match=r"values must be a 2-D array with one row per id \(1\), got NA"):
        index.upsert(["n1"], pd.NA)
    with pytest.raises(TypeError, match=r"QueryExplorer\(color=...\) takes a metadata property's name, got float"):
        vz.QueryExplorer(index, color=float("nan"))
    with pytest.raises(TypeError, match="& joins two F conditions .*, got DataFrame on its right"):
        (vz.F("genre") == "a") & pd.DataFrame({"a": [1]})
    assert sorted(index.list_ids()) == ["a", "b", "c"]
