"""`server = vz.serve(...)` run again in a notebook: the earlier server over the same folder, engine or port (now
out of reach of any variable) is closed, with a warning naming its URL; servers of other folders and memory
engines keep running side by side."""

import socket
import threading

import pytest

import vectorize_nb as vz
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import serve

from .test_server_stop import refusing


def served(server) -> list[str]:
    with vz.connect(server.url, timeout=5, max_retries=0) as client:
        return client.list_indexes()["name"].tolist()


def assert_stopped(server) -> None:
    assert refusing(server.host, server.port, patience=5) and "stopped" in repr(server)
    assert not any(t.name == "vectorize-nb-serve" and t is server._thread for t in threading.enumerate())


def test_serving_the_same_folder_again_closes_the_earlier_server_and_says_so(tmp_path):
    """The earlier server kept its thread, its socket and its engine on the folder, unreachable from Python."""
    first = serve(path=tmp_path / "store")
    first.engine.create_index("docs", dimensions=32, metric="cosine")
    with pytest.warns(vz.errors.VectorizeWarning, match="closed the server this process started earlier") as heard:
        second = serve(path=tmp_path / "store")
    with second:
        message = str(heard[0].message)
        assert first.url in message and "same folder" in message and heard[0].filename == __file__
        assert_stopped(first)
        assert first.engine._closed  # the folder is no longer held by the earlier engine
        assert served(second) == ["docs"]
    assert_stopped(second)


def test_a_fixed_port_served_again_is_taken_over_not_refused():
    """It said "port N is in use: stop the server that holds it (server.close())", with no server to close."""
    first = serve(memory=True)
    port = first.port
    first.close()
    first = serve(memory=True, port=port)
    with pytest.warns(vz.errors.VectorizeWarning, match=f"port {port}"):
        second = serve(memory=True, port=port)
    with second:
        assert second.port == port and served(second) == []
        assert first._thread is None and "stopped" in repr(first)


def test_an_engine_served_again_closes_the_earlier_server_but_not_the_engine():
    with LocalEngine() as engine:
        first = serve(engine=engine)
        with pytest.warns(vz.errors.VectorizeWarning, match="same engine"):
            second = serve(engine=engine)
        with second:
            assert_stopped(first)
            engine.create_index("docs", dimensions=32, metric="cosine")  # still open: the user's own
            assert served(second) == ["docs"]


def test_servers_of_other_folders_and_memory_engines_run_side_by_side(tmp_path, recwarn):
    servers = [serve(memory=True), serve(memory=True), serve(path=tmp_path / "a"), serve(path=tmp_path / "b")]
    try:
        servers[0].engine.create_index("only-here", dimensions=32, metric="cosine")
        assert [served(server) for server in servers] == [["only-here"], [], [], []]
        assert "running" in repr(servers[0]) and not [w for w in recwarn if "closed the server" in str(w.message)]
    finally:
        for server in servers:
            server.close()


def test_the_engine_of_an_earlier_server_served_again_stays_open(tmp_path):
    """serve(engine=first.engine) closed the engine that `first` had opened with it: every call was a 10001."""
    first = serve(path=tmp_path / "store")
    first.engine.create_index("docs", dimensions=32, metric="cosine")
    with pytest.warns(vz.errors.VectorizeWarning, match="same engine"):
        second = serve(engine=first.engine)
    with second:
        assert_stopped(first)
        assert served(second) == ["docs"]
    assert second.engine._closed  # the second server took the engine over, and closed it with itself


def test_a_port_another_program_holds_is_refused_before_the_earlier_server_is_closed(tmp_path, recwarn):
    """serve() run again on a port another program held closed the earlier server first, then failed to
    bind: the notebook lost both."""
    first = serve(path=tmp_path / "store")
    with first, socket.create_server(("127.0.0.1", 0)) as other_program:
        held = other_program.getsockname()[1]
        with pytest.raises(vz.errors.ConfigurationError, match=f"port {held} on 127.0.0.1 is in use"):
            serve(path=tmp_path / "store", port=held)
        assert "running" in repr(first) and served(first) == []
        assert not [w for w in recwarn if "closed the server" in str(w.message)]
