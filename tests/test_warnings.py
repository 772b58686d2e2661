"""VectorizeWarning: what a query silently leaves out is said once per cause; the results stay Vectorize's."""

import warnings

import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.client import Client
from vectorize_nb.errors import VectorizeWarning, heard_warnings
from vectorize_nb.local import LocalEngine

from .congruence.conftest import open_backend
from .helpers import TINY, made_after


def caught(action):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = action()
    return result, [str(w.message) for w in seen if issubclass(w.category, VectorizeWarning)]


@pytest.fixture(params=["local", "rest"])
def index(request, clock):
    with open_backend(request.param, clock) as backend:
        client = vz.Client(backend, request.param)
        idx = client.create_index("films", 2)
        idx.upsert(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]],
                   metadata=[{"genre": "drama", "year": 1999}, {"genre": "noir"}, {"genre": "drama"}])
        yield idx


@pytest.fixture
def clock():
    from .congruence.conftest import Clock
    return Clock()


def test_a_property_without_a_metadata_index_warns_once_and_the_result_stays_empty(index):
    hits, said = caught(lambda: index.query([1, 0], filter={"genre": "drama"}))
    assert hits.empty
    assert said == ['filter on "genre": index \'films\' has no metadata index for "genre", so this clause matches '
                    'nothing; create one with create_metadata_index("genre", type), then write the vectors again '
                    "(rewrite()); explain_filter() says more"]
    again, said = caught(lambda: index.query_many([[1, 0]], filter={"genre": "noir"}))
    assert again.empty and said == []  # the same cause is said once


def test_a_value_of_another_type_than_the_index_warns(index):
    made_after(index, "year", "number")
    index.rewrite()
    hits, said = caught(lambda: index.query([1, 0], filter={"year": "1999"}))
    assert hits.empty and said == ['filter on "year": its metadata index holds number values, so $eq \'1999\' '
                                   "matches nothing"]
    hits, said = caught(lambda: index.query([1, 0], filter={"year": 1999}))
    assert hits["id"].tolist() == ["a"] and said == []


def test_vectors_written_before_the_metadata_index_are_counted_on_the_embedded_engine(clock):
    with open_backend("local", clock) as backend:
        index = vz.Client(backend, "local").create_index("films", 2)
        index.upsert(["a", "b"], [[1, 0], [0, 1]], metadata=[{"genre": "drama"}, {"genre": "noir"}])
        index.create_metadata_index("genre", "string")
        index.upsert(["c"], [[1, 1]], metadata=[{"genre": "drama"}])
        hits, said = caught(lambda: index.query([1, 0], filter={"genre": "drama"}))
        assert hits["id"].tolist() == ["c"]  # exactly Vectorize's answer: a and b predate the index
        assert said == ['filter on "genre": 2 of the 3 vectors of \'films\' were written before the metadata index '
                        'on "genre" was created, so no filter on it matches them (as on Vectorize); rewrite() writes '
                        "them again"]
        index.rewrite()
        hits, said = caught(lambda: index.query([1, 0], filter={"genre": "drama"}))
        assert hits["id"].tolist() == ["a", "c"] and said == []


def test_a_zero_query_vector_on_a_cosine_index_warns(index):
    hits, said = caught(lambda: index.query([0, 0], top_k=3))
    assert hits["score"].tolist() == [0.0, 0.0, 0.0] and hits["id"].tolist() == ["a", "b", "c"]
    assert said == ["the query vector is all zeros: under cosine a zero vector has no direction, so every score "
                    "is 0 and the 'films' matches come in id order, not by similarity"]


def test_zero_rows_among_many_queries_are_counted_and_a_direction_says_nothing(index):
    hits, said = caught(lambda: index.query_many([[0, 0], [1, 0], [0, 0]], top_k=1))
    assert hits["id"].tolist() == ["a", "a", "a"]
    assert said == ["2 of the 3 query vectors are all zeros: under cosine a zero vector has no direction, so every "
                    "score is 0 and the 'films' matches come in id order, not by similarity"]
    assert caught(lambda: index.query([0, 1e-30], top_k=1))[1] == []


def test_the_warning_points_at_the_callers_line(index):
    with pytest.warns(VectorizeWarning) as record:
        index.query([1, 0], filter={"lang": "en"})
    assert record[0].filename == __file__


