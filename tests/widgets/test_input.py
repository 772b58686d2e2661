"""What the reader gives a panel is used as given, or refused with a message that says what was expected."""

import vectorize_nb as vz
from vectorize_nb.widgets import IndexManager

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
