import numpy as np
import pytest

from vectorize_nb.contract import errors, validation
from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.contract.models import IndexConfig, QueryOptions, Vectors

L = DEFAULT_LIMITS


def batch(ids, width=32, metadata=None, namespaces=None):
    return Vectors(list(ids), np.ones((len(ids), width), np.float32), metadata, namespaces)


@pytest.mark.parametrize("name", ["ab", "movies-2024", "a_b-c9", "x" * 64])
def test_valid_index_names(name):
    assert validation.index_name(name, L) == name


@pytest.mark.parametrize("name", ["a", "Movies", "9lives", "ends-", "has space", "x" * 65, "", None])
def test_invalid_index_names(name):
    with pytest.raises(errors.InvalidIndexName, match="is not valid"):
        validation.index_name(name, L)


def test_index_config_from_dimensions_or_preset():
    assert validation.index_config(768, "dot-product", None, L) == IndexConfig(768, "dot-product")
    assert validation.index_config(None, None, "@cf/baai/bge-small-en-v1.5", L) == IndexConfig(
        384, "cosine", "@cf/baai/bge-small-en-v1.5") == validation.index_config(
        384, "cosine", "@cf/baai/bge-small-en-v1.5", L)


@pytest.mark.parametrize("dims, metric, preset, message", [
    (None, None, None, "Config must be provided"),
    (31, "cosine", None, "Dimensions must be in range: [32, 1536], got 31"),
    (1537, "cosine", None, "got 1537"),
    (32.5, "cosine", None, "got 32.5"),
    (64, "Cosine", None, "Metric must be one of cosine, euclidean, dot-product, got 'Cosine'"),
    (None, None, "@cf/unknown", "Unknown preset '@cf/unknown'"),
    (32, None, "@cf/baai/bge-small-en-v1.5", "makes an index of 384 dimensions and metric cosine, got dimensions=32"),
    (None, "dot-product", "@cf/baai/bge-base-en-v1.5", "got dimensions=None and metric='dot-product' with it"),
])
def test_invalid_index_configs(dims, metric, preset, message):
    with pytest.raises(errors.InvalidIndexConfig) as info:
        validation.index_config(dims, metric, preset, L)
    assert message in info.value.message


def test_ids_are_non_empty_strings_of_at_most_64_bytes():
    with pytest.raises(errors.IdTooLong, match='max is 64 bytes, got 66 bytes') as info:
        validation.check_vectors(batch(["ok", "é" * 33]), "upsert", 32, L)
    assert "éééé" in info.value.message
    with pytest.raises(errors.InvalidVector, match="must not be empty at row 1"):
        validation.check_vectors(batch(["ok", ""]), "upsert", 32, L)
    with pytest.raises(errors.InvalidVector, match="must be a string, got int 7 at row 0"):
        validation.check_vectors(batch([7]), "upsert", 32, L)


def test_wrong_dimensions_name_the_first_id():
    with pytest.raises(errors.VectorDimensionMismatch) as info:
        validation.check_vectors(batch(["a", "b"], width=3), "upsert", 32, L)
    assert info.value.message == 'invalid vector for id="a", expected 32 dimensions, and got 3 dimensions'


@pytest.mark.parametrize("poison, expected", [(None, None), ((3, 1, np.nan), 3), ((0, 7, -np.inf), 0),
                                             ((9, 0, np.inf), 9)])
def test_first_non_finite_row(poison, expected):
    values = np.ones((10, 8), dtype=np.float32)
    if poison is not None:
        values[poison[0], poison[1]] = poison[2]
    assert validation.first_non_finite_row(values) == expected


def test_finite_numbers_whose_row_sum_overflows_float32_are_finite():
    values = np.full((4, 8), 3e38, dtype=np.float32)  # every row sums to inf in float32
    assert validation.first_non_finite_row(values) is None
    assert validation.first_non_finite_row(np.empty((0, 8), dtype=np.float32)) is None