def test_a_filter_that_misses_nothing_says_nothing():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("quiet", 2)
        index.create_metadata_index("genre", "string")
        index.upsert(["a"], [[1, 0]], metadata=[{"genre": "drama"}])
        hits, said = caught(lambda: index.query([1, 0], filter={"genre": "noir"}))
        assert hits.empty and said == []  # an honest empty answer


def test_heard_warnings_gathers_each_time_in_its_thread_and_leaves_the_once_rule_outside(index):
    unindexed = {"year": 1999}
    _, first = caught(lambda: index.query([1, 0], filter=unindexed))
    assert len(first) == 1
    for _ in range(2):
        with heard_warnings() as heard:
            _, shown = caught(lambda: index.query([1, 0], filter=unindexed))
        assert shown == [] and heard == first  # gathered every time, not shown
    assert caught(lambda: index.query([1, 0], filter=unindexed))[1] == []  # said once, outside as before


def test_a_new_client_warns_anew_even_where_python_reuses_a_dropped_clients_id(monkeypatch):
    """Warnings were remembered by id(backend): a notebook's next client, given the address of the one it
    dropped, said nothing. Every object shares one id here, as two in turn at the same address would."""
    import vectorize_nb.index

    monkeypatch.setattr(vectorize_nb.index, "id", lambda obj: 0, raising=False)
    for _ in range(2):
        with vz.connect("memory", limits=TINY) as client:
            index = client.create_index("films", 2)
            index.upsert(["a"], [[1, 0]], wait=True)
            assert len(caught(lambda idx=index: idx.query([0, 0], top_k=1))[1]) == 1


