"""An index or metadata index deleted by another client while the panels are open: the panel says so and
its lists drop it; nothing escapes to the output area or the log console."""

import re

import pandas as pd
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
    assert bench.panels[3].index.name == "one"


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


@pytest.fixture
def bench(client):
    """A Workbench on index "cc" (3 dimensions), with "aa" beside it and a frame to upsert."""
    client.create_index("aa", 3)
    client.create_index("cc", 3)
    frame = pd.DataFrame({"id": ["x", "y"], "embedding": [[1.0, 0, 0], [0, 1.0, 0]]})
    bench = panel(client, frame)
    bench.manager.selected.value = "cc"
    return bench


def test_refresh_follows_an_index_created_again_elsewhere_with_other_dimensions(client, bench):
    client.delete_index("cc")
    client.create_index("cc", 4, "euclidean")  # another cell
    click(bench.manager, "Refresh")
    metadata, upsert, query = bench.panels[1:]
    assert [tab.index.dimensions for tab in (metadata, upsert, query)] == [4, 4, 4]
    assert "(euclidean, 4 dimensions)" in query.children[0].value
    assert said(query) == "index 'cc' was deleted and created again elsewhere: these tabs show it as it is now " \
                          "(4 dimensions, euclidean)"
    assert titles(bench) == ["Indexes", "Metadata indexes: cc", "Upsert: cc", "Query: cc"]


def test_a_tab_that_meets_its_index_created_again_follows_it(client, bench):
    client.delete_index("cc")
    client.create_index("cc", 4)
    query = bench.panels[3]
    query.source.value, query.pasted.value = "a vector", "1 2 3 4"
    click(query, "Run")
    assert "[3005]" in said(query)
    query = bench.panels[3]
    assert query.index.dimensions == 4 and "created again elsewhere" in said(query)
    query.source.value, query.pasted.value = "a vector", "1 2 3 4"
    click(query, "Run")
    assert said(query).startswith("index 'cc' holds no vectors yet")


def test_a_tab_that_meets_its_index_deleted_elsewhere_drops_it(client, bench):
    client.delete_index("cc")
    click(bench.panels[1], "Refresh")
    assert bench.manager.selected.options == ("aa",) and "<td>cc</td>" not in bench.manager.table.value
    assert titles(bench) == ["Indexes", "Metadata indexes: aa", "Upsert: aa", "Query: aa"]
    assert said(bench.panels[1]) == "index 'cc' was deleted: these tabs show 'aa' now"


def test_a_refresh_keeps_the_tabs_of_an_index_unchanged(bench):
    tabs = bench.panels
    click(bench.manager, "Refresh")
    assert all(now is before for now, before in zip(bench.panels, tabs))


def test_the_indexes_tab_shows_the_facts_after_a_write_from_the_upsert_tab(bench):
    bench.tabs.selected_index = 2
    click(bench.panels[2], "Upsert")
    bench.tabs.selected_index = 0
    dimensions, vectors = re.findall(r"<td[^>]*>(.*?)</td>", bench.manager.info.value)[:2]
    assert (dimensions, vectors) == ("3", "2")


def test_a_rebuild_keeps_the_tab_widgets_so_the_browser_keeps_the_tab_shown(client, bench):
    """The rebuild replaced the tabs' widgets: the browser's tab bar then showed the Metadata indexes tab, and sent
    that back to the kernel, when the user had clicked the Query tab or its Run after a cell made the index again."""
    bench.tabs.selected_index = 3
    tabs, query = bench.tabs.children, bench.panels[3]
    client.delete_index("cc")
    client.create_index("cc", 4)
    click(query, "Run")
    assert bench.tabs.children == tabs and bench.tabs.selected_index == 3
    assert bench.panels[3] is not query and bench.panels[3].index.dimensions == 4
    assert [box.children for box in tabs[1:]] == [(panel,) for panel in bench.panels[1:]]


def test_the_last_index_deleted_elsewhere_is_said_in_the_indexes_tab(client):
    """The Query tab, and its error, vanished with the index; the Indexes tab left alone said nothing."""
    client.create_index("docs", 2)
    bench = panel(client)
    bench.tabs.selected_index = 3
    query = bench.panels[3]
    client.delete_index("docs")  # another cell
    query.source.value, query.pasted.value = "a vector", "1 0"
    click(query, "Run")
    assert titles(bench) == ["Indexes"] and bench.tabs.selected_index == 0
    assert said(bench.manager) == "index 'docs' was deleted elsewhere: no index is left; create one below"
    assert "vectorize-nb-note" in bench.manager.message.value


def test_the_last_index_deleted_from_the_indexes_tab_is_said_as_done(client):
    client.create_index("docs", 2)
    bench = panel(client)
    confirm, _ = ask_to_delete(bench.manager, "docs")
    confirm.click()
    assert titles(bench) == ["Indexes"] and said(bench.manager) == "deleted index 'docs'"
