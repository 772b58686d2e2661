import pytest

from vectorize_nb import errors
from vectorize_nb.contract.models import MetadataIndex, QueryOptions

from ..helpers import vectors


@pytest.fixture
def shop(engine):
    engine.create_index("shop", dimensions=2, metric="cosine")
    return engine


def ids_for(engine, flt, **options):
    return sorted(m.id for m in engine.query("shop", [1, 0], QueryOptions(top_k=100, filter=flt, **options)))


def test_vectors_written_before_a_metadata_index_do_not_match_until_rewritten(shop):
    shop.upsert("shop", vectors(["old"], [[1, 0]], [{"color": "red"}]))
    shop.create_metadata_index("shop", "color", "string")
    shop.upsert("shop", vectors(["new"], [[1, 0]], [{"color": "red"}]))
    assert ids_for(shop, {"color": "red"}) == ["new"]
    assert ids_for(shop, {"color": {"$ne": "blue"}}) == ["new"]
    shop.upsert("shop", vectors(["old"], [[1, 0]], [{"color": "red"}]))
    assert ids_for(shop, {"color": "red"}) == ["new", "old"]


def test_insert_over_an_existing_id_does_not_rewrite_it(shop):
    shop.upsert("shop", vectors(["old"], [[1, 0]], [{"color": "red"}]))
    shop.create_metadata_index("shop", "color", "string")
    shop.insert("shop", vectors(["old"], [[1, 0]], [{"color": "red"}]))
    assert ids_for(shop, {"color": "red"}) == []


def test_indexed_strings_compare_and_return_on_their_first_64_bytes(shop):
    shop.create_metadata_index("shop", "url", "string")
    long_url = "https://example.com/" + "a" * 60 + "/page-one"
    shop.upsert("shop", vectors(["p1"], [[1, 0]], [{"url": long_url}]))
    assert ids_for(shop, {"url": long_url[:64] + "/a-different-tail"}) == ["p1"]
    [indexed] = shop.query("shop", [1, 0], QueryOptions(return_metadata="indexed"))
    assert indexed.metadata == {"url": long_url[:64]}
    [full] = shop.query("shop", [1, 0], QueryOptions(return_metadata="all"))
    assert full.metadata == {"url": long_url}


def test_nested_properties_use_dots(shop):
    shop.create_metadata_index("shop", "pandas.nice", "number")
    shop.upsert("shop", vectors(["a", "b"], [[1, 0], [0, 1]], [{"pandas": {"nice": 42, "x": 1}}, {"pandas": 1}]))
    assert ids_for(shop, {"pandas.nice": 42}) == ["a"]
    [match] = shop.query("shop", [1, 0], QueryOptions(top_k=1, return_metadata="indexed"))
    assert match.metadata == {"pandas": {"nice": 42}}


def test_boolean_and_number_indexes(shop):
    shop.create_metadata_index("shop", "stock", "boolean")
    shop.create_metadata_index("shop", "price", "number")
    shop.upsert("shop", vectors(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]],
                                [{"stock": True, "price": 9.5}, {"stock": False, "price": 20}, {"stock": 1}]))
    assert ids_for(shop, {"stock": True}) == ["a"]
    assert ids_for(shop, {"stock": False}) == ["b"]
    assert ids_for(shop, {"price": {"$lte": 20}}) == ["a", "b"]
    assert ids_for(shop, {"price": {"$in": [20, 7]}}) == ["b"]


def test_list_create_existing_and_delete(shop):
    first = shop.create_metadata_index("shop", "color", "string")
    again = shop.create_metadata_index("shop", "color", "string")  # succeeds, as the service does
    assert first.id != again.id
    shop.create_metadata_index("shop", "size", "number")
    assert shop.list_metadata_indexes("shop") == [MetadataIndex("color", "string"), MetadataIndex("size", "number")]
    shop.delete_metadata_index("shop", "color")
    assert shop.list_metadata_indexes("shop") == [MetadataIndex("size", "number")]