def test_a_warning_said_anew_is_shown_under_pythons_default_once_per_line_rule(clock):
    """A loop in a script (Python's "default" action: once per line and text) showed the not-applied warning of
    its first write only, and a new client's first warning not at all: the library says once per cause, so
    Python's own registry must not hide a new cause of the same text."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        with open_backend("local", clock, apply_delay=60) as backend:
            index = vz.Client(backend, "local").create_index("films", 2)
            for label in ["drama", "noir"]:  # the same write line, a new write each time
                index.upsert(["a"], [[1, 0]], metadata=[{"genre": label}])
                index.query([1, 0])
                index.query([1, 0])  # the same write: said once
        for _ in range(2):
            with vz.connect("memory", limits=TINY) as client:  # a new client: a new cause, the same text
                client.create_index("films", 2).query([0, 0], top_k=1)
    said = [str(w.message)[:40] for w in seen if issubclass(w.category, VectorizeWarning)]
    pending, zero, empty = ("index 'films' holds no vectors yet: this", "the query vector is all zeros: under cos",
                            "index 'films' holds no vectors, so no qu")
    assert said == [pending, pending, zero, empty, zero, empty]


ZERO_QUERY = """
import numpy as np, vectorize_nb as vz
index = vz.connect("memory").create_index("films", dimensions=32)
index.upsert(["x"], np.ones((1, 32)), wait=True)
index.query(np.zeros(32))
print("answered")
"""


@pytest.mark.parametrize("run", [["-c", ZERO_QUERY], ["-c", f"exec(compile({ZERO_QUERY!r}, '<cell>', 'exec'), {{}})"],
                                 ["-c", f"exec(compile({ZERO_QUERY!r}, '<cell>', 'exec'), globals())"]])
def test_a_warning_from_python_c_or_exec_code_is_shown_not_raised(run):
    """Told where Python could not read the caller's source (python -c, python -m, code exec'd in a module's
    globals), a warning raised ImportError or IndexError out of the query; in a globals dict without __name__ it
    was dropped, even under -W error."""
    import subprocess
    import sys

    shown = subprocess.run([sys.executable, "-W", "default::UserWarning", *run], capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0 and shown.stdout == "answered\n", shown.stderr
    assert "VectorizeWarning: the query vector is all zeros" in shown.stderr
    raised = subprocess.run([sys.executable, "-W", "error::UserWarning", *run], capture_output=True, text=True,
                            timeout=60)
    assert raised.returncode == 1 and "VectorizeWarning: the query vector is all zeros" in raised.stderr


@pytest.mark.parametrize("target", ["local", "rest"])
def test_a_query_of_an_index_nothing_was_written_to_says_to_write_first(target, clock):
    """The query cell run before the upsert cell: an empty answer, and a word on what to run first."""
    with open_backend(target, clock) as backend:
        index = vz.Client(backend, target).create_index("digits", 2)
        index.create_metadata_index("label", "number")
        hits, said = caught(lambda: index.query([1, 0], top_k=3))
        assert hits.empty
        assert said == ["index 'digits' holds no vectors, so no query matches anything: write vectors first "
                        "(upsert or insert, then wait); a write from another kernel or process is applied a few "
                        "seconds after it was acknowledged: query again then"]
        many, said = caught(lambda: index.query_many([[1, 0], [0, 1]]))
        assert many.empty and said == []  # said once
        index.upsert(["a"], [[1, 0]])
        index.wait()
        assert caught(lambda: index.query([1, 0]))[0]["id"].tolist() == ["a"]


def test_once_warned_an_empty_index_costs_no_more_look_at_its_info(clock, monkeypatch):
    """Each empty unfiltered answer asked for the index's info, an HTTP round trip over REST, even after the
    warning had been said."""
    with open_backend("local", clock) as backend:
        index = vz.Client(backend, "local").create_index("digits", 2)
        looks = []
        info = backend.index_info
        monkeypatch.setattr(backend, "index_info", lambda name: looks.append(name) or info(name))
        for _ in range(3):
            caught(lambda: index.query([1, 0]))
        assert looks == ["digits"]
        with heard_warnings() as heard:
            index.query([1, 0])
        assert looks == ["digits"] * 2 and len(heard) == 1  # a panel hears it every time


def test_a_failed_look_at_an_empty_index_leaves_its_query_answered(clock, monkeypatch):
    """The query worked; the look at the index's info that decides whether to warn failed (a rate limit, the
    network), and the user got that error for it."""
    with open_backend("local", clock) as backend:
        index = vz.Client(backend, "local").create_index("digits", 2)

        def busy(name):
            raise vz.errors.RateLimited("too many requests", operation="get_index")

        monkeypatch.setattr(backend, "index_info", busy)
        hits, said = caught(lambda: index.query([1, 0]))
        assert hits.empty and said == []


def test_an_empty_answer_of_a_filter_says_nothing_of_it(clock):
    with open_backend("local", clock) as backend:
        index = vz.Client(backend, "local").create_index("films", 2)
        index.upsert(["a"], [[1, 0]], wait=True)
        index.delete_by_ids(["a"])
        index.wait()
        _, said = caught(lambda: index.query([1, 0], filter={"genre": "drama"}))
        assert not any("holds no vectors" in message for message in said)


@pytest.mark.parametrize("target", ["local", "rest"])
def test_a_namespace_that_holds_nothing_is_said_once(target, clock):
    """`namespace="Drama"` for vectors written to "drama" answered an empty table and no word, as a filter on a
    property without a metadata index once did."""
    with open_backend(target, clock) as backend:
        index = vz.Client(backend, target).create_index("films", 2)
        index.upsert(["a", "b"], [[1, 0], [0, 1]], namespaces=["drama", None], wait=True)
        assert caught(lambda: index.query([1, 0], namespace="drama"))[1] == []
        hits, said = caught(lambda: index.query_many([[1, 0], [0, 1]], namespace="Drama"))
        assert hits.empty and said == [
            "index 'films' has no vector in the namespace 'Drama', so no query there matches anything (the index "
            "holds 2 vectors); namespaces are case-sensitive: check the name, or leave namespace out to search "
            "them all"]
        assert caught(lambda: index.query([1, 0], namespace="Drama"))[1] == []  # said once
        assert caught(lambda: index.query([1, 0], namespace="drama", filter={"genre": "x"}))[1] != []  # the filter's


def test_a_namespace_query_right_after_a_write_not_yet_applied_says_to_wait():
    with vz.connect("memory", apply_delay=0.5) as lagging:
        slow = lagging.create_index("slow", dimensions=32)
        slow.upsert(["a"], [[1.0] * 32], wait=True)
        slow.upsert(["b"], [[1.0] * 32], namespaces=["new"])
        hits, said = caught(lambda: slow.query([1.0] * 32, namespace="new"))
        assert hits.empty and said == [
            "index 'slow' has no vector in the namespace 'new' yet: this client's last write to it is not applied "
            "(Vectorize applies writes a few seconds after acknowledging them); wait for it before querying: "
            "index.wait(), or write with wait=True"]


def test_a_query_right_after_a_write_not_yet_applied_says_to_wait():
    """The query cell run right after the upsert cell, on Cloudflare (or an engine with apply_delay), got an
    empty table and no word: the most asked question about Vectorize."""
    with vz.connect("memory", apply_delay=0.5) as lagging:
        slow = lagging.create_index("slow", dimensions=32)
        slow.upsert(["a"], [[1.0] * 32])
        hits, said = caught(lambda: slow.query([1.0] * 32))
        assert hits.empty and said == [
            "index 'slow' holds no vectors yet: this client's last write to it is not applied (Vectorize applies "
            "writes a few seconds after acknowledging them); wait for it before querying: index.wait(), or write "
            "with wait=True"]
        assert caught(lambda: slow.query([1.0] * 32))[1] == []  # said once
        slow.wait()
        hits, said = caught(lambda: slow.query([1.0] * 32))
        assert hits["id"].tolist() == ["a"] and said == []


@pytest.mark.parametrize("write", [
    lambda index: index.create_metadata_index("genre", "string"),
    lambda index: index.delete_by_ids(["a"]),
], ids=["metadata index", "delete"])
def test_an_empty_index_while_a_write_that_adds_no_vector_is_pending_says_nothing_of_waiting(write):
    """A pending metadata index or delete was taken for a pending upsert: "holds no vectors yet ... wait for
    it", where waiting brings no vector."""
    with vz.connect("memory", apply_delay=60) as lagging:
        index = lagging.create_index("films", dimensions=32)
        write(index)
        hits, said = caught(lambda: index.query([1.0] * 32))
        assert hits.empty and not any("yet" in message for message in said)
        index.upsert(["b"], [[1.0] * 32])  # a write that adds vectors, pending behind it: that one is said
        assert caught(lambda: index.query([1.0] * 32))[1] == [
            "index 'films' holds no vectors yet: this client's last write to it is not applied (Vectorize applies "
            "writes a few seconds after acknowledging them); wait for it before querying: index.wait(), or write "
            "with wait=True"]


