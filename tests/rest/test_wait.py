"""`Index.wait` over REST: bounded by its own timeout whatever the server does."""

from __future__ import annotations

import pytest

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine

from ..helpers import TINY
from .faults import FaultRig, Stall
from .test_faults import timed


@pytest.fixture
def rig():
    with LocalEngine(limits=TINY, apply_delay=600) as engine:  # nothing written is applied during a test
        engine.create_index("docs", dimensions=2, metric="cosine")
        with FaultRig(engine) as rig:
            yield rig


def test_wait_ends_at_its_timeout_when_the_server_stops_answering_info(rig):
    index = rig.client(timeout=5, max_retries=2, total_timeout=15).get_index("docs")
    result = index.upsert(["a"], [[1.0, 0.0]])
    rig.app.always("info", Stall(30))
    with pytest.raises(errors.WaitTimeout) as raised:
        timed(lambda: index.wait(result, timeout=1))
    message = str(raised.value)
    assert f"mutation {result.last_mutation.id} not known to be applied after 1 s" in message
    assert "the server did not answer info in time" in message and "(during wait on index 'docs')" in message
    assert isinstance(raised.value.__cause__, errors.TransportError)
    assert rig.app.count("info") == 1  # one look, given up with the wait: no retry past the wait's timeout


def test_wait_on_a_server_that_answers_still_times_out_saying_what_was_processed(rig):
    index = rig.client(timeout=5, max_retries=2).get_index("docs")
    result = index.upsert(["a"], [[1.0, 0.0]])
    with pytest.raises(errors.WaitTimeout) as raised:  # 0.3 s was less than one look can take on a loaded machine
        timed(lambda: index.wait(result, timeout=2, interval=0.1))
    assert f"mutation {result.last_mutation.id} not applied after 2 s" in str(raised.value)
    assert raised.value.__cause__ is None and rig.app.count("info") >= 2
