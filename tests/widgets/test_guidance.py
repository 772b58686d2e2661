"""Panels that lead the way: what a newcomer walks into says, in their terms, what to do next."""

import html
import re

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import QueryExplorer, UpsertPanel

from ..helpers import TINY
from .test_panels import click


@pytest.fixture
def client():
    with vz.connect("memory", limits=TINY) as c:
        yield c


def said(panel) -> str:
    """The panel's message line as the reader sees it."""
    return html.unescape(re.sub(r"<[^>]+>", "", panel.message.value))


def digits_like(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({"id": [f"d{i:02d}" for i in range(n)], "label": np.arange(n) % 3,
                         "embedding": list(rng.standard_normal((n, 3)).astype(np.float32)),
                         "text": ["x" * 300] * n, "source": ["scan"] * n})


def test_run_on_an_empty_index_says_to_write_vectors_first(client):
    """It used to show `ValueError: index 'panel-digits' holds no vectors`."""
    index = client.create_index("panel-digits", 3)
    explorer = QueryExplorer(index, digits_like())
    click(explorer, "Run")
    assert said(explorer) == ("index 'panel-digits' holds no vectors yet: write some first (the Upsert tab, or "
                              "df.vectorize.upsert(index, id=..., vector=...)), then Run again")
    assert "vectorize-nb-note" in explorer.message.value and explorer.figure is None


def test_a_colour_never_stored_is_said_in_the_index_terms_and_the_answer_still_shows(client):
    """It used to show `KeyError: "color column 'label' not in the frame; its columns are: 'id', 'namespace',
    'rank', 'score'"` and no figure."""
    index = client.create_index("panel-digits", 3)
    frame = digits_like()
    frame.vectorize.upsert(index, id="id", vector="embedding")  # no metadata
    explorer = QueryExplorer(index, frame, color="label")
    click(explorer, "Run")
    assert said(explorer) == (
        "10 matches, drawn in one colour: the vectors drawn from index 'panel-digits' hold no metadata 'label' (never "
        "written, or an upsert without it replaced it): upsert the vectors again with metadata=['label'] "
        "(df.vectorize.upsert(index, id=..., vector=..., metadata=['label'])) (the vectors drawn hold no metadata)")
    assert len(explorer.results) == 10 and [t.name for t in explorer.figure.data if t.legendgroup == "index"] == [
        "index"]


def test_the_colour_menu_offers_what_the_vectors_hold_and_redraws(client):
    index = client.create_index("panel-digits", 3)
    frame = digits_like()
    frame.vectorize.upsert(index, id="id", vector="embedding", metadata=["label", "source"])
    explorer = QueryExplorer(index, frame)
    assert explorer.color_by.options == ("(one colour)", "label", "source", "namespace") and explorer.color is None
    click(explorer, "Run")
    assert [t.name for t in explorer.figure.data if t.legendgroup == "index"] == ["index"]
    explorer.color_by.value = "label"  # redraws the last answer, without asking the index again
    assert [t.name for t in explorer.figure.data if t.legendgroup == "index"] == ["0", "1", "2"]
    assert said(explorer) == "10 matches"
    explorer.top_k.value = 1
    click(explorer, "Run")
    assert said(explorer) == "1 match"  # not "1 matches"


def filter_row(client):
    """A QueryExplorer's first filter row, on an index with a string, a number and a boolean metadata index."""
    index = client.create_index("films", 3)
    for name, kind in (("title", "string"), ("year", "number"), ("seen", "boolean")):
        index.create_metadata_index(name, kind)
    explorer = QueryExplorer(index)
    click(explorer, "Add condition")
    return explorer.conditions.children[0]


def test_filter_values_of_the_wrong_type_say_what_to_type(client):
    row = filter_row(client)
    row.property.value, row.value.value = "year", "nineteen"
    with pytest.raises(ValueError, match=r"'year' has a number index: 'nineteen' is not a number \(type e.g. 2000"):
        row.condition()
    row.property.value, row.value.value = "seen", "yes"
    with pytest.raises(ValueError, match="'seen' has a boolean index: type true or false, not 'yes'"):
        row.condition()


def test_add_condition_without_a_metadata_index_says_how_to_make_one(client):
    explorer = QueryExplorer(client.create_index("films", 3))
    click(explorer, "Add condition")
    assert "create one in the Metadata indexes tab (index.create_metadata_index(property, type))" in said(explorer)


def test_upsert_into_an_empty_index_preselects_every_column_that_can_be_metadata(client):
    """The metadata selection used to start empty, so the explorer could not colour by label."""
    index = client.create_index("panel-digits", 3)
    frame = digits_like().assign(tags=[["a"]] * 30)
    upsert = UpsertPanel(frame, index)
    assert upsert.metadata.value == ("label", "source")  # not the id, the vectors, long texts or lists
    click(upsert, "Upsert")
    assert said(upsert) == "upserted 30 vectors into 'panel-digits' with 'label', 'source'"
    assert index.get_by_ids(["d04"])[["label", "source"]].values.tolist() == [[1, "scan"]]
    upsert.id.value = "source"
    assert upsert.metadata.value == ("label",)  # a column chosen as the id is not metadata too


def test_upsert_again_keeps_the_metadata_the_vectors_hold(client):
    """An upsert replaces whole vectors: without the stored metadata selected it would drop it."""
    index = client.create_index("panel-digits", 3)
    frame = digits_like()
    frame.vectorize.upsert(index, id="id", vector="embedding", metadata=["label"])
    upsert = UpsertPanel(frame, index)
    assert upsert.metadata.value == ("label",)
    click(upsert, "Upsert")
    assert index.get_by_ids(["d05"])["label"].tolist() == [2]
    assert any("metadata left unselected is removed" in html.unescape(getattr(child, "value", "") or "")
               for child in upsert.children)


def test_an_index_with_a_metadata_index_and_stored_vectors_preselects_both(client):
    index = client.create_index("films", 3)
    index.create_metadata_index("source", "string")
    frame = digits_like()
    frame.head(2).drop(columns="source").vectorize.upsert(index, id="id", vector="embedding", metadata=["label"])
    assert UpsertPanel(frame, index).metadata.value == ("label", "source")


def test_a_row_of_a_frame_with_no_rows_says_the_frame_is_empty(client):
    index = client.create_index("films", 3)
    index.upsert([{"id": "a", "values": [1.0, 0.0, 0.0]}], wait=True)
    explorer = QueryExplorer(index, pd.DataFrame({"id": pd.Series([], dtype=object),
                                                  "embedding": pd.Series([], dtype=object)}))
    assert explorer.source.value == "a row of the frame"
    click(explorer, "Run")
    assert said(explorer) == "the frame has no rows: choose 'a stored id' or 'a vector' to query with"


def test_only_null_means_null_and_quotes_mean_the_text_as_typed(client):
    row = filter_row(client)
    typed = {"None": {"$eq": "None"}, "none": {"$eq": "none"}, "null": {"$eq": None}, '"null"': {"$eq": "null"},
             '""': {"$eq": ""}}
    for text, sent in typed.items():
        row.value.value = text
        assert row.condition().to_json() == {"title": sent}, text
    row.property.value, row.value.value = "year", "null"
    assert row.condition().to_json() == {"year": {"$eq": None}}


@pytest.mark.parametrize("operator", ["in", "not in", "=="])
def test_an_empty_value_box_is_refused_with_what_to_type(client, operator):
    row = filter_row(client)
    row.operator.value, row.value.value = operator, " , " if operator != "==" else " "
    with pytest.raises(ValueError, match="^type a value for 'title' first"):
        row.condition()


def test_the_colour_menu_offers_the_namespace_the_fallback_message_suggests(client):
    index = client.create_index("panel-digits", 3)
    frame = digits_like().assign(tenant=lambda f: np.where(f["label"] == 0, "t0", "t1"))
    frame.vectorize.upsert(index, id="id", vector="embedding", metadata=["label"], namespace="tenant")
    explorer = QueryExplorer(index, frame, color="nope")
    click(explorer, "Run")
    assert said(explorer).endswith("or color by one of: 'namespace', 'label'")
    assert explorer.color_by.options == ("(one colour)", "label", "namespace", "nope")
    explorer.color_by.value = "namespace"
    assert sorted(t.name for t in explorer.figure.data if t.legendgroup == "index") == ["t0", "t1"]