def emptied_by_another_writer(mine: Client, theirs: Client) -> list[str]:
    """What a query says after our applied upsert whose vector another client then deleted."""
    index = mine.create_index("shared", dimensions=32)
    index.upsert(["a"], [[1.0] * 32])
    theirs.get_index("shared").delete_by_ids(["a"])
    hits, said = caught(lambda: index.query([1.0] * 32))
    assert hits.empty
    return said


def test_an_index_another_writer_emptied_after_our_write_does_not_say_our_write_is_pending():
    """Our upsert was applied, then another client deleted its vectors: the warning said flatly that this
    client's write "is not applied". Over REST this client cannot tell which, so it says both; the engine knows."""
    from tests.rest.faults import FaultRig

    engine = LocalEngine()
    with Client(engine, "mine") as mine, Client(engine, "theirs") as theirs:
        assert emptied_by_another_writer(mine, theirs) == [
            "index 'shared' holds no vectors: this client's writes to it are applied, and another writer's (another "
            "kernel or process) came after them, which may have removed the vectors"]
    with LocalEngine() as engine, FaultRig(engine) as rig:
        assert emptied_by_another_writer(rig.client(), rig.client()) == [
            "index 'shared' holds no vectors: this client's last write to it may not be applied yet (Vectorize "
            "applies writes a few seconds after acknowledging them), or another writer removed its vectors since; "
            "if the first, query again in a few seconds"]


def test_a_stored_id_queried_as_a_text_on_an_index_without_a_model_points_to_query_by_id():
    """Vectorize's clients query by id; here index.query("v1") took "v1" for a text and said only
    "pass model=". The hint now names query_by_id when the text is a stored vector's id."""
    with vz.connect("memory") as client:
        index = client.create_index("films", dimensions=32)
        index.upsert(["v1"], [[1.0] * 32], wait=True)
        with pytest.raises(vz.errors.UnknownModel) as raised:
            index.query("v1")
        assert raised.value.hint == "'v1' is a stored vector's id: query_by_id('v1') searches with its vector"
        with pytest.raises(vz.errors.UnknownModel) as raised:
            index.query("a question")
        assert "query_by_id" not in str(raised.value)


