"""The metadata index panel on both backends: what it says after a Create is what happened."""

import contextlib

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb.widgets import MetadataIndexPanel

from ..helpers import TINY
from .test_guidance import said
from .test_panels import click


@pytest.fixture(params=["local", "rest"])
def client(request):
    with contextlib.ExitStack() as stack:
        if request.param == "local":
            yield stack.enter_context(vz.connect("memory", limits=TINY))
            return
        from vectorize_nb.local.server import serve

        server = stack.enter_context(serve(memory=True, limits=TINY, token="tok"))
        yield stack.enter_context(vz.connect(server.url, api_token="tok", limits=TINY))


def test_create_on_a_property_already_indexed_says_so_and_offers_no_rewrite(client):
    index = client.create_index("films", 3)
    index.create_metadata_index("genre", "string")
    index.wait()
    frame = pd.DataFrame({"id": ["a", "b"], "genre": ["drama", "noir"],
                          "embedding": list(np.eye(3, dtype=np.float32)[:2])})
    frame.vectorize.upsert(index, id="id", vector="embedding", metadata=["genre"], wait=True)
    metadata = MetadataIndexPanel(index)
    metadata.property.value = "genre"
    click(metadata, "Create")
    assert said(metadata) == "'genre' already has a string metadata index: nothing to create"
    assert metadata.offer.children == ()
    assert index.list_metadata_indexes().values.tolist() == [["genre", "string"]]
    assert index.query([1, 0, 0], filter={"genre": "drama"})["id"].tolist() == ["a"]
    metadata.property.value = "genre"
    metadata.kind.value = "number"
    click(metadata, "Create")  # another type: the library says what to do
    assert "already has a metadata index of type string; delete it before creating one of type number" in (
        said(metadata))


def test_a_property_no_filter_can_name_is_created_and_said_so(client):
    index = client.create_index("films", 3)
    index.upsert(["a"], [[1, 0, 0]])
    metadata = MetadataIndexPanel(index)
    metadata.property.value = "p" * 600
    click(metadata, "Create")
    assert said(metadata) == (f"created a string index on '{'p' * 600}', but a filter cannot use it: [40110] filter "
                              "key too long; max is 512 characters, got 600: delete it and index a name a filter can "
                              "use")
    assert "vectorize-nb-note" in metadata.message.value and metadata.offer.children == ()
    assert metadata.existing.options == ("p" * 600,) and metadata.property.value == ""


def test_deleting_the_metadata_index_withdraws_the_offer_to_write_the_vectors_again(client):
    index = client.create_index("films", 2)
    index.upsert(["a", "b"], [[1, 0], [0, 1]], metadata=[{"genre": "drama"}, {"genre": "noir"}], wait=True)
    metadata = MetadataIndexPanel(index)
    metadata.property.value = "genre"
    click(metadata, "Create")
    assert len(metadata.offer.children) == 1
    metadata.existing.value = "genre"
    click(metadata, "Delete")
    assert metadata.offer.children == () and metadata._decisions == []
    assert said(metadata) == "deleted the metadata index on 'genre'"


def test_create_over_stored_vectors_says_once_in_the_panels_words_that_they_predate_it(client):
    """Over REST the note was followed by the library's warning, saying the same in code terms ("index.wait(), then
    index.rewrite()"), right below the panel's button that writes them again."""
    index = client.create_index("films", 2)
    index.upsert(["a", "b"], [[1, 0], [0, 1]], metadata=[{"genre": "drama"}, {"genre": "noir"}], wait=True)
    metadata = MetadataIndexPanel(index)
    metadata.property.value = "genre"
    click(metadata, "Create")
    assert said(metadata) == ("created a string index on 'genre'; 2 vectors already in the index predate it and will "
                              "not match filters on it until written again")
    assert [button.description for button in metadata.offer.children] == ["Write the 2 vectors again"]
