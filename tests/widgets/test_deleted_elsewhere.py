"""An index or metadata index deleted by another client while the panels are open: the panel says so and
its lists drop it; nothing escapes to the output area or the log console."""

import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import IndexManager, MetadataIndexPanel, panel

from ..helpers import TINY
from .test_guidance import said
from .test_panels import ask_to_delete, click


@pytest.fixture
def client():
    with vz.connect("memory", limits=TINY) as c:
        yield c


def titles(bench):
    return [bench.tabs.get_title(i) for i in range(len(bench.tabs.children))]


def test_picking_an_index_deleted_elsewhere_says_so_and_the_tabs_follow_the_list(client):
    client.create_index("one", 2)
    client.create_index("two", 2)
    bench = panel(client)
    client.delete_index("two")  # another notebook, wrangler, the dashboard
    bench.manager.selected.value = "two"  # what the browser does: must not raise
    assert "[3005]" in said(bench.manager) and '"two" was deleted' in said(bench.manager)
    assert bench.manager.selected.options == ("one",) and bench.manager.selected.value == "one"
    assert "<td>two</td>" not in bench.manager.table.value
    assert titles(bench) == ["Indexes", "Metadata indexes: one", "Upsert: one", "Query: one"]
    assert bench.tabs.children[3].index.name == "one"


def test_deleting_an_index_deleted_elsewhere_drops_it_from_the_list(client):
    client.create_index("keep", 2)
    client.create_index("gone", 2)
    manager = IndexManager(client)
    confirm, _ = ask_to_delete(manager, "gone")
    client.delete_index("gone")
    confirm.click()
    assert "[3005]" in said(manager)
    assert manager.selected.options == ("keep",) and "<td>gone</td>" not in manager.table.value


def test_deleting_a_metadata_index_deleted_elsewhere_drops_it_from_the_menu(client):
    index = client.create_index("films", 2)
    index.create_metadata_index("genre", "string")
    index.create_metadata_index("year", "number")
    metadata = MetadataIndexPanel(index)
    index.delete_metadata_index("genre")
    metadata.existing.value = "genre"
    click(metadata, "Delete")
    assert "[40005]" in said(metadata)
    assert metadata.existing.options == ("year",) and "genre" not in metadata.table.value