def test_a_metadata_index_no_filter_can_name_is_said_when_made():
    """Vectorize takes a metadata index on a property of 600 characters, but a filter's keys are at most 512: it
    could never be used, and nothing said so."""
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 2)
        with pytest.warns(VectorizeWarning) as heard:
            index.create_metadata_index("p" * 600, "string")
        assert [str(w.message) for w in heard] == [
            "a filter's keys are at most 512 characters, so no filter can name the property "
            f"{'p' * 40!r}… (600 characters) of the metadata index just made on 'films': delete it and index a "
            "shorter name"]
        assert index.list_metadata_indexes()["property_name"].tolist() == ["p" * 600]
        assert caught(lambda: index.create_metadata_index("p" * 512, "string"))[1] == []


def test_metadata_a_metadata_index_does_not_hold_is_said_as_it_is_written(index):
    """Integer labels written to a property indexed as strings were stored without a word, and no filter on
    the property ever matched them; explain_filter said "ok"."""
    made_after(index, "label", "string")
    frame = pd.DataFrame({"id": ["p", "q", "r"], "v": [[1.0, 0.0]] * 3, "label": [0, None, 2]}, index=[10, 11, 12])
    result, said = caught(lambda: frame.vectorize.upsert(index, id="id", vector="v", metadata=["label"], wait=True))
    assert result.written == 3 and index.get_by_ids(["r"])["label"].tolist() == [2]  # written as Vectorize would
    assert said == ["metadata 'label' of 2 vectors is not a string (first: row 10, id 'p', a number 0.0), where the "
                    "metadata index of index 'films' on 'label' holds string values only: a filter on 'label' never "
                    "matches those vectors. Write them as strings (a column: .astype(str)), or index 'label' by their "
                    "type (delete its metadata index, create one of their type, then write them again)"]
    _, said = caught(lambda: frame.vectorize.upsert(index, id="id", vector="v", metadata=["label"]))
    assert said == []  # once per index, property and type
    made_after(index, "seen", "boolean")
    _, said = caught(lambda: index.upsert([{"id": "s", "values": [1, 0], "metadata": {"seen": "yes"}}]))
    assert len(said) == 1 and said[0].startswith("metadata 'seen' of one vector is not a boolean (first: id 's', "
                                                 'a string "yes")')


def test_metadata_of_the_index_type_says_nothing(index):
    made_after(index, "tags", "string")
    made_after(index, "year", "number")
    frame = pd.DataFrame({"id": ["p", "q"], "v": [[1.0, 0.0]] * 2, "tags": [["x", "y"], None],
                          "year": [1999.0, float("nan")], "when": pd.to_datetime(["2020-01-01", None])})
    _, said = caught(lambda: frame.vectorize.upsert(index, id="id", vector="v", metadata="all"))
    assert said == []
    _, said = caught(lambda: index.upsert([{"id": "s", "values": [1, 0], "metadata": {"tags": ["x", 3]}}]))
    assert len(said) == 1 and "metadata 'tags' of one vector is not a string (first: id 's', an array)" in said[0]


def test_query_by_id_right_after_a_write_not_yet_applied_says_to_wait():
    """VectorNotFound said only that query_by_id needs a stored id, where the query by vector says the write
    is not applied yet."""
    with vz.connect("memory", apply_delay=0.5) as lagging:
        slow = lagging.create_index("slow", dimensions=32)
        slow.upsert(["a"], [[1.0] * 32])
        with pytest.raises(vz.errors.VectorNotFound) as raised:
            slow.query_by_id("a")
        assert raised.value.message.endswith(
            "; this client's last write to index 'slow' is not applied yet (Vectorize applies writes a few seconds "
            "after acknowledging them): if it holds that id, wait for it: index.wait(), or write with wait=True")
        slow.wait()
        assert slow.query_by_id("a")["id"].tolist() == ["a"]
        with pytest.raises(vz.errors.VectorNotFound) as raised:
            slow.query_by_id("b")
        assert "not applied" not in raised.value.message


def test_a_column_of_an_indexed_property_left_out_of_the_write_is_said(index):
    """An upsert again without metadata= (after new embeddings, say) replaced each vector whole: its stored
    metadata was gone, and filters on it matched nothing, without a word."""
    made_after(index, "genre", "string")
    frame = pd.DataFrame({"id": ["a", "b"], "v": [[1.0, 0.0], [0.0, 1.0]], "genre": ["drama", "noir"]})
    _, said = caught(lambda: frame.vectorize.upsert(index, id="id", vector="v", metadata=["genre"]))
    assert said == []
    _, said = caught(lambda: frame.vectorize.upsert(index, id="id", vector="v"))
    assert said == ["the frame's column 'genre' was not written as metadata, though index 'films' has a metadata "
                    "index on 'genre': the vectors written hold no 'genre' (an upsert replaces a stored vector "
                    "whole), so no filter on 'genre' matches them; metadata=['genre', ...] writes it"]


