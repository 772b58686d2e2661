import contextlib
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import F
from vectorize_nb.contract.filters import parse_filter
from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.errors import InvalidFilter

from .helpers import TINY


def test_operators_compile_to_filter_json():
    assert (F("genre") == "drama").to_json() == {"genre": {"$eq": "drama"}}
    assert (F("genre") != None).to_json() == {"genre": {"$ne": None}}  # noqa: E711
    assert (F("year") < 2000).to_json() == {"year": {"$lt": 2000}}
    assert (F("year") >= 1990).to_json() == {"year": {"$gte": 1990}}
    assert F("lang").isin(["en", "fr"]).to_json() == {"lang": {"$in": ["en", "fr"]}}
    assert F("lang").notin(("de",)).to_json() == {"lang": {"$nin": ["de"]}}
    assert F("pandas.nice").between(1, 9).to_json() == {"pandas.nice": {"$gte": 1, "$lte": 9}}
    assert F("t").between(1, 9, inclusive="neither").to_json() == {"t": {"$gt": 1, "$lt": 9}}
    assert F("url").startswith("net").to_json() == {"url": {"$gte": "net", "$lt": "neu"}}


def test_startswith_past_the_last_characters_and_the_64_bytes_compared():
    """A prefix ending in U+10FFFF raised chr()'s ValueError, one ending in U+D7FF was refused for a "\\ud800"
    never written, and one over 64 bytes matched nothing, not even values that begin with it."""
    assert F("t").startswith("a\U0010FFFF").to_json() == {"t": {"$gte": "a\U0010FFFF", "$lt": "b"}}
    assert F("t").startswith("\U0010FFFF").to_json() == {"t": {"$gte": "\U0010FFFF"}}
    assert F("t").startswith("a\ud7ff").to_json() == {"t": {"$gte": "a\ud7ff", "$lt": "a\ue000"}}
    assert F("t").startswith("é" * 32).to_json() == {"t": {"$gte": "é" * 32, "$lt": "é" * 31 + "ê"}}
    with pytest.raises(InvalidFilter) as refused:
        F("path").startswith("/runs/" + "x" * 58 + "-")
    assert str(refused.value).startswith(
        f"[40110] filter on 'path': startswith('/runs/{'x' * 58}-') is over 64 bytes, and a metadata index compares "
        f"the first 64 bytes of a string; startswith('/runs/{'x' * 58}') matches the values that begin so")


def test_and_joins_keys():
    flt = (F("genre") == "drama") & F("year").between(1990, 1999) & (F("ok") == True)  # noqa: E712
    assert flt.to_json() == {"genre": {"$eq": "drama"}, "year": {"$gte": 1990, "$lte": 1999}, "ok": {"$eq": True}}
    assert repr(F("a") == 1) == "F('a') == 1"


def test_a_conditions_repr_is_python_that_builds_it_again():
    """It read `F('genre') == 'drama' & F('year') >= 1990`, which Python groups as 'drama' & F('year')."""
    condition = (F("genre") == "drama") & F("year").between(1990, 1999) & F("lang").isin(["en"]) \
        & F("tag").notin(["x"]) & (F("ok") != None)  # noqa: E711
    assert repr(condition) == ("(F('genre') == 'drama') & (F('year') >= 1990) & (F('year') <= 1999) & "
                               "(F('lang').isin(['en'])) & (F('tag').notin(['x'])) & (F('ok') != None)")
    assert eval(repr(condition), {"F": F}) == condition


def test_or_and_not_say_vectorize_has_none():
    with pytest.raises(InvalidFilter, match="no OR"):
        (F("a") == 1) | (F("b") == 2)
    with pytest.raises(InvalidFilter, match="no NOT"):
        ~(F("a") == 1)
    with pytest.raises(TypeError, match="join conditions with &"):
        (F("a") == 1) and (F("b") == 2)


