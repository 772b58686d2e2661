"""A filter answers alike on the embedded engine and through a REST client: `matches_filter` over REST (worked
out from fetched metadata) says what the engine's own filter says, and the same filter gives the same ids."""

import random
import warnings

import pandas as pd
import pytest

import vectorize_nb as vz

from .congruence.conftest import Clock, open_backend

LONG = "L" * 63
POOL = [0, 1, -0.0, 2, 2.5, 2**53, 2**53 + 1, -7, True, False, "a", "b", "", LONG, LONG + "é", LONG + "x", "é", None]
"""Values both stored and asked for: numbers next to the booleans Python takes for 0 and 1, integers a float64
cannot tell apart, strings equal on their first 64 bytes."""
INDEXES = {"n": "number", "b": "boolean", "s": "string"}
"""Indexed properties holding any value; "m" holds only numbers (a fetched frame's column of float64, NaN where
a vector lacks it)."""


@pytest.fixture(scope="module")
def targets():
    """The same vectors on the embedded engine and on a served one, as (embedded index, REST index)."""
    with open_backend("local", Clock()) as embedded, open_backend("rest", Clock()) as rest:
        yield tuple(_filled(vz.Client(backend, kind)) for backend, kind in ((embedded, "local"), (rest, "rest")))


def _filled(client):
    index = client.create_index("films", 2)
    for name, kind in {**INDEXES, "m": "number"}.items():
        index.create_metadata_index(name, kind)
    rows = random.Random(11)
    metadata = [{"n": 1, "b": 1}, {"n": 0, "b": 0}, {"n": 2, "b": True}, {"n": ["x"], "s": [1, True]}, {"n": []},
                {"n": "x", "b": None}, {"n": [True, 2**53 + 1], "s": ["b", 5]}, {"n": {"deep": 1}}, {}]
    for _ in range(40):
        metadata.append({key: _value(rows) for key in INDEXES if rows.random() < 0.8})
    for position, row in enumerate(metadata):
        row.update({"m": position} if position % 2 else {})
    ids = [f"v{position}" for position in range(len(metadata))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # values of another type than their index are warned of
        index.upsert(ids, [[1, position % 3] for position in range(len(ids))], metadata=metadata, wait=True)
    return index


def _value(rows):
    if rows.random() < 0.25:
        return [rows.choice(POOL) for _ in range(rows.randrange(4))]
    return rows.choice(POOL)


def _filter(rows):
    key = rows.choice(list(INDEXES))
    op = rows.choice(["$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"])
    if op in ("$in", "$nin"):
        return {key: {op: [rows.choice(POOL) for _ in range(rows.randrange(4))]}}
    if op in ("$eq", "$ne"):
        return {key: {op: rows.choice(POOL)}}
    return {key: {op: rows.choice([v for v in POOL if isinstance(v, (int, float, str)) and not isinstance(v, bool)])}}


FOUND = [{"n": {"$nin": [5, True]}}, {"n": {"$in": [5, True]}}, {"b": {"$in": [False, 1]}}, {"b": {"$nin": [False, 1]}},
         {"n": {"$nin": [5, None, True]}}, {"n": None}, {"n": {"$ne": None}}, {"s": None}, {"n": 2**53},
         {"n": {"$gte": 2**53 + 1}}, {"s": LONG + "z"}, {"s": {"$lt": LONG + "é"}},
         {"m": None}, {"m": {"$ne": None}}, {"m": {"$nin": [3, None]}}, {"m": {"$lt": 10}},
         {"n": {"$lt": 2**64}}, {"n": -(2**63) - 1}, {"n": {"$in": [2**64, 2]}}, {"m": {"$gt": -(10**300)}}]
"""The audit's cases: Python's True == 1, arrays holding no value of the index's type, float64 equality,
integers beyond 64 bits (which the REST client could not send)."""


def _answers(index, flt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a clause of another type than its index is warned of
        ids = sorted(index.to_frame()["id"])
        said = index.matches_filter(ids, flt)
        queried = sorted(index.query([1, 1], 100, filter=flt)["id"])
    return sorted(said[said].index), queried


@pytest.mark.parametrize("flt", FOUND + [_filter(random.Random(seed)) for seed in range(120)], ids=str)
def test_matches_filter_over_rest_says_what_the_engine_says(targets, flt):
    """Over REST matches_filter took True for 1 ({"n": {"$in": [5, True]}} matched n=1) and compared numbers
    exactly where the index compares float64, unlike the query the same server answers."""
    embedded, rest = targets
    said, queried = _answers(rest, flt)
    assert said == queried == _answers(embedded, flt)[0]


BEYOND = [{"n": {"$lt": 10**400}}, {"n": 10**400}, {"n": {"$in": [10**400]}}]
CALLS = {"query": lambda index, flt: index.query([1, 0], 5, filter=flt),
         "explain_filter": lambda index, flt: index.explain_filter(flt),
         "check_filter": lambda index, flt: index.check_filter(flt),
         "matches_filter": lambda index, flt: index.matches_filter(["v0"], flt)}


@pytest.mark.parametrize("flt", BEYOND, ids=["$lt", "$eq", "$in"])
@pytest.mark.parametrize("call", CALLS)
def test_an_integer_beyond_a_float64_is_an_invalid_filter_on_both_targets(targets, flt, call):
    """The engine raised a bare OverflowError (check_filter let it through); the REST client a TypeError."""
    for index in targets:
        with pytest.raises(vz.errors.InvalidFilter) as refused:
            CALLS[call](index, flt)
        assert refused.value.code == 40110 and "float64" in refused.value.message


def test_an_f_condition_with_an_integer_beyond_a_float64_is_refused_as_it_is_built():
    with pytest.raises(vz.errors.InvalidFilter, match="float64"):
        vz.F("n") < 10**400  # noqa: B015


def test_indexed_metadata_is_what_the_metadata_indexes_hold_on_both_targets(targets):
    """A string under a number index, null under a boolean one, numbers in an array under a string one came back."""
    embedded, rest = targets
    frames = [index.query([1, 1], 100, return_metadata="indexed").set_index("id").sort_index() for index in targets]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    rows = frames[1].astype(object).where(frames[1].notna(), None)
    assert rows.loc[["v3", "v4", "v5", "v6"], ["n", "b", "s"]].to_dict("index") == {
        "v3": {"n": None, "b": None, "s": None}, "v4": {"n": None, "b": None, "s": None},
        "v5": {"n": None, "b": None, "s": None}, "v6": {"n": [2**53 + 1], "b": None, "s": ["b"]}}