def test_vectors_written_before_a_metadata_index_are_said_when_it_is_made_over_rest(index):
    """Over REST a filter on a metadata index made after the vectors matched none of them without a word (the
    embedded engine counts them at each query: it says so there instead)."""
    _, said = caught(lambda: index.create_metadata_index("genre", "string"))
    expected = ("the vectors written to index 'films' before its metadata index on \"genre\" (3 stored) are not in "
                "it, so no filter on \"genre\" matches them (as on Vectorize) until they are written again: "
                "index.wait(), then index.rewrite()")
    assert said == ([expected] if index.target == "rest" else [])
    assert caught(lambda: index.create_metadata_index("genre", "string"))[1] == []  # made before: nothing new
    empty = vz.Client(index.backend, index.target).create_index("empty", 2)
    assert caught(lambda: empty.create_metadata_index("genre", "string"))[1] == []


@pytest.mark.parametrize("target", ["local", "rest"])
def test_the_first_query_after_an_update_not_yet_applied_says_the_answer_may_not_show_it(target, clock):
    """Relabelled vectors queried right after: the old labels came back, and a filter on the new one matched none,
    without a word. Said once a write: it was said once a session, so a write cell run again was not."""
    with open_backend(target, clock, apply_delay=60) as backend:
        index = vz.Client(backend, target).create_index("films", 2)
        index.create_metadata_index("genre", "string")
        index.upsert(["a"], [[1, 0]], metadata=[{"genre": "drama"}])
        clock.now += 61
        index.wait()
        index.upsert(["a"], [[1, 0]], metadata=[{"genre": "comedy"}])
        hits, said = caught(lambda: index.query([1, 0], return_metadata="all"))
        assert hits["genre"].tolist() == ["drama"]
        assert said == ["this client's last upsert or insert to index 'films' is not applied yet (Vectorize applies "
                        "writes a few seconds after acknowledging them), so this answer may not show it: wait for it "
                        "before querying: index.wait(), or write with wait=True"]
        assert caught(lambda: index.query([1, 0], filter={"genre": "comedy"}))[1] == []  # once
        clock.now += 61
        assert caught(lambda: index.query([1, 0], filter={"genre": "comedy"}))[0]["id"].tolist() == ["a"]
        index.upsert(["a"], [[1, 0]], metadata=[{"genre": "noir"}])  # the cell run again: said again, once
        assert caught(lambda: index.query([1, 0], filter={"genre": "noir"}))[1] == said
        assert caught(lambda: index.query([1, 0], filter={"genre": "noir"}))[1] == []


@pytest.mark.parametrize("target", ["local", "rest"])
def test_a_read_by_id_or_an_export_right_after_a_write_not_yet_applied_says_to_wait(target, clock):
    """get_by_ids and to_frame right after an upsert gave an empty frame, or the old metadata, without a word
    (a query said why). Said once a write, reads and queries together."""
    with open_backend(target, clock, apply_delay=60) as backend:
        index = vz.Client(backend, target).create_index("films", 2)
        index.upsert(["a"], [[1, 0]], metadata=[{"genre": "drama"}])
        rows, said = caught(lambda: index.get_by_ids(["a"]))
        assert rows.empty
        assert said == ["this client's last upsert or insert to index 'films' is not applied yet (Vectorize applies "
                        "writes a few seconds after acknowledging them), so this frame may not show it: wait for it "
                        "before reading: index.wait(), or write with wait=True"]
        assert caught(index.to_frame)[1] == caught(lambda: index.query([1, 0]))[1] == []  # once a write
        clock.now += 61
        index.wait()
        index.upsert(["a"], [[1, 0]], metadata=[{"genre": "noir"}])
        frame, again = caught(index.to_frame)
        assert frame["genre"].tolist() == ["drama"] and again == said
        clock.now += 61
        index.wait()
        frame, quiet = caught(index.to_frame)
        assert frame["genre"].tolist() == ["noir"] and quiet == []  # applied: nothing to say


