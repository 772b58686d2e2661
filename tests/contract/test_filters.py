import numpy as np
import pytest

from vectorize_nb.errors import InvalidFilter
from vectorize_nb.contract.filters import Clause, evaluate, parse_filter, silent_misses, truncate_utf8
from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.local.columns import MISSING, NumberColumn, StringColumn


def parse(raw):
    return parse_filter(raw, DEFAULT_LIMITS)


def test_implicit_eq_and_explicit_operators():
    flt = parse({"genre": "drama", "year": {"$gte": 1990, "$lt": 2000}, "tags": {"$in": ["a", None]}})
    assert flt.clauses == (
        Clause("genre", "$eq", "drama"), Clause("year", "$gte", 1990), Clause("year", "$lt", 2000),
        Clause("tags", "$in", ["a", None]))
    assert flt.to_json() == {"genre": {"$eq": "drama"}, "year": {"$gte": 1990, "$lt": 2000},
                             "tags": {"$in": ["a", None]}}


def test_empty_and_none_mean_no_filter():
    assert not parse({}) and not parse(None)


@pytest.mark.parametrize("raw, fragment", [
    ([1], "must be a JSON object"),
    ({"": 1}, "non-empty"),
    ({"$and": 1}, "starts with '$'"),
    ({'a"b': 1}, "contains '\"'"),
    ({"a..b": 1}, "empty part between dots"),
    ({"a": [1, 2]}, "a list needs an operator"),
    ({"a": {}}, "operator object is empty"),
    ({"a": {"$regex": "x"}}, "unknown operator '$regex'"),
    ({"a": {"b": 1}}, 'write "a.b"'),
    ({"a": {"$gt": 1, "$gte": 2}}, "cannot be combined"),
    ({"a": {"$eq": 1, "$ne": 2}}, "cannot be combined"),
    ({"a": {"$in": "x"}}, "$in takes a list"),
    ({"a": {"$lt": True}}, "$lt takes a string or a number"),
    ({"a": {"$gt": None}}, "$gt takes a string or a number"),
    ({"a": {"$eq": [1]}}, "takes a string, number, boolean or null"),
    ({"a": float("nan")}, "must be finite"),
    ({"k" * 513: 1}, "max is 512 characters, got 513"),
])
def test_malformed_filters_name_the_key_and_rule(raw, fragment):
    with pytest.raises(InvalidFilter) as info:
        parse(raw)
    assert fragment in info.value.message
    assert info.value.code == 40110


def test_filter_json_must_be_under_2048_bytes():
    value = "x" * (2048 - len('{"k":""}'))
    with pytest.raises(InvalidFilter, match="under 2048 bytes, got 2048 bytes"):
        parse({"k": value})
    assert parse({"k": value[:-1]})


def test_truncate_utf8_cuts_on_a_character_boundary():
    assert truncate_utf8("a" * 63 + "é", 64) == "a" * 63  # é is two bytes: it does not fit
    assert truncate_utf8("é" * 40, 64) == "é" * 32
    assert truncate_utf8("short", 64) == "short"


def make_columns():
    genre = StringColumn(6)
    year = NumberColumn(6)
    # row 0 predates the indexes (never written); rows 1..5 were written after
    genre.write([1, 2, 3, 4, 5], ["drama", "comedy", ["drama", "noir"], MISSING, None])
    year.write([1, 2, 3, 4, 5], [1990, 2001, 1995, MISSING, "not a number"])
    return {"genre": genre, "year": year}


@pytest.mark.parametrize("raw, rows", [
    ({"genre": "drama"}, [1, 3]),                 # arrays match when any element does
    ({"genre": {"$ne": "drama"}}, [2, 4, 5]),      # absent and null values are "not equal"; row 0 predates
    ({"genre": {"$in": ["comedy", "noir"]}}, [2, 3]),
    ({"genre": {"$nin": ["comedy"]}}, [1, 3, 4, 5]),
    ({"genre": {"$in": []}}, []),                  # in nothing: no vector
    ({"year": {"$nin": []}}, [1, 2, 3, 4, 5]),     # not in nothing: every vector written since the index
    ({"genre": None}, [4, 5]),                     # $eq null: null or absent
    ({"genre": {"$gte": "d", "$lt": "e"}}, [1, 3]),  # prefix search idiom
    ({"year": {"$gte": 1990, "$lt": 2000}}, [1, 3]),
    ({"year": {"$gt": 2000}}, [2]),
    ({"year": "1990"}, []),                        # type mismatch matches nothing
    ({"year": {"$ne": "x"}}, []),
    ({"genre": "drama", "year": {"$lt": 1992}}, [1]),
    ({"unindexed": "x"}, []),                      # no metadata index: nothing matches
])
def test_evaluate_follows_the_decided_semantics(raw, rows):
    mask = evaluate(parse(raw), make_columns(), 6)
    assert np.flatnonzero(mask).tolist() == rows


def test_evaluate_without_clauses_is_none():
    assert evaluate(parse({}), make_columns(), 6) is None


def test_string_operands_compare_on_their_first_64_bytes():
    column = StringColumn(2)
    column.write([0, 1], ["p" * 64 + "-stored-tail", "p" * 63])
    assert np.flatnonzero(column.match("$eq", "p" * 64 + "-other-tail", 2)).tolist() == [0]


@pytest.mark.parametrize("raw, misses", [
    ({"b": {"$in": [1, None]}}, []), ({"b": {"$nin": ["x", None]}}, []), ({"b": {"$in": []}}, []),
    ({"b": {"$in": [1, "x"]}}, ["type"]), ({"b": {"$nin": [1]}}, ["type"]), ({"b": 1}, ["type"])])
def test_a_list_holding_null_is_no_silent_miss_as_null_matches_vectors_without_a_value(raw, misses):
    """{"b": {"$in": [1, None]}} on a boolean index was warned of (and refused as an F condition) as matching
    nothing, though the engine ignores the 1 and matches the vectors without a boolean, as for [None]."""
    assert [miss.reason for miss in silent_misses(parse(raw), {"b": "boolean"}, "films")] == misses


@pytest.mark.parametrize("raw, shown", [
    ({"n": {"$lt": 10**400}}, "$lt operand must be a number a float64 holds (at most about 1.8e308), got 1000000"),
    ({"n": -(10**400)}, "$eq operand must be a number a float64 holds (at most about 1.8e308), got -1000000"),
    ({"n": {"$in": [1, 10**400]}}, "(401 digits)"), ({"n": {"$gt": 10**5000}}, "got an integer of about 5001 digits")])
def test_an_integer_beyond_a_float64_is_refused_naming_it(raw, shown):
    """10**400 passed the grammar and raised a bare OverflowError where the engine compared it as a float."""
    with pytest.raises(InvalidFilter) as info:
        parse(raw)
    assert info.value.code == 40110 and shown in info.value.message and "filter on 'n'" in info.value.message


def test_the_largest_integers_a_float64_holds_are_kept_exact():
    assert parse({"n": {"$lt": 2**1023, "$gt": -(2**1023)}}).to_json() == {"n": {"$lt": 2**1023, "$gt": -(2**1023)}}


def test_an_integer_is_refused_exactly_where_a_float64_would_be_infinite():
    edge = 2**1024 - 2**970
    assert parse({"n": edge - 1}).clauses[0].operand == edge - 1
    with pytest.raises(InvalidFilter, match="a float64 holds"):
        parse({"n": edge})
