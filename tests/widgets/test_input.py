"""What the reader gives a panel is used as given, or refused with a message that says what was expected."""

import re

import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import IndexManager, MetadataIndexPanel, QueryExplorer, UpsertPanel, panel

from ..helpers import TINY
from .test_guidance import said
from .test_panels import click


def test_dimensions_are_sent_as_typed_and_the_library_names_the_limit():
    with vz.connect("memory") as client:  # Cloudflare's limits: 32 to 1536 dimensions
        manager = IndexManager(client)
        manager.name.value = "zero"
        manager.dimensions.value = 0
        assert manager.dimensions.value == 0  # not made 1
        click(manager, "Create")
        assert "got 0" in said(manager) and "32" in said(manager) and "1536" in said(manager)
        manager.dimensions.value = 200_000
        click(manager, "Create")
        assert "got 200000" in said(manager) and client.list_indexes().empty


def test_arguments_of_the_wrong_type_are_refused_with_what_was_expected():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 2)
        frame = pd.DataFrame({"id": ["a"], "embedding": [[1.0, 0.0]]})
        refused = {
            "UpsertPanel(frame, index): the first argument, frame, is a DataFrame, got an Index: did you swap them?":
                lambda: UpsertPanel(index, frame),
            "QueryExplorer(index, frame): the first argument, index, is an Index (from client.get_index(name)), got "
            "a DataFrame: did you swap them?": lambda: QueryExplorer(frame, index),
            "QueryExplorer(index, frame): the second argument, frame, is a DataFrame, got a str":
                lambda: QueryExplorer(index, "embedding"),
            "MetadataIndexPanel(index): the first argument, index, is an Index (from client.get_index(name)), got a "
            "Client": lambda: MetadataIndexPanel(client),
            "IndexManager(client): the first argument, client, is a Client (from vz.connect()), got an Index":
                lambda: IndexManager(index),
            "panel(client, frame): the first argument, client, is a Client (from vz.connect()), got a DataFrame: did "
            "you swap them?": lambda: panel(frame, client),
        }
        for message, call in refused.items():
            with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
                call()
        assert QueryExplorer(index).frame is None and UpsertPanel(frame, index).index is index


def test_the_namespace_name_box_shows_only_for_one_name_and_is_used_or_refused():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 3)
        frame = pd.DataFrame({"id": ["x", "y"], "embedding": [[1.0, 0, 0], [0, 1.0, 0]], "tenant": ["t1", "t2"]})
        upsert = UpsertPanel(frame, index)
        upsert.metadata.value = ()
        assert upsert.literal.layout.display == "none"
        upsert.namespace.value = "(one name for every row)"
        assert upsert.literal.layout.display is None
        upsert.literal.value = "  "
        click(upsert, "Upsert")
        assert said(upsert) == "type the namespace for every row in the Name box first"
        assert index.info().vector_count == 0
        upsert.literal.value = "films-2024"
        click(upsert, "Upsert")
        assert said(upsert) == "upserted 2 vectors into 'films' with no metadata, in namespace 'films-2024'"
        assert index.get_by_ids(["x", "y"])["namespace"].tolist() == ["films-2024"] * 2
        upsert.namespace.value = "tenant"
        assert upsert.literal.layout.display == "none"
        click(upsert, "Upsert")
        assert said(upsert) == "upserted 2 vectors into 'films' with no metadata, in the namespaces of column 'tenant'"


def test_an_upsert_panel_on_a_frame_with_no_rows_says_there_is_nothing_to_upsert():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("films", 3)
        frame = pd.DataFrame({"id": pd.Series([], dtype=object), "embedding": pd.Series([], dtype=object)})
        upsert = UpsertPanel(frame, index)
        assert said(upsert) == "the frame has no rows: nothing to upsert" and upsert.metadata.value == ()
        click(upsert, "Upsert")
        assert said(upsert) == "the frame has no rows: nothing to upsert"
