"""What the panels say when the index is not as the reader expects: writes not applied yet, warnings of
the library, errors worded in the reader's terms."""

import warnings

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import QueryExplorer, UpsertPanel

from vectorize_nb.local import LocalEngine

from ..congruence.conftest import Clock
from ..helpers import TINY
from .test_guidance import said
from .test_panels import click

APPLYING = ("writes sent to it are still being applied (Vectorize applies them a few seconds after accepting them): "
            "Run again in a few seconds, or call index.wait() in a cell first")


@pytest.fixture
def client():
    with vz.connect("memory", limits=TINY) as c:
        yield c


def films(n=6, dimensions=3, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": [f"f{i:02d}" for i in range(n)], "genre": ["drama", "noir"] * (n // 2),
                         "embedding": list(rng.standard_normal((n, dimensions)).astype(np.float32))})


def test_run_right_after_a_write_says_the_writes_are_still_being_applied():
    clock = Clock()
    with vz.Client(LocalEngine(limits=TINY, apply_delay=60, clock=clock), "local") as lagging:
        index = lagging.create_index("films", 3)
        frame = films()
        frame.vectorize.upsert(index, id="id", vector="embedding")  # not waited for
        explorer = QueryExplorer(index, frame)
        click(explorer, "Run")
        assert said(explorer) == f"index 'films' holds no vectors yet: {APPLYING}"


def test_a_query_by_an_id_just_written_says_the_writes_are_still_being_applied():
    clock = Clock()
    with vz.Client(LocalEngine(limits=TINY, apply_delay=60, clock=clock), "local") as lagging:
        index = lagging.create_index("films", 3)
        index.upsert(["x"], [[1, 0, 0]])
        clock.now += 61
        index.upsert(["y"], [[0, 1, 0]])
        explorer = QueryExplorer(index)
        explorer.source.value, explorer.stored_id.value = "a stored id", "y"
        click(explorer, "Run")
        assert said(explorer) == f"no vector 'y' in index 'films' yet: {APPLYING}"
        assert "vectorize-nb-note" in explorer.message.value


def test_add_condition_while_a_metadata_index_made_in_a_cell_is_not_applied_says_so():
    """It told the user to create the metadata index just made, then to write the vectors again."""
    clock = Clock()
    with vz.Client(LocalEngine(limits=TINY, apply_delay=60, clock=clock), "local") as lagging:
        index = lagging.create_index("films", 3)
        explorer = QueryExplorer(index)
        index.create_metadata_index("genre", "string")  # a cell, not waited for
        click(explorer, "Add condition")
        assert said(explorer) == ("the metadata index on 'genre' made from this session is not applied yet "
                                  "(Vectorize applies it a few seconds after accepting it): Add condition again in a "
                                  "few seconds, or call index.wait() in a cell first")
        assert explorer.conditions.children == ()
        clock.now += 61
        click(explorer, "Add condition")
        assert len(explorer.conditions.children) == 1
        index.delete_metadata_index("genre")
        clock.now += 61
        click(explorer, "Add condition")
        assert "create one in the Metadata indexes tab" in said(explorer)


def test_an_unknown_id_is_an_error_when_no_write_is_pending(client):
    index = client.create_index("films", 3)
    index.upsert(["x"], [[1, 0, 0]])
    explorer = QueryExplorer(index)
    explorer.source.value, explorer.stored_id.value = "a stored id", "nope"
    click(explorer, "Run")
    assert "[40113]" in said(explorer) and "vectorize-nb-error" in explorer.message.value


@pytest.fixture
def predating(client):
    """An index whose vectors were written before the metadata index on "genre": filters miss them."""
    index = client.create_index("films", 3)
    frame = films()
    frame.vectorize.upsert(index, id="id", vector="embedding", metadata=["genre"])
    index.create_metadata_index("genre", "string")
    return index, frame


def test_a_filter_that_misses_vectors_says_why_in_the_panel_every_time(predating):
    index, frame = predating
    explorer = QueryExplorer(index, frame)
    click(explorer, "Add condition")
    row = explorer.conditions.children[0]
    row.property.value, row.operator.value, row.value.value = "genre", "==", "drama"
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        for _ in range(2):  # the library warns once per cause; the panel says it on every Run
            click(explorer, "Run")
            assert said(explorer).startswith('0 matches; filter on "genre": 6 of the 6 vectors of \'films\' were '
                                             "written before the metadata index")
            assert "vectorize-nb-note" in explorer.message.value
    assert outside == []  # said in the panel, not also in the output area
    with pytest.warns(vz.errors.VectorizeWarning, match="were written before the metadata index"):
        index.query(frame["embedding"][0], filter={"genre": "drama"})  # a cell is still warned


