"""How many calls the panels make of the backend (each is one request over REST; Cloudflare allows 1200 per
5 minutes): a Refresh must not ask every index for its info."""

import collections

import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import IndexManager

from ..helpers import TINY
from .test_panels import click


class Counting:
    """A backend that counts the calls made of it."""

    def __init__(self, backend):
        self.backend = backend
        self.calls = collections.Counter()

    def __getattr__(self, name):
        found = getattr(self.backend, name)
        if not callable(found):
            return found

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return found(*args, **kwargs)
        return counted


@pytest.fixture
def counted():
    with vz.connect("memory", limits=TINY) as client:
        for i in range(40):
            client.create_index(f"index-{i:02d}", 2)
        client.backend = Counting(client.backend)
        yield client, client.backend.calls


def test_a_refresh_asks_for_the_list_and_the_chosen_index_only(counted):
    client, calls = counted
    manager = IndexManager(client)
    calls.clear()
    click(manager, "Refresh")
    assert calls == {"list_indexes": 1, "get_index": 1, "index_info": 1}
    assert manager.table.value.count("<td>index-") == 40
    assert manager.selected.value == "index-00" and "<th>vectors</th>" in manager.info.value


def test_create_and_delete_do_not_ask_every_index(counted):
    client, calls = counted
    manager = IndexManager(client)
    calls.clear()
    manager.name.value, manager.dimensions.value = "new-one", 2
    click(manager, "Create")
    assert calls == {"create_index": 1, "list_indexes": 1, "get_index": 1, "index_info": 1}
    assert manager.selected.value == "new-one" and "<td>0</td>" in manager.info.value
    calls.clear()
    click(manager, "Delete")
    manager.confirmation.children[1].click()
    assert calls == {"delete_index": 1, "list_indexes": 1, "get_index": 1, "index_info": 1}
    assert "new-one" not in manager.selected.options and len(manager.selected.options) == 40
