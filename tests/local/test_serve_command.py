"""`vectorize-nb serve` as a process, where Windows differs: the encoding of a redirected stdout, and
the signals that stop it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import vectorize_nb as vz

pytest.importorskip("waitress")
if not hasattr(signal, "SIGUSR1"):
    pytest.skip("sends POSIX signals (SIGUSR1 stands in for Windows' SIGBREAK)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]


def serve(folder: Path, prelude: str = "", **env: str) -> tuple[subprocess.Popen[str], str]:
    """`vectorize-nb serve` on `folder` at a free port, and the first line it printed (the process is
    killed after a minute whatever happens)."""
    script = f"import sys\n{prelude}\nfrom vectorize_nb.cli import main\nsys.exit(main(sys.argv[1:]))"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen([sys.executable, "-c", script, "serve", "--path", str(folder), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                               errors="replace", env=environment)
    deadline = threading.Timer(60, process.kill)
    deadline.daemon = True
    deadline.start()
    return process, process.stdout.readline() if process.stdout else ""


def stop(process: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    if process.poll() is None:
        os.kill(process.pid, signum)
    _, errors = process.communicate(timeout=60)
    return process.returncode, errors


def test_a_path_that_stdouts_encoding_cannot_hold_is_shown_escaped(tmp_path):
    """Windows writes a redirected stdout (`vectorize-nb serve > serve.log`) in its ANSI code page, such
    as cp1252, which holds no Chinese or Cyrillic: the server started, then died printing where it was."""
    process, banner = serve(tmp_path / "数据", PYTHONIOENCODING="cp1252")
    code, errors = stop(process, signal.SIGTERM)
    assert "Traceback" not in errors and code == 0
    assert f"vectorize-nb serving {tmp_path}{os.sep}\\u6570\\u636e at http://127.0.0.1:" in banner


def test_a_leading_tilde_in_the_path_is_the_users_home(tmp_path):
    """`--path=~/data` reaches the command with its `~`, which no shell expands after `=`."""
    process, banner = serve(Path("~/data"), HOME=str(tmp_path))
    code, _ = stop(process, signal.SIGTERM)
    assert code == 0 and f"vectorize-nb serving {tmp_path / 'data'} at http://127.0.0.1:" in banner
    assert (tmp_path / "data" / "vectorize.sqlite3").is_file()


@pytest.mark.parametrize("signum, prelude", [
    (signal.SIGINT, ""),  # Ctrl-C
    (signal.SIGTERM, ""),
    (signal.SIGUSR1, "import signal\nsignal.SIGBREAK = signal.SIGUSR1"),  # Windows' Ctrl-Break, stood in for
], ids=["SIGINT", "SIGTERM", "SIGBREAK"])
def test_each_way_of_stopping_the_server_closes_its_engine(tmp_path, signum, prelude):
    process, banner = serve(tmp_path / "store", prelude)
    assert banner.startswith("vectorize-nb serving")
    code, errors = stop(process, signum)
    assert code == 0 and "Traceback" not in errors, errors
    wal = tmp_path / "store" / "vectorize.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # the engine closed: its log was checkpointed away


@pytest.mark.parametrize("port", [99999, 65536, -1])
def test_a_port_outside_tcps_range_is_refused_not_wrapped_to_another(tmp_path, capsys, port):
    """The socket takes a port modulo 65536: --port 99999 used to serve on 34463, --port 65536 on a free one."""
    from vectorize_nb.cli import main

    with pytest.raises(vz.errors.ConfigurationError) as refused:
        vz.serve(memory=True, port=port)
    assert f"port {port} " in str(refused.value) and "0 to 65535" in str(refused.value)
    assert main(["serve", "--path", str(tmp_path / "store"), "--port", str(port)]) == 2
    assert f"port {port} " in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("problem", [PermissionError(13, "Permission denied"), TimeoutError("stayed locked")])
def test_a_folder_the_command_cannot_open_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch, problem):
    from vectorize_nb.cli import main
    from vectorize_nb.local import server

    def refused(*args, **kwargs):
        raise problem

    monkeypatch.setattr(server, "LocalEngine", refused)
    assert main(["serve", "--path", str(tmp_path / "store"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vectorize-nb serve: ") and str(problem) in err and "Traceback" not in err


def test_ctrl_c_while_the_command_opens_the_folder_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    """Ctrl-C while another writer kept the folder locked (the open waits up to 15 s) printed a traceback."""
    from vectorize_nb.cli import main
    from vectorize_nb.local import server

    def waiting(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(server, "LocalEngine", waiting)
    assert main(["serve", "--path", str(tmp_path / "store"), "--port", "0"]) == 130
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"vectorize-nb serve: stopped while opening {tmp_path / 'store'}"


@pytest.mark.parametrize("delay", [-1.0, float("nan"), float("inf"), 1e400])
def test_an_apply_delay_that_is_negative_infinite_or_not_a_number_is_refused(tmp_path, capsys, delay):
    """`--apply-delay inf` served, acknowledged every write, applied none, and queued every later write to the
    index, by any process, behind the infinite one."""
    from vectorize_nb.cli import main

    with pytest.raises(vz.errors.ConfigurationError, match="apply_delay must be 0 or more seconds, and finite: got "):
        vz.connect("memory", apply_delay=delay)
    with pytest.raises(vz.errors.ConfigurationError, match="apply_delay must be"):
        vz.serve(memory=True, apply_delay=delay)
    assert main(["serve", "--path", str(tmp_path / "store"), "--port", "0", "--apply-delay", str(delay)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("vectorize-nb serve: apply_delay must be") and not (tmp_path / "store").exists()


@pytest.mark.parametrize("token", ["a b", "tok\u00e9n", "a\tb"])
def test_a_token_no_client_can_send_is_refused_before_serving(tmp_path, capsys, token):
    """`serve --token 'a b'` started and said a token is required, and the package's own client then refused to
    send it (plain requests could): the server takes the client's rule."""
    from vectorize_nb.cli import main

    with pytest.raises(vz.errors.ConfigurationError, match="an API token is printable ASCII only"):
        vz.serve(memory=True, port=0, token=token)
    assert main(["serve", "--path", str(tmp_path / "store"), "--port", "0", "--token", token]) == 2
    err = capsys.readouterr().err
    assert "HTTP header cannot carry" in err and token not in err
    assert not (tmp_path / "store").exists()
    with vz.serve(memory=True, port=0, token=" ok\n") as server:  # a token read from a file, its line break
        assert vz.connect(server.url, api_token="ok").list_indexes().empty


