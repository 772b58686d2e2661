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