def test_a_view_drawn_while_a_write_is_pending_leaves_the_warning_to_the_users_own_read(clock):
    """plot_index colouring a sample read the whole column through to_frame: the plot said "this frame may not
    show it ... before reading", and the user's next query, which the write concerned, said nothing."""
    import numpy as np

    from vectorize_nb.viz import plot_index

    with open_backend("local", clock, apply_delay=60) as backend:
        index = vz.Client(backend, "local").create_index("films", 2)
        rows = np.random.default_rng(0).standard_normal((60, 2))
        index.upsert([f"v{i}" for i in range(60)], rows, metadata=[{"label": i % 3} for i in range(60)])
        clock.now += 61
        index.wait()
        index.upsert(["new"], [[1, 0]], metadata=[{"label": 9}])
        assert caught(lambda: plot_index(index, color="label", sample=20))[1] == []
        assert caught(lambda: index.query([1, 0]))[1][0].startswith("this client's last upsert or insert")


@pytest.mark.parametrize("target", ["local", "rest"])
def test_explain_filter_on_a_metadata_index_not_yet_applied_says_to_wait(target, clock):
    """explain_filter said 'no metadata index on "genre": this clause matches nothing' right after
    create_metadata_index, while a query with the same filter said it is not applied yet."""
    with open_backend(target, clock, apply_delay=60) as backend:
        index = vz.Client(backend, target).create_index("films", 2)
        index.create_metadata_index("genre", "string")
        notes = index.explain_filter({"genre": "drama", "year": 1})["note"].tolist()
        assert notes == ["filter on \"genre\": the metadata index on \"genre\" this client made on index 'films' is "
                         "not applied yet (Vectorize applies writes a few seconds after acknowledging them), so this "
                         "clause matches nothing yet: index.wait(), then query",
                         'no metadata index on "year": this clause matches nothing']
        clock.now += 61
        index.wait()
        assert index.explain_filter({"genre": "drama"})["note"].tolist()[0] != notes[0]


@pytest.mark.parametrize("target", ["local", "rest"])
def test_a_filter_on_a_metadata_index_not_yet_applied_says_to_wait_not_to_make_it(target, clock):
    """Right after create_metadata_index, a filter on it was told to "create one with create_metadata_index(...),
    then write the vectors again", the very thing just done."""
    with open_backend(target, clock, apply_delay=60) as backend:
        index = vz.Client(backend, target).create_index("films", 2)
        index.create_metadata_index("genre", "string")
        unapplied = ("filter on \"genre\": the metadata index on \"genre\" this client made on index 'films' is not "
                     "applied yet (Vectorize applies writes a few seconds after acknowledging them), so this clause "
                     "matches nothing yet: index.wait(), then query")
        with pytest.raises(vz.errors.InvalidFilter) as refused:
            index.query([1, 0], filter=vz.F("genre") == "drama")
        assert str(refused.value).startswith(f"[40110] {unapplied}")
        assert caught(lambda: index.query([1, 0], filter={"genre": "drama"}))[1] == [unapplied]
        clock.now += 61
        with pytest.raises(vz.errors.InvalidFilter, match='has no metadata index for "year"'):
            index.query([1, 0], filter=vz.F("year") == 1)  # one this client never made: the usual words
        assert index.query([1, 0], filter=vz.F("genre") == "drama").empty


def test_a_metadata_index_made_then_deleted_before_either_applied_is_not_said_to_be_pending(clock):
    """It was "not applied yet ... index.wait(), then query", and after the wait there was none."""
    with open_backend("local", clock, apply_delay=60) as backend:
        index = vz.Client(backend, "local").create_index("films", 2)
        index.create_metadata_index("genre", "string")
        index.delete_metadata_index("genre")
        with pytest.raises(vz.errors.InvalidFilter, match='has no metadata index for "genre"'):
            index.query([1, 0], filter=vz.F("genre") == "drama")


def test_queries_filtering_on_a_metadata_index_not_applied_yet_cost_one_look_in_all(clock):
    """Each filtered query over REST went on to list the metadata indexes and read info, after the warning too."""
    with open_backend("local", clock, apply_delay=60) as backend:
        index = vz.Client(backend, "local").create_index("films", 2)
        index.create_metadata_index("genre", "string")
        looks = []
        original = backend.index_info
        backend.index_info = lambda name: looks.append(name) or original(name)
        said = [caught(lambda: index.query([1, 0], filter={"genre": "drama"}))[1] for _ in range(3)]
        assert [len(s) for s in said] == [1, 0, 0] and "not applied yet" in said[0][0]
        assert looks == ["films", "films"]  # the metadata index's, and the first query's after a mutation



