"""A served engine that stops while clients call it: what is in flight is answered, what comes later is refused."""

import socket
import threading
import time

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import serve

from ..helpers import TINY


def refusing(host: str, port: int, patience: float = 10.0) -> bool:
    """Whether the server stops accepting connections within `patience` seconds."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        except (ConnectionResetError, TimeoutError):  # taken into the backlog just before the listening socket
            continue  # closed, or a backlog left full by a loop that no longer accepts: try again
    return False


def test_a_write_in_flight_when_the_server_stops_is_answered_and_a_later_one_refused(tmp_path, monkeypatch):
    engine = LocalEngine(tmp_path / "account", limits=TINY)
    engine.create_index("ix", dimensions=2, metric="cosine")
    server = serve(engine=engine, limits=TINY)
    inside, release = threading.Event(), threading.Event()
    write = LocalEngine.write

    def held(self, *args):  # the write is inside the server when it is told to stop
        inside.set()
        release.wait(10)
        return write(self, *args)

    monkeypatch.setattr(LocalEngine, "write", held)
    idx = vz.connect(server.url, account_id="local", limits=TINY, max_retries=0).get_index("ix")
    outcome: list[object] = []
    writing = threading.Thread(target=lambda: outcome.append(idx.upsert(["a"], np.float32([[1, 0]]))))
    writing.start()
    assert inside.wait(10)
    closing = threading.Thread(target=server.close)
    closing.start()
    try:
        assert refusing(server.host, server.port)  # no new connection once the stop has begun...
    finally:
        release.set()  # ...and then the write in flight goes on
        writing.join(10)
        closing.join(20)
    [result] = outcome
    assert result.ok and result.mutation_ids == [m["mutationId"] for m in engine.mutation_log("ix")]
    with pytest.raises(vz.WriteIncomplete, match="connection refused") as refused:
        idx.upsert(["b"], np.float32([[0, 1]]))
    assert isinstance(refused.value.__cause__, errors.TransportError) and not refused.value.result.unconfirmed
    assert [r.id for r in engine.get_by_ids("ix", ["a", "b"])] == ["a"]
    engine.close()


def test_a_task_thread_waking_the_loop_as_the_server_stops_writes_to_no_closed_descriptor(monkeypatch):
    """The trigger was closed before the task threads were shut down: a thread that had just sent its answer woke
    the loop through a descriptor already closed (EBADF logged) or, taken meanwhile by a file the kernel opened, wrote
    a byte into that file. Its wake-up is held here until the server is told to stop."""
    import waitress.server

    wake, outcomes = waitress.server.BaseWSGIServer.pull_trigger, []

    def late(self, *args):
        if threading.current_thread().name.startswith("waitress"):
            time.sleep(0.3)  # the answer is sent; the client goes on and closes the server meanwhile
            try:
                wake(self, *args)
            except OSError as exc:
                outcomes.append(exc.errno)
                raise
            outcomes.append("woke")
            return
        wake(self, *args)

    monkeypatch.setattr(waitress.server.BaseWSGIServer, "pull_trigger", late)
    with vz.serve(memory=True) as server, vz.connect(server.url) as client:
        client.create_index("films", dimensions=32)
    assert outcomes == ["woke"]
