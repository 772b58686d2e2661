"""Metadata as columns: flattened keys, None where a row lacks one, repeated strings stored once."""

from vectorize_nb.contract import flat
from vectorize_nb.contract.flat import MetadataColumns, flatten


def test_nested_keys_are_joined_with_a_dot_and_lists_stay_whole():
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": {}, "f": None}) == {"a.b": 1, "a.c.d": [1, 2], "e": {},
                                                                                  "f": None}


def test_columns_gathered_batch_by_batch_hold_none_where_a_row_lacks_a_key():
    columns = MetadataColumns()
    columns.add([{"genre": "a"}, None])
    columns.add([{"year": 2001, "genre": "b"}, {"deep": {"k": True}}])
    assert columns.columns == {"genre": ["a", None, "b", None], "year": [None, None, 2001, None],
                               "deep.k": [None, None, None, True]}
    assert columns.rows == 4


def test_a_string_repeated_down_a_column_is_stored_once(monkeypatch):
    columns = MetadataColumns()
    columns.add({"genre": "".join(["dra", "ma"])} for _ in range(3))
    first, *rest = columns.columns["genre"]
    assert all(value is first for value in rest)
    monkeypatch.setattr(flat, "KEPT_STRINGS", 1)
    text = MetadataColumns()
    text.add([{"t": "one"}])
    text.add([{"t": "".join(["tw", "o"])}, {"t": "".join(["tw", "o"])}])  # free text: kept as it came
    assert text.columns["t"] == ["one", "two", "two"] and text.columns["t"][1] is not text.columns["t"][2]


def test_json_rows_are_flattened_wherever_an_object_hides_and_only_there():
    columns = MetadataColumns()
    columns.add_json([b'{"t":"a{b}"}', None, b"null", b'{"a":{"b":1},"t":"c"}'])
    columns.add_json([b'{"t":"{"}', b'{"u":{}}'])  # braces in a string; an empty object stays a value
    assert columns.columns == {"t": ["a{b}", None, None, "c", "{", None], "a.b": [None, None, None, 1, None, None],
                               "u": [None, None, None, None, None, {}]}


def test_values_of_mixed_types_keep_their_types_where_strings_are_kept_once():
    columns = MetadataColumns()
    columns.add_json([b'{"v":1}', b'{"v":true}', b'{"v":1.0}', b'{"v":"1"}', b'{"v":null}', b'{"v":false}',
                      b'{"v":0}'])
    assert [(type(v), v) for v in columns.columns["v"]] == [(int, 1), (bool, True), (float, 1.0), (str, "1"),
                                                            (type(None), None), (bool, False), (int, 0)]


def test_a_missing_value_does_not_count_as_a_kept_string(monkeypatch):
    monkeypatch.setattr(flat, "KEPT_STRINGS", 2)
    columns = MetadataColumns()
    columns.add([{"t": "one"}, {"t": None}, {}])
    columns.add([{"t": "".join(["tw", "o"])}, {"t": "".join(["tw", "o"])}])  # the second string: still kept once
    kept = columns.columns["t"]
    assert kept == ["one", None, None, "two", "two"] and kept[3] is kept[4]
