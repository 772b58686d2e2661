"""Reading an index by id: the arguments of matches_filter, get_by_ids, to_frame, df.vectorize.fetch, iter_ids."""

import numpy as np
import pandas as pd
import pytest

import vectorize_nb as vz
from vectorize_nb import F, errors

from .helpers import TINY


@pytest.fixture
def index():
    with vz.connect("memory", limits=TINY) as client:
        index = client.create_index("docs", dimensions=2)
        index.create_metadata_index("n", "number")
        index.upsert(["a", "b"], np.eye(2, dtype=np.float32), metadata=[{"n": 1}, {"n": 3}], wait=True)
        yield index


def test_matches_filter_tells_each_id_whether_a_filtered_query_could_return_it(index):
    assert index.matches_filter(np.array(["a", "b", "ghost"]), F("n") > 2).to_dict() == {
        "a": False, "b": True, "ghost": False}


@pytest.mark.parametrize("flt", [{"n": {"$gt": 2}}, F("n") > 2], ids=["dict", "F"])
def test_a_filter_given_first_is_refused_saying_the_ids_come_first(index, flt):
    """matches_filter({"n": ...}) answered {"n": False}, the filter's keys taken for ids; an F condition raised
    TypeError: 'Condition' object is not iterable."""
    with pytest.raises(errors.MalformedRequest) as raised:
        index.matches_filter(flt)
    assert "ids must be a list of ids, got a filter" in raised.value.message
    assert "index.matches_filter(ids, filter)" in raised.value.message


READS = {
    "get_by_ids": lambda index, **flags: index.get_by_ids(["a"], **flags),
    "to_frame": lambda index, **flags: index.to_frame(**flags),
    "fetch": lambda index, **flags: pd.DataFrame({"k": ["a"]}).vectorize.fetch(index, id="k", **flags),
}


@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("flag, given", [("values", "false"), ("values", 0), ("metadata", "none"),
                                         ("metadata", "indexed"), ("metadata", None)])
def test_a_flag_that_is_not_true_or_false_is_refused_naming_it(index, read, flag, given):
    """Only the flags' truth was read: metadata="none" returned every property, values="false" the values, and
    to_frame(metadata="indexed") every property uncut, where query refuses return_values="false"."""
    with pytest.raises(errors.MalformedRequest, match=rf"^\[40026\] {flag} must be True or False; got {given!r}"):
        READS[read](index, **{flag: given})


@pytest.mark.parametrize("read", READS)
def test_a_metadata_mode_of_query_says_what_metadata_takes_instead(index, read):
    with pytest.raises(errors.MalformedRequest) as refused:
        READS[read](index, metadata="all")
    assert "metadata=True reads every property and False none; 'none', 'indexed' and 'all' are query's " \
           "return_metadata" in refused.value.message


@pytest.mark.parametrize("read", READS)
def test_numpy_booleans_are_flags_too(index, read):
    assert list(READS[read](index, values=np.False_, metadata=np.True_).columns) == ["id", "namespace", "n"]


@pytest.mark.parametrize("size", [0, -3, 1001, 2.5, "10"])
def test_a_page_size_out_of_range_is_refused_by_both_listings_each_naming_its_own(index, size):
    """iter_ids(page_size=0) meant 1000 where list_vectors(count=0) raises, and iter_ids's refusals named count."""
    for call, name in ((lambda: index.list_vectors(count=size), "count"), (lambda: index.iter_ids(page_size=size),
                                                                          "page_size")):
        with pytest.raises(errors.InvalidListCount, match=rf"^\[40114\] {name} must be a whole number from 1 to "
                                                          rf"1000, got {size!r}"):
            call()


def test_iter_ids_walks_pages_of_the_size_given_or_of_1000(index):
    assert list(index.iter_ids(page_size=1)) == ["a", "b"] == list(index.iter_ids())


def test_one_id_as_a_string_is_refused_not_split_into_letters(index):
    with pytest.raises(errors.MalformedRequest, match=r"for the one id pass \['ab'\]"):
        index.matches_filter("ab", F("n") > 2)


@pytest.mark.parametrize("cursor", [None, "same", "mine"])
def test_a_listing_that_would_never_end_is_a_server_error_not_a_hang(cursor):
    """A server answering truncated pages with the same cursor, or none, kept to_frame and copy_to asking (399
    requests until a test proxy stopped it), and its repeated ids came back as rows twice."""
    from vectorize_nb.contract.backend import Backend
    from vectorize_nb.contract.models import VectorPage
    from vectorize_nb.local import LocalEngine

    class Endless(LocalEngine):  # exporting as a REST server is read: a walk of pages, then get-by-ids
        def list_vectors(self, name, count=None, given=None):
            page = super().list_vectors(name, count)
            return VectorPage(page.ids, page.total_count, True, cursor if cursor != "mine" else f"c{len(str(given))}")

        def export(self, name, **options):
            return Backend.export(self, name, **options)

    with vz.Client(Endless(limits=TINY), "endless") as client:
        index = client.create_index("loop", 2)
        index.upsert(["a", "b"], [[1, 0], [0, 1]], wait=True)
        for read in (index.list_ids, index.to_frame):
            with pytest.raises(errors.ServerError, match="listing of index 'loop' does not end") as endless:
                read()
            assert endless.value.status == 502