def test_a_filter_on_a_deleted_metadata_index_matches_nothing(shop):
    shop.create_metadata_index("shop", "color", "string")
    shop.upsert("shop", vectors(["a"], [[1, 0]], [{"color": "red"}]))
    shop.delete_metadata_index("shop", "color")
    assert ids_for(shop, {"color": "red"}) == []


def test_errors(shop):
    with pytest.raises(errors.MetadataIndexNotFound) as info:
        shop.delete_metadata_index("shop", "ghost")
    assert info.value.code == 40005
    with pytest.raises(errors.InvalidMetadataIndex, match="indexType must be one of string, number, boolean"):
        shop.create_metadata_index("shop", "x", "date")
    shop.create_metadata_index("shop", "x", "string")
    with pytest.raises(errors.InvalidMetadataIndex, match="already has a metadata index of type string"):
        shop.create_metadata_index("shop", "x", "number")


def test_at_most_ten_metadata_indexes(shop):
    for n in range(10):
        shop.create_metadata_index("shop", f"p{n}", "string")
    with pytest.raises(errors.TooManyMetadataIndexes) as info:
        shop.create_metadata_index("shop", "p10", "string")
    assert info.value.message == 'too many metadata indexes; max is 10 per index, and "shop" has 10'
    assert len(shop.list_metadata_indexes("shop")) == 10
    shop.create_metadata_index("shop", "p3", "string")  # re-creating an existing one is not an 11th


def test_a_value_the_metadata_index_does_not_hold_is_absent_alone_or_in_an_array(shop):
    """A string on a number index counted as absent ($eq null matched it) but an array holding no number
    (["x"], []) did not: $ne null matched those, although neither holds a value of the index's type."""
    shop.create_metadata_index("shop", "year", "number")
    shop.upsert("shop", vectors(["num", "text", "null", "absent", "list", "empty", "mixed"], [[1, 0]] * 7, [
        {"year": 2020}, {"year": "2020"}, {"year": None}, {"other": 1}, {"year": ["x"]}, {"year": []},
        {"year": ["x", 2020]}]))
    lacking = ["absent", "empty", "list", "null", "text"]
    assert ids_for(shop, {"year": None}) == ids_for(shop, {"year": {"$in": [None]}}) == lacking
    assert ids_for(shop, {"year": {"$ne": None}}) == ids_for(shop, {"year": {"$nin": [None]}}) == ["mixed", "num"]
    assert ids_for(shop, {"year": {"$in": [None, 2020]}}) == sorted(lacking + ["mixed", "num"])
    assert ids_for(shop, {"year": {"$gte": 0}}) == ["mixed", "num"]


def test_indexed_metadata_holds_only_the_values_the_metadata_index_holds(shop):
    """return_metadata="indexed" returned a string under a number index, null under a boolean one and the number
    elements of an array under a string one, which no filter on the index sees."""
    shop.create_metadata_index("shop", "year", "number")
    shop.create_metadata_index("shop", "ok", "boolean")
    shop.create_metadata_index("shop", "tags", "string")
    shop.create_metadata_index("shop", "deep.n", "number")
    long = "L" * 70
    shop.upsert("shop", vectors(["a", "b", "c"], [[1, 0], [0.9, 0.1], [0.8, 0.2]], [
        {"year": "2020", "ok": None, "tags": ["a", long, 5, None], "deep": {"n": [True]}, "x": 1},
        {"year": [1, "x", 2**53 + 1], "ok": [1, False], "tags": [], "deep": {"n": 2.5}},
        {"year": {"n": 1}, "ok": 1, "tags": 7, "deep": 3}]))
    found = shop.query("shop", [1, 0], QueryOptions(top_k=3, return_metadata="indexed"))
    assert [(m.id, m.metadata) for m in found] == [
        ("a", {"tags": ["a", "L" * 64]}), ("b", {"year": [1, 2**53 + 1], "ok": [False], "deep": {"n": 2.5}}),
        ("c", {})]
