"""A property of the filter parser: any JSON value (and any Python value a caller builds like one)
either parses into clauses that say the same filter again, or raises InvalidFilter."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from vectorize_nb.errors import InvalidFilter
from vectorize_nb.contract.filters import OPERATORS, parse_filter
from vectorize_nb.contract.limits import DEFAULT_LIMITS

KEYS = st.sampled_from(["genre", "year", "a.b", "", "$and", "a..b", 'q"', "x" * 600]) | st.text(max_size=10)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
           | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2))  # lone surrogates
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(OPERATORS) | KEYS, inner, max_size=3), max_leaves=10)
FILTERS = st.dictionaries(KEYS, VALUES, max_size=4) | VALUES


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(FILTERS)
@example({"genre": "\ud800"})  # found by this test: the size check crashed with UnicodeEncodeError
def test_any_value_parses_to_clauses_or_raises_invalid_filter(raw):
    try:
        parsed = parse_filter(raw, DEFAULT_LIMITS)
    except InvalidFilter:
        return
    again = parse_filter(parsed.to_json(), DEFAULT_LIMITS)
    assert again.clauses == parsed.clauses
    assert all(clause.op in OPERATORS and clause.key in raw for clause in parsed.clauses)
