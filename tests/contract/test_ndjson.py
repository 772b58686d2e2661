"""Reading NDJSON vectors a line at a time (`wire.read_ndjson`): strict lines, early refusals, and a
property: any bytes at all either become a batch the engine accepts or raise one of the package's
errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vectorize_nb.contract import errors, validation, wire

from ..helpers import TINY

D = 3
PROPERTY = settings(max_examples=300, derandomize=True, database=None, deadline=None)


class CountingStream(io.BytesIO):
    """A body that records how many lines the reader took from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.lines_read = 0

    def readline(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        line = super().readline(size)
        self.lines_read += bool(line)
        return line


def record(vid: str, values=(1.0, 0.0, 0.5), **extra) -> bytes:
    return json.dumps({"id": vid, "values": list(values), **extra}).encode()


def test_two_records_on_one_line_are_40023_and_nothing_is_read_as_a_vector():
    body = record("a") + b"," + record("b") + b"\n" + record("c")
    with pytest.raises(errors.UnparsableVectors) as raised:
        wire.read_ndjson(io.BytesIO(body), "upsert", D, TINY)
    assert raised.value.message == wire.NDJSON_UNPARSABLE.format(line=0)
    assert wire.read_ndjson(io.BytesIO(body), "upsert", D, TINY, discard_unparsable=True).ids == ["c"]


def test_reading_stops_at_the_first_vector_past_the_limit():
    body = CountingStream(b"\n".join(record(f"v{i}") for i in range(6000)))
    with pytest.raises(errors.TooManyVectors) as raised:
        wire.read_ndjson(body, "upsert", D, TINY)
    assert body.lines_read == TINY.max_vectors_per_write + 1
    assert "max is 5000" in raised.value.message and "id='v5000'" in raised.value.message
    assert "line 5000" in raised.value.message


def test_reading_stops_at_the_first_vector_of_the_wrong_width():
    lines = [record(f"v{i}") for i in range(100)]
    lines[9] = record("short", (1.0, 2.0))
    body = CountingStream(b"\n".join(lines))
    with pytest.raises(errors.VectorDimensionMismatch) as raised:
        wire.read_ndjson(body, "upsert", D, TINY)
    assert body.lines_read == 10
    assert raised.value.message == 'invalid vector for id="short", expected 3 dimensions, and got 2 dimensions'


def test_a_line_longer_than_any_record_is_skipped_unread_or_refused():
    longest = wire.max_ndjson_line(D, TINY)
    huge = b'{"id":"big","values":[' + b"1," * longest + b"1]}"
    body = record("a") + b"\n" + huge + b"\n" + record("b")
    with pytest.raises(errors.UnparsableVectors) as raised:
        wire.read_ndjson(io.BytesIO(body), "upsert", D, TINY)
    assert raised.value.message == wire.NDJSON_UNPARSABLE.format(line=1)
    assert wire.read_ndjson(io.BytesIO(body), "upsert", D, TINY, discard_unparsable=True).ids == ["a", "b"]


def test_metadata_is_checked_as_it_is_read_and_kept_as_compact_json():
    body = b"\n".join([record("a", metadata={"genre": "noir", "n": [1, 2]}), record("b"),
                       record("c", namespace="ns")])
    vectors = wire.read_ndjson(io.BytesIO(body), "upsert", D, TINY)
    assert vectors.metadata is None and vectors.metadata_json == [b'{"genre":"noir","n":[1,2]}', None, None]
    assert vectors.namespaces == [None, None, "ns"]
    assert validation.check_vectors(vectors, "upsert", D, TINY).metadata_json == vectors.metadata_json
    with pytest.raises(errors.MetadataTooLarge):
        wire.read_ndjson(io.BytesIO(record("x", metadata={"k": "v" * 20_000})), "upsert", D, TINY)


@pytest.mark.parametrize("values, error", [
    ([1, "2", 3], errors.UnparsableVectors),        # numpy would read "2" as a number
    ([True, False, True], errors.UnparsableVectors),
    ([1, None, 3], errors.UnparsableVectors),
    ([[1], [2], [3]], errors.UnparsableVectors),
    ([1, 2e39, 3], errors.InvalidVector),           # beyond float32: an infinity the engine names
])
def test_values_that_are_not_float32_numbers_are_refused(values, error):
    with pytest.raises(error) as raised:
        wire.read_ndjson(io.BytesIO(record("a", values)), "upsert", D, TINY)
    assert 'id="a"' in raised.value.message


# --- properties ---------------------------------------------------------------------------------

def _accepted_or_refused(body: bytes, discard: bool) -> None:
    """The property: a batch that passed every check (the reader ends with the engine's own), or one of
    the package's errors."""
    try:
        vectors = wire.read_ndjson(io.BytesIO(body), "upsert", D, TINY, discard_unparsable=discard)
    except errors.VectorizeError:
        return
    assert vectors.values.dtype == np.float32 and vectors.values.shape == (len(vectors.ids), D)
    assert np.isfinite(vectors.values).all() and all(isinstance(vid, str) and vid for vid in vectors.ids)


@PROPERTY
@given(st.binary(max_size=400), st.booleans())
def test_any_bytes_parse_to_valid_vectors_or_raise_the_packages_errors(body, discard):
    _accepted_or_refused(body, discard)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
RECORDS = st.fixed_dictionaries(
    {"id": st.text(max_size=70) | JSON_SCALARS,
     "values": st.lists(st.floats(width=64) | st.integers() | JSON_SCALARS, min_size=2, max_size=4)},
    optional={"metadata": JSON_VALUES, "namespace": st.text(max_size=70) | JSON_SCALARS, "extra": JSON_VALUES})


def _line(record: dict) -> bytes:
    return json.dumps(record, allow_nan=True).encode("utf-8", errors="surrogatepass")


@PROPERTY
@given(st.lists(RECORDS, max_size=5), st.sampled_from([b"\n", b"\r\n", b"\n\n", b",", b" "]), st.booleans())
def test_any_records_parse_to_valid_vectors_or_raise_the_packages_errors(records, separator, discard):
    _accepted_or_refused(separator.join(_line(r) for r in records), discard)