@pytest.mark.parametrize("misuse", [
    lambda: (F("a") == 1) or (F("b") == 2),
    lambda: F("g") in ["drama", "comedy"],
    lambda: 0 < F("x") < 2,
])
def test_a_condition_used_as_a_truth_value_says_how_to_write_or_in_and_a_range(misuse):
    """`or`, `in [...]` and `0 < F(x) < 2` were all told "combine conditions with & (not 'and')"."""
    with pytest.raises(TypeError) as raised:
        misuse()
    assert str(raised.value) == ("a filter condition has no truth value: join conditions with & (not 'and'; "
                                 "Vectorize has no OR, so no 'or' or '|'); for membership use F(key).isin([...]), "
                                 "for a range F(key).between(lo, hi)")


def test_the_grammar_is_checked_as_the_filter_is_built():
    with pytest.raises(InvalidFilter, match="cannot be combined"):
        (F("year") > 1) & (F("year") == 5)
    with pytest.raises(InvalidFilter, match=r"\$gt is given twice"):
        (F("year") > 1) & (F("year") > 2)
    with pytest.raises(InvalidFilter, match=r"\$lt takes a string or a number"):
        _ = F("year") < None
    with pytest.raises(InvalidFilter, match="starts with '\\$'"):
        _ = F("$and") == 1
    with pytest.raises(ValueError, match="inclusive"):
        F("x").between(1, 2, inclusive="some")


def test_numpy_scalars_from_a_frame_are_json_numbers_and_booleans():
    years = pd.Series([1999, 2001, 1999])
    condition = (F("year").isin(years.unique()) & (F("rating") >= np.float32(0.5)) & (F("new") == np.bool_(True))
                 & F("n").between(np.int64(1), years.iloc[1]))
    assert condition.to_json() == {"year": {"$in": [1999, 2001]}, "rating": {"$gte": 0.5}, "new": {"$eq": True},
                                   "n": {"$gte": 1, "$lte": 2001}}
    assert all(type(v) in (int, float, bool) for ops in condition.to_json().values() for operand in ops.values()
               for v in (operand if isinstance(operand, list) else [operand]))
    assert parse_filter({"year": {"$in": [np.int64(1999)]}}, DEFAULT_LIMITS).to_json() == {"year": {"$in": [1999]}}


@pytest.mark.parametrize("when", [pd.Timestamp("2024-03-05 10:00"), np.datetime64("2024-03-05T10:00")])
def test_a_date_in_a_filter_says_how_dates_are_stored_and_what_to_compare_with(when):
    """It said only "takes a string or a number, got Timestamp"; a datetime column is written as ISO 8601 text."""
    for condition in (lambda: F("when") >= when, lambda: F("when") == when, lambda: F("when").isin([when])):
        with pytest.raises(InvalidFilter) as refused:
            condition()
        assert "a date is stored as the text written (df.vectorize.upsert writes a datetime as ISO 8601, " \
               "'2024-03-05T10:00:00'): compare with such a string" in str(refused.value)


@pytest.mark.parametrize("when", [date(2024, 3, 5), datetime(2024, 3, 5, 11, 0, tzinfo=timezone(timedelta(hours=1))),
                                  pd.Timestamp("2024-03-05 10:00:00.25"), np.datetime64("2024-03-05")],
                         ids=["date", "aware", "fraction", "day64"])
def test_the_text_a_date_filter_offers_is_the_text_upsert_stored(when):
    """It offered date(2024, 3, 5).isoformat(), '2024-03-05', where df.vectorize.upsert stores '2024-03-05T00:00:00':
    `F("when") == '2024-03-05'` then matched nothing (and an aware time was offered in its own zone, not UTC)."""
    import re

    import vectorize_nb as vz

    index = vz.connect("memory").create_index("dates", dimensions=32)
    frame = pd.DataFrame({"id": ["a"], "v": [np.ones(32)], "when": pd.Series([when], dtype=object)})
    frame.vectorize.upsert(index, id="id", vector="v", metadata=["when"], wait=True)
    stored = index.get_by_ids(["a"])["when"].iloc[0]
    with pytest.raises(InvalidFilter) as refused:
        F("when") == when  # noqa: B015
    offered = re.search(r"as ISO 8601, '([^']+)'\)", str(refused.value))
    assert offered is not None and offered[1] == stored


