"""Metadata as columns: flattened keys, None where a row lacks one, repeated strings stored once."""

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


KEYS = st.sampled_from(["genre", "year", "a", "b", "{", "x}"])
SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.0, 1.0, 2.5]) | \
    st.sampled_from(["", "a", "1", "{", "}{", '{"k":1}'])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(KEYS, inner, max_size=2),
                      max_leaves=6)
ROWS = st.lists(st.none() | st.dictionaries(KEYS, VALUES, max_size=3), max_size=12)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(ROWS, st.integers(1, 5))
def test_json_rows_become_the_columns_a_row_by_row_flatten_makes(rows, batch):
    columns = MetadataColumns()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flat, "DECODED_ROWS", batch)  # rows in batches of 1 to 5: keys first seen in later ones
        columns.add_json([None if row is None else orjson.dumps(row) for row in rows])
    flats = [flatten(row) for row in rows]
    expected = {name: [f.get(name) for f in flats] for name in dict.fromkeys(k for f in flats for k in f)}
    typed = lambda cols: {name: [(type(v), v) for v in values] for name, values in cols.items()}  # 1 is not True
    assert typed(columns.columns) == typed(expected) and columns.rows == len(rows)
