"""A double click reaches the kernel as two clicks, the second after the first has run (the button is
enabled again by then): the second must neither undo the first's message nor act a second time."""

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import IndexManager, MetadataIndexPanel

from ..helpers import TINY
from .test_guidance import said
from .test_panels import ask_to_delete, click


@pytest.fixture
def client():
    with vz.connect("memory", limits=TINY) as c:
        yield c


def test_a_double_click_on_create_creates_one_index_and_says_so(client):
    manager = IndexManager(client)
    manager.name.value = "films"
    manager.dimensions.value = 3
    click(manager, "Create")
    click(manager, "Create")
    assert said(manager) == "created index 'films'"
    assert client.list_indexes()["name"].tolist() == ["films"]
    click(manager, "Create")  # an empty box, not right after a Create: say what to do
    assert said(manager) == "type a name for the new index first"
    manager.name.value = "typed"
    manager.name.value = ""
    click(manager, "Create")
    assert said(manager) == "type a name for the new index first"
    assert client.list_indexes()["name"].tolist() == ["films"]


def test_a_double_click_on_the_delete_confirmation_deletes_once_and_says_so(client):
    for name in ("keep", "doomed"):
        client.create_index(name, 2)
    manager = IndexManager(client)
    confirm, _ = ask_to_delete(manager, "doomed")
    confirm.click()
    confirm.click()
    assert said(manager) == "deleted index 'doomed'" and "[3005]" not in said(manager)
    assert client.list_indexes()["name"].tolist() == ["keep"] and confirm.disabled


def test_the_confirmation_is_disabled_while_another_call_runs(client):
    client.create_index("doomed", 2)
    manager = IndexManager(client)
    confirm, cancel = ask_to_delete(manager, "doomed")
    seen = []
    listed = client.list_indexes
    client.list_indexes = lambda: seen.append((confirm.disabled, cancel.disabled)) or listed()
    click(manager, "Refresh")
    assert seen == [(True, True)] and not confirm.disabled and not cancel.disabled


def test_a_double_click_on_write_again_rewrites_once(client, monkeypatch):
    index = client.create_index("films", 2)
    index.upsert([f"v{i}" for i in range(10)], np.ones((10, 2), dtype=np.float32), metadata=[{"g": "x"}] * 10)
    metadata = MetadataIndexPanel(index)
    metadata.property.value = "g"
    click(metadata, "Create")
    calls = []
    rewrite = index.rewrite
    monkeypatch.setattr(index, "rewrite", lambda *a, **k: calls.append(a) or rewrite(*a, **k))
    [button] = metadata.offer.children
    button.click()
    button.click()
    assert len(calls) == 1 and said(metadata).startswith("wrote 10 vectors again")
    assert index.query([1, 1], filter={"g": "x"}, top_k=20)["id"].size == 10


def test_a_double_click_on_metadata_create_and_delete_acts_once(client):
    index = client.create_index("films", 2)
    index.create_metadata_index("year", "number")
    metadata = MetadataIndexPanel(index)
    metadata.property.value = "genre"
    click(metadata, "Create")
    click(metadata, "Create")
    assert said(metadata) == "created a string index on 'genre'"
    metadata.existing.value = "genre"
    click(metadata, "Delete")
    click(metadata, "Delete")  # must not delete 'year', the next one in the menu
    assert said(metadata) == "deleted the metadata index on 'genre'"
    assert index.list_metadata_indexes()["property_name"].tolist() == ["year"]
    metadata.existing.value = "year"
    metadata.existing.value = None
    click(metadata, "Delete")
    assert said(metadata) == "choose a metadata index to delete first"


def test_a_double_click_on_the_first_metadata_create_says_it_was_created(client):
    metadata = MetadataIndexPanel(client.create_index("films", 2))
    metadata.property.value = "genre"
    click(metadata, "Create")
    click(metadata, "Create")
    assert said(metadata) == "created a string index on 'genre'"

    click(metadata, "Create")  # a later click on the empty box is not a double click's second
    assert said(metadata) == "type the property to index first"