def test_equal_conditions_hash_alike():
    """Equality compares the filter (clause order and 1 vs 1.0 aside); the hash used the repr, which does not."""
    first = (F("a") == 1) & F("tag").isin(["x", "y"])
    second = F("tag").isin(["x", "y"]) & (F("a") == 1.0)
    assert first == second and hash(first) == hash(second) and len({first, second}) == 1


@pytest.mark.parametrize("method, op", [("isin", "$in"), ("notin", "$nin")])
def test_isin_given_one_string_is_refused_not_split_into_letters(method, op):
    """F("genre").isin("drama") was {"$in": ["d", "r", "a", "m", "a"]}: a filter that matched nothing, silently."""
    with pytest.raises(InvalidFilter) as raised:
        getattr(F("genre"), method)("drama")
    assert str(raised.value) == (f"[40110] filter on 'genre': {op} takes a list, got the string 'drama'; "
                                 f"F('genre').{method}(['drama']) for that one value")  # no dict grammar for F


def test_a_float32_cell_of_a_frame_finds_the_rows_that_frame_wrote():
    """A float32 cell is written as its shortest decimal (0.1), but the same cell in a filter was its exact double
    (0.10000000149011612): {"p": df.p.iloc[0]}, F("p") == ... and $in of the column matched nothing."""
    frame = pd.DataFrame({"id": ["a", "b"], "values": [[1.0, 0.0], [0.0, 1.0]],
                          "p": np.array([0.1, 0.7], np.float32)})
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", 2, "cosine")
        index.create_metadata_index("p", "number")
        frame.vectorize.upsert(index, id="id", vector="values", metadata=["p"], wait=True)
        first, both = frame.p.iloc[0], ["a", "b"]
        for condition, expected in [({"p": first}, ["a"]), (F("p") == first, ["a"]), (F("p") <= first, ["a"]),
                                    ({"p": {"$in": list(frame.p.to_numpy())}}, both), (F("p").isin(frame.p), both)]:
            assert index.query([1.0, 0.0], top_k=5, filter=condition)["id"].tolist() == expected, condition
    assert parse_filter({"p": np.float32(0.1)}, DEFAULT_LIMITS).to_json() == {"p": {"$eq": 0.1}}
    assert parse_filter({"p": np.float16(0.1)}, DEFAULT_LIMITS).to_json() == {"p": {"$eq": 0.1}}


@pytest.mark.parametrize("target", ["memory", "served"])
def test_a_float32_in_record_metadata_is_filtered_as_the_json_stored(target):
    """The engine stored np.float32(0.1) in a record's metadata as the JSON 0.1 but filtered on its exact double,
    so {"p": 0.1} (and, since float32 operands are shortest decimals, {"p": np.float32(0.1)}) matched nothing there,
    while a served engine matched it."""
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(vz.connect("memory", limits=TINY))
        if target == "served":
            server = stack.enter_context(vz.serve(engine=client.backend, port=0))
            client = stack.enter_context(vz.connect(server.url))
        index = client.create_index("docs", 2, "cosine")
        index.create_metadata_index("p", "number")
        index.wait()
        index.upsert([{"id": "a", "values": [1.0, 0.0], "metadata": {"p": np.float32(0.1)}}], wait=True)
        for condition in ({"p": 0.1}, {"p": np.float32(0.1)}, F("p") == np.float32(0.1)):
            assert index.query([1.0, 0.0], filter=condition)["id"].tolist() == ["a"], condition
