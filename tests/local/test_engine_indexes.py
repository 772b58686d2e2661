from datetime import UTC

import pytest

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine


def test_create_get_list_delete(engine):
    created = engine.create_index("movies", dimensions=4, metric="euclidean", description="films")
    assert (created.name, created.dimensions, created.metric) == ("movies", 4, "euclidean")
    assert created.description == "films"
    assert created.created_on == created.modified_on and created.created_on.tzinfo == UTC
    assert engine.get_index("movies") == created
    engine.create_index("books", dimensions=3, metric="cosine")
    assert [d.name for d in engine.list_indexes()] == ["movies", "books"]
    engine.delete_index("movies")
    assert [d.name for d in engine.list_indexes()] == ["books"]


def test_description_defaults_to_empty_string(engine):
    assert engine.create_index("plain", dimensions=3, metric="cosine").description == ""


@pytest.mark.parametrize("preset, dims", [("@cf/baai/bge-small-en-v1.5", 384), ("@cf/baai/bge-base-en-v1.5", 768),
                                          ("@cf/baai/bge-large-en-v1.5", 1024),
                                          ("openai/text-embedding-ada-002", 1536),
                                          ("cohere/embed-multilingual-v2.0", 768)])
def test_presets_set_dimensions_and_cosine(engine, preset, dims):
    created = engine.create_index("p1", preset=preset)
    assert (created.dimensions, created.metric, created.config.preset) == (dims, "cosine", preset)


def test_duplicate_name_is_3002(engine):
    engine.create_index("movies", dimensions=4, metric="cosine")
    with pytest.raises(errors.DuplicateIndexName) as info:
        engine.create_index("movies", dimensions=8, metric="cosine")
    assert (info.value.code, info.value.message) == (3002, 'vectorize.index.duplicate_name - Index name "movies"')


def test_unknown_index_is_3000_for_every_operation(engine):
    calls = [lambda: engine.get_index("nope"), lambda: engine.index_info("nope"), lambda: engine.delete_index("nope"),
             lambda: engine.query("nope", [1, 2]), lambda: engine.get_by_ids("nope", ["a"]),
             lambda: engine.list_vectors("nope"), lambda: engine.list_metadata_indexes("nope")]
    for call in calls:
        with pytest.raises(errors.IndexNotFound) as info:
            call()
        assert type(info.value) is errors.IndexNotFound
        assert info.value.message == 'vectorize.index.not_found - Index name "nope"'


def test_deleted_index_is_3005_with_410_until_recreated(engine):
    engine.create_index("gone", dimensions=2, metric="cosine")
    engine.delete_index("gone")
    with pytest.raises(errors.IndexDeleted) as info:
        engine.index_info("gone")
    assert (info.value.code, info.value.status) == (3005, 410)
    assert info.value.message == 'vectorize.index.deleted - Index name "gone" was deleted'
    recreated = engine.create_index("gone", dimensions=3, metric="dot-product")
    assert engine.get_index("gone") == recreated and engine.index_info("gone").vector_count == 0


def test_bad_configs_are_rejected_before_anything_is_created():
    with LocalEngine() as strict:
        with pytest.raises(errors.InvalidIndexConfig, match=r"Dimensions must be in range: \[32, 1536\], got 3"):
            strict.create_index("small", dimensions=3, metric="cosine")
        with pytest.raises(errors.InvalidIndexConfig, match="Metric must be one of"):
            strict.create_index("small", dimensions=32, metric="manhattan")
        with pytest.raises(errors.InvalidIndexName):
            strict.create_index("Small", dimensions=32, metric="cosine")
        assert strict.list_indexes() == []


def test_info_of_a_new_index_has_no_mutation(engine):
    engine.create_index("fresh", dimensions=2, metric="cosine")
    info = engine.index_info("fresh")
    assert (info.dimensions, info.vector_count, info.processed_up_to_mutation, info.processed_up_to_datetime) == (
        2, 0, None, None)


def test_an_index_folder_goes_with_its_index_and_a_new_index_gets_another(tmp_path):
    with LocalEngine(tmp_path / "store") as engine:
        engine.create_index("maps", dimensions=32, metric="cosine")
        first = engine.index_folder("maps")
        assert first is not None and first.is_relative_to(tmp_path / "store")
        first.mkdir(parents=True)
        (first / "kept.json").write_text("{}", encoding="utf-8")
        engine.delete_index("maps")
        assert not first.exists()
        engine.create_index("maps", dimensions=32, metric="cosine")
        assert engine.index_folder("maps") != first
    with LocalEngine() as memory:
        memory.create_index("maps", dimensions=32, metric="cosine")
        assert memory.index_folder("maps") is None
        with pytest.raises(errors.IndexNotFound):
            memory.index_folder("other")