def test_non_finite_values_name_the_id_and_position():
    vectors = batch(["a", "b"])
    vectors.values[1, 5] = np.inf
    finite = "values must be finite numbers within float32.s range .±3.4e38."
    with pytest.raises(errors.InvalidVector, match=f'id="b": {finite}, got inf at position 5'):
        validation.check_vectors(vectors, "upsert", 32, L)


def test_namespace_limit():
    with pytest.raises(errors.NamespaceTooLong, match='for id="b"; max is 64 bytes, got 65 bytes'):
        validation.check_vectors(batch(["a", "b"], namespaces=[None, "n" * 65]), "upsert", 32, L)


@pytest.mark.parametrize("metadata, fragment", [
    ({"a.b": 1}, 'key "a.b" contains "."'),
    ({'a"b': 1}, "contains '\"'"),
    ({"$a": 1}, 'key "$a" starts with "$"'),
    ({"": 1}, "an empty key"),
    ({"outer": {"in.ner": 1}}, 'key "in.ner" contains "." (dots are reserved for nesting) in outer'),
    ({"x": float("nan")}, "x is nan, and JSON has no NaN"),
    ({"x": [1, float("inf")]}, "x[1] is inf"),
    ({"x": object()}, "x is a object, which JSON cannot hold"),
    ({"x": 2 ** 70}, "Integer exceeds 64-bit range"),
    (["not", "an", "object"], "expected an object, got an array"),
])
def test_invalid_metadata_names_the_id_and_key(metadata, fragment):
    with pytest.raises(errors.InvalidMetadata) as info:
        validation.check_vectors(batch(["v1"], metadata=[metadata]), "upsert", 32, L)
    assert 'id="v1"' in info.value.message and fragment in info.value.message


def test_metadata_size_limit_is_10_kib_of_compact_json():
    exactly = {"t": "x" * (10240 - len('{"t":""}'))}
    assert len(validation.check_vectors(batch(["v"], metadata=[exactly]), "upsert", 32, L).metadata_json[0]) == 10240
    with pytest.raises(errors.MetadataTooLarge, match='id="v"; max is 10240 bytes, got 10241 bytes'):
        validation.check_vectors(batch(["v"], metadata=[{"t": exactly["t"] + "x"}]), "upsert", 32, L)


def test_metadata_nests_as_deep_as_its_json_can_be_written():
    def nested(levels, inner):
        value = inner
        for _ in range(levels - 1):
            value = {"a": value}
        return value

    deepest = nested(254, {"a": 1})
    stored = validation.check_vectors(batch(["v"], metadata=[deepest]), "upsert", 32, L).metadata_json[0]
    assert stored.count(b"{") == 254
    for too_deep in (nested(255, {"a": 1}), nested(254, {"a": [1]})):
        with pytest.raises(errors.InvalidMetadata, match=r'"a\.a\.a.*" is nested 255 levels deep'):
            validation.check_vectors(batch(["v"], metadata=[too_deep]), "upsert", 32, L)


def test_numpy_scalars_in_metadata_are_json():
    encoded = validation.check_vectors(batch(["v"], metadata=[{"n": np.int64(3), "f": np.float32(0.5),
                                                                "b": np.bool_(True)}]), "upsert", 32, L)
    assert encoded.metadata_json == [b'{"n":3,"f":0.5,"b":true}']


def test_too_many_vectors_per_write():
    validation.write_count(5000, L)
    with pytest.raises(errors.TooManyVectors, match="max is 5000, got 5001"):
        validation.write_count(5001, L)
    assert len(validation.check_vectors(batch([str(i) for i in range(5001)]), "upsert", 32, L)) == 5001  # any size