@pytest.fixture
def pair(client):
    """An index holding two vectors, "a" and "b", without metadata or namespace."""
    index = client.create_index("films", 3)
    index.upsert(["a", "b"], [[1, 0, 0], [0, 1, 0]])
    return index


def test_an_all_zero_cosine_query_says_it_ranks_nothing(pair):
    explorer = QueryExplorer(pair)
    explorer.source.value, explorer.pasted.value = "a vector", "0, 0, 0"
    click(explorer, "Run")
    assert said(explorer).startswith("2 matches; the query vector is all zeros: under cosine a zero vector has no "
                                     "direction")


def test_columns_labelled_by_numbers_are_used_as_they_are(client):
    index = client.create_index("films", 3)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": ["a", "b"], "embedding": list(rng.standard_normal((2, 3)).astype(np.float32)),
                          2020: [1, 2]})
    upsert = UpsertPanel(frame, index)
    assert upsert.metadata.value == (2020,)
    assert upsert.metadata.options == (("id", "id"), ("embedding", "embedding"), ("2020", 2020))
    click(upsert, "Upsert")
    assert said(upsert) == "upserted 2 vectors into 'films' with 2020"
    assert index.get_by_ids(["b"])["2020"].tolist() == [2]
    numbered = pd.DataFrame({0: ["c", "d"], 1: list(rng.standard_normal((2, 3)).astype(np.float32))})
    upsert = UpsertPanel(numbered, index)
    upsert.id.value, upsert.vector.value, upsert.metadata.value = 0, 1, ()
    click(upsert, "Upsert")
    assert said(upsert) == "upserted 2 vectors into 'films' with no metadata" and index.info().vector_count == 4
    explorer = QueryExplorer(index, numbered)
    explorer.vector_column.value = 1
    click(explorer, "Run")
    assert said(explorer) == "4 matches" and explorer.results["id"].iloc[0] == "c"


def test_a_bare_key_error_says_what_was_not_found():
    from vectorize_nb.widgets.base import Panel

    panel = Panel()
    assert not panel.attempt(lambda: {}[1])
    assert said(panel) == "1 not found (KeyError)"
    panel.attempt(lambda: {}["genre"])
    assert said(panel) == "'genre' not found (KeyError)"
    panel.attempt(lambda: pd.DataFrame().loc[:, ["x"]])  # a KeyError with a sentence is said as it is
    assert said(panel).startswith("None of [Index(['x']")


def test_a_failed_upsert_leaves_no_summary_of_the_last_one(client):
    index = client.create_index("films", 3)
    upsert = UpsertPanel(films(), index)
    click(upsert, "Upsert")
    assert upsert.summary.value == "6 of 6 rows written"
    upsert.frame = films(dimensions=2)  # e.g. embedded again with another model
    click(upsert, "Upsert")
    assert "[40012]" in said(upsert) and upsert.summary.value == "" and upsert.progress.outputs == ()


def test_a_failed_query_leaves_no_answer_of_the_last_one(client):
    index = client.create_index("films", 3)
    frame = films()
    frame.vectorize.upsert(index, id="id", vector="embedding")
    explorer = QueryExplorer(index, frame)
    click(explorer, "Run")
    assert "<td>f00</td>" in explorer.table.value and explorer.figure is not None
    explorer.source.value, explorer.stored_id.value = "a stored id", "no-such-id"
    click(explorer, "Run")
    assert "[40113]" in said(explorer)
    assert explorer.table.value == "" and explorer.plot.children == () and explorer.figure is None
    assert explorer.results.empty


def test_a_vector_without_a_namespace_shows_a_blank_cell_not_none(pair):
    explorer = QueryExplorer(pair)
    explorer.source.value, explorer.stored_id.value = "a stored id", "a"
    click(explorer, "Run")
    assert explorer.results["namespace"].tolist() == [None, None]
    assert "None" not in explorer.table.value and explorer.table.value.count("<td></td>") == 2
    assert "<td>a</td>" in explorer.table.value


LONG = "a_rather_long_property_name_for_filters"


def test_a_long_word_in_a_message_wraps_and_long_names_have_a_tooltip(client):
    index = client.create_index("films", 3)
    index.create_metadata_index(LONG, "string")
    index.create_metadata_index("genre", "string")
    upsert = UpsertPanel(films().assign(**{LONG: "x"}), index)
    assert LONG in upsert.metadata.tooltip.split("\n") and "genre" in upsert.metadata.tooltip.split("\n")
    explorer = QueryExplorer(index)
    click(explorer, "Add condition")
    row = explorer.conditions.children[0]
    assert row.property.tooltip == LONG
    row.property.value = "genre"
    assert row.property.tooltip == "genre"
    explorer.say("p" * 600, "error")
    assert "overflow-wrap:anywhere" in explorer.message.value
