"""The embedding cache cleared by another process (or another cache on the same file) in the middle of a call:
no text ever gets another text's vector, though the blocks written next take the ids the clear freed."""

from __future__ import annotations

import numpy as np
import pytest

from vectorize_nb.embeddings import cache as cache_module
from vectorize_nb.embeddings.cache import JOB_MIN, EmbeddingCache

from .test_cache import Recorder, fake_vectors

OURS = [f"ours {i}" for i in range(JOB_MIN)]
THEIRS = [f"theirs {i}" for i in range(JOB_MIN)]


@pytest.fixture
def caches(tmp_path):
    with EmbeddingCache(tmp_path) as ours, EmbeddingCache(tmp_path) as theirs:
        yield ours, theirs


def clear_and_refill(theirs: EmbeddingCache) -> None:
    """The other notebook clears the cache and embeds other texts: their block takes the id just freed."""
    theirs.clear()
    theirs.embed(THEIRS, "m", "mean", Recorder())


def test_a_job_remembered_across_a_clear_is_not_read_back_as_other_texts(caches, monkeypatch):
    ours, theirs = caches
    remember = cache_module._remember_job

    def cleared_meanwhile(*args):
        monkeypatch.setattr(cache_module, "_remember_job", remember)
        clear_and_refill(theirs)
        return remember(*args)

    monkeypatch.setattr(cache_module, "_remember_job", cleared_meanwhile)
    ours.embed(OURS, "m", "mean", Recorder())
    again = ours.embed(OURS, "m", "mean", Recorder())
    np.testing.assert_array_equal(again.vectors, fake_vectors(OURS))
    assert again.misses == JOB_MIN  # cleared: computed again


def test_a_lookup_that_a_clear_comes_between_reads_the_vectors_it_found(caches, monkeypatch):
    ours, theirs = caches
    texts = OURS[:10]
    ours.embed(texts, "m", "mean", Recorder())
    gather = cache_module._gather

    def cleared_meanwhile(*args):  # the refs are read; the clear and new blocks come before the rows are
        monkeypatch.setattr(cache_module, "_gather", gather)
        clear_and_refill(theirs)
        return gather(*args)

    monkeypatch.setattr(cache_module, "_gather", cleared_meanwhile)
    found = ours.embed(texts, "m", "mean", Recorder())
    np.testing.assert_array_equal(found.vectors, fake_vectors(texts))
    assert theirs.embed(THEIRS, "m", "mean", Recorder()).hits == JOB_MIN