@pytest.mark.parametrize("target", ["local", "rest"])
def test_an_empty_index_with_our_metadata_index_pending_is_not_said_to_hold_our_applied_writes(target, clock):
    """Another client's delete applied, then this client's metadata index sent: a query of the empty index said
    "this client's writes to it are applied, and another writer's came after them", all three untrue."""
    with open_backend(target, clock, apply_delay=60) as backend:
        mine, theirs = vz.Client(backend, target), vz.Client(backend, target)
        index = mine.create_index("films", 2)
        theirs.get_index("films").delete_by_ids(["gone"])
        clock.now += 61
        index.create_metadata_index("genre", "string")
        hits, said = caught(lambda: index.query([1, 0]))
        assert hits.empty and not any("are applied" in message for message in said), said


def test_a_metadata_index_another_client_deleted_after_ours_applied_is_not_said_pending():
    """The engine knows our creation was applied: a filter on it after another client deleted it must not say
    "not applied yet, wait" (a wait never helps), but that it has no metadata index."""
    engine = LocalEngine(limits=TINY)  # applies at once
    with Client(engine, "mine") as mine, Client(engine, "theirs") as theirs:
        index = mine.create_index("films", 2)
        index.create_metadata_index("genre", "string")
        theirs.get_index("films").delete_metadata_index("genre")
        with pytest.raises(vz.errors.InvalidFilter, match='has no metadata index for "genre"'):
            index.query([1, 0], filter=vz.F("genre") == "drama")
        notes = index.explain_filter({"genre": "drama"})["note"].tolist()
        assert notes == ['no metadata index on "genre": this clause matches nothing']


def test_the_first_query_after_many_writes_asks_the_engine_of_one_write_only(clock):
    """Each of this client's writes not known applied from the log was looked up, one SQL query apiece: 533 ms for
    the first query after 2,000 batches."""
    engine = LocalEngine(limits=TINY, apply_delay=60, clock=clock)
    asked = []
    state = engine.mutation_state
    engine.mutation_state = lambda name, mutation: asked.append(mutation) or state(name, mutation)
    with Client(engine, "mine") as client, Client(engine, "theirs") as theirs:
        index = client.create_index("films", 2)
        index.upsert([str(n) for n in range(50)], [[1, 0]] * 50, batch_size=1)
        theirs.get_index("films").upsert(["x"], [[0, 1]])
        clock.now += 61
        hits, said = caught(lambda: index.query([1, 0]))
        assert len(hits) == 5 and said == [] and len(asked) == 1


def test_explain_filter_on_a_metadata_index_applied_then_deleted_elsewhere_says_none(clock):
    """Once a query had said our metadata index was not applied yet, explain_filter kept saying so for the session,
    after it was applied and another client deleted it."""
    with open_backend("local", clock, apply_delay=60) as backend:
        mine, theirs = vz.Client(backend, "local"), vz.Client(backend, "local")
        index = mine.create_index("films", 2)
        index.create_metadata_index("genre", "string")
        assert "not applied yet" in caught(lambda: index.query([1, 0], filter={"genre": "drama"}))[1][0]
        clock.now += 61
        index.wait()
        theirs.get_index("films").delete_metadata_index("genre")
        clock.now += 61
        theirs.get_index("films").wait()
        notes = index.explain_filter({"genre": "drama"})["note"].tolist()
        assert notes == ['no metadata index on "genre": this clause matches nothing']


def test_rewrite_over_rest_after_another_writer_says_it_cannot_tell_and_goes_on():
    """rewrite() waited for this client's writes: over REST, with another writer's mutation applied last, no wait
    can tell, and it raised WaitTimeout after 60 s with nothing written."""
    from tests.rest.faults import FaultRig

    with LocalEngine(limits=TINY) as engine, FaultRig(engine) as rig:
        mine, theirs = rig.client(), rig.client()
        index = mine.create_index("films", 2)
        index.upsert(["a"], [[1, 0]], wait=True)
        theirs.get_index("films").upsert(["b"], [[0, 1]], wait=True)
        result, said = caught(lambda: index.rewrite(wait=True))
        assert result.rows == 2 and len(said) == 1 and said[0].startswith("another writer's mutation (")
        assert "cannot tell whether its own writes there are applied" in said[0]
