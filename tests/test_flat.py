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