def test_a_stopped_command_answers_the_write_in_flight_before_it_exits(tmp_path):
    """SIGTERM (or Ctrl-C) to the command stopped waitress's loop in the main thread: waitress waited 5 s of its
    own, then closed the connection of a write still waiting for another writer's lock, which was applied
    anyway, unanswered. The command finishes what is in flight, as `server.close()` does."""
    import numpy as np

    from vectorize_nb.local.store import DATABASE_NAME

    from .test_server_stop import refusing

    folder, inside = tmp_path / "store", tmp_path / "inside"
    with vz.connect(path=folder) as client:
        client.create_index("docs", dimensions=32, metric="cosine")
    prelude = ("from vectorize_nb.local import LocalEngine\nwrite = LocalEngine.write\n"
               f"def flagged(self, *args):\n    open({str(inside)!r}, 'w').close()\n    return write(self, *args)\n"
               "LocalEngine.write = flagged")
    process, banner = serve(folder, prelude)
    url = banner.split(" at ", 1)[1].split(" ", 1)[0]
    other = sqlite3.connect(folder / DATABASE_NAME, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the write waits for this lock
    outcome: list[object] = []
    index = vz.connect(url, account_id="local", max_retries=0).get_index("docs")
    vector = np.eye(1, 32, dtype=np.float32)

    def write() -> None:
        try:
            outcome.append(index.upsert(["a"], vector))
        except Exception as exc:  # an answer lost: the connection cut
            outcome.append(exc)

    writing = threading.Thread(target=write, daemon=True)
    writing.start()
    try:
        for _ in range(1000):
            if inside.exists() or not writing.is_alive():
                break
            writing.join(0.01)
        assert inside.exists()
        os.kill(process.pid, signal.SIGTERM)
        host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        assert refusing(host, int(port))  # the stop has begun...
    finally:
        other.close()  # ...and then the write goes on
        writing.join(30)
    code, errors = stop(process, signal.SIGTERM)
    [result] = outcome
    assert isinstance(result, vz.WriteResult) and result.ok, errors
    assert code == 0 and "Traceback" not in errors
    with vz.connect(path=folder) as client:
        assert [r.id for r in client.backend.get_by_ids("docs", ["a"])] == ["a"]


@pytest.mark.skipif(not socket.has_ipv6, reason="needs IPv6")
def test_a_bracketed_ipv6_host_is_taken_as_the_address_it_brackets():
    """`--host '[::1]'` served with the banner URL http://[[::1]]:PORT, and with a fixed port was refused as
    "Name or service not known"."""
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with vz.serve(memory=True, host="[::1]") as server:
        assert server.host == "::1" and server.url == f"http://[::1]:{server.port}/client/v4"
        assert vz.connect(server.url).list_indexes().empty
        port = server.port
    with vz.serve(memory=True, host="[::1]", port=port) as again:
        assert again.url == f"http://[::1]:{port}/client/v4"


@pytest.mark.parametrize("host, port", [("nosuchhost.invalid", 0), ("nosuchhost.invalid", 18893), ("", 0),
                                        ("10.255.255.1", 0), ("10.255.255.1", 18893)])
def test_a_host_that_is_no_address_of_this_machine_is_named_and_127_0_0_1_advised(capsys, host, port):
    """waitress's "Invalid host/port specified." named neither; an address of another machine was told to stop
    the program that holds the port, or to pass --port 0 when it was 0."""
    from vectorize_nb.cli import main

    with pytest.raises(vz.errors.ConfigurationError) as refused:
        vz.serve(memory=True, host=host, port=port, token="t")
    message = str(refused.value)
    assert f"{host!r} cannot be listened on" in message and "127.0.0.1" in message and "port" not in message
    assert main(["serve", "--memory", "--host", host, "--port", str(port), "--token", "t"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"vectorize-nb serve: {message}"