def test_top_k_caps_and_messages():
    assert validation.query_options(QueryOptions(top_k=100), L).top_k == 100
    assert validation.query_options(QueryOptions(top_k=7.0), L).top_k == 7
    with pytest.raises(errors.TopKTooLarge) as info:
        validation.query_options(QueryOptions(top_k=101), L)
    assert info.value.message == "max top K is 100, but got 101"
    assert "without values" not in str(info.value)  # the hint told of a larger topK, which there is not
    with pytest.raises(errors.TopKTooLarge) as info:
        validation.query_options(QueryOptions(top_k=60, return_metadata="all"), L)
    assert info.value.message == ("with returnValues=true or returnMetadata=all, max top K is 50, but got 60; for a "
                                  "top K up to 100, retry with returnValues=false and returnMetadata=indexed")
    assert validation.query_options(QueryOptions(top_k=100, return_metadata="indexed"), L).top_k == 100
    for bad in (0, -1, 2.5):
        with pytest.raises(errors.InvalidQuery, match="whole number of at least 1"):
            validation.query_options(QueryOptions(top_k=bad), L)
    for bad in (True, "5", None):
        with pytest.raises(errors.MalformedRequest, match="topK: expected a number"):
            validation.query_options(QueryOptions(top_k=bad), L)


def test_return_metadata_must_be_a_mode():
    with pytest.raises(errors.MalformedRequest) as info:  # as the service words it
        validation.query_options(QueryOptions(return_metadata=True), L)
    assert info.value.message == "Failed to parse the request body as JSON: returnMetadata: expected value"
    with pytest.raises(errors.MalformedRequest, match='returnMetadata: expected one of "none", "indexed", "all"'):
        validation.query_options(QueryOptions(return_metadata="al"), L)


def test_query_vector_length_and_values():
    with pytest.raises(errors.QueryDimensionMismatch) as info:
        validation.query_vector([], 32)
    assert info.value.message == "invalid query vector, expected 32 dimensions, and got 0 dimensions"
    with pytest.raises(errors.QueryDimensionMismatch) as info:
        validation.query_vector(np.ones((1, 32)), 32)
    assert info.value.message == ("invalid query vector, expected one vector of 32 dimensions, and got an array of "
                                  "shape (1, 32)")
    with pytest.raises(errors.InvalidQuery, match=r"finite numbers within float32.s range .*, got inf at position 1"):
        validation.query_vector([0, 1e39] + [0] * 30, 32)
    with pytest.raises(errors.InvalidQuery, match="finite"):
        validation.query_vector([np.nan] * 32, 32)


def test_list_count_range():
    assert validation.list_count(None, L) == 100
    assert validation.list_count(1000, L) == 1000
    for bad in (0, 1001, 2.5):
        with pytest.raises(errors.InvalidListCount, match="from 1 to 1000"):
            validation.list_count(bad, L)


def test_id_lists():
    with pytest.raises(errors.TooManyIds) as info:
        validation.id_list(["x"] * 21, 20, L)
    assert info.value.message == "too many ids in payload; max id count is 20, got 21"
    with pytest.raises(errors.MalformedRequest, match="list of strings"):
        validation.id_list("abc", 20, L)


def test_metadata_encoded_by_the_caller_is_taken_as_it_is():
    encoded = [b'{"a":1}']
    checked = validation.check_vectors(batch(["v"], metadata=[{"a": 1}]), "upsert", 32, L, metadata_json=encoded)
    assert checked.metadata_json == encoded and checked.metadata_json is not encoded


@pytest.mark.parametrize("kind, ids, kept", [("insert", ["a", "b"], [1, 2]), ("upsert", ["b", "a"], [2, 3])])
def test_repeated_ids_are_resolved_once_first_for_insert_last_for_upsert(kind, ids, kept):
    vectors = Vectors(["a", "b", "a"], np.array([[1], [2], [3]], np.float32), [{"n": 1}, {"n": 2}, {"n": 3}])
    checked = validation.check_vectors(vectors, kind, 1, L.with_changes(min_dimensions=1))
    assert checked.ids == ids and checked.values.ravel().tolist() == kept
    assert checked.metadata_json == [b'{"n":%d}' % n for n in kept]


def test_a_preset_that_is_not_a_string_is_an_invalid_config_not_a_crash():
    with pytest.raises(errors.InvalidIndexConfig, match="Unknown preset"):
        validation.index_config(None, None, {}, DEFAULT_LIMITS)
