"""What a user is told when the target refuses: the token (what that target takes: Cloudflare's permissions, or
the token a served engine was started with, never the token itself), or the connection (nothing listens)."""

from __future__ import annotations

import logging
import socket

import requests
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.local.server import serve
from vectorize_nb.rest import transport
from vectorize_nb.rest.target import Target

TOKEN = "s3cr3t-token"


class _Refusing(requests.adapters.BaseAdapter):
    """Cloudflare's API, as far as these tests go: every request answered 401/10000 "Authentication error"."""

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code, response.url, response.request = 401, request.url, request
        response._content = b'{"result":null,"success":false,"errors":[{"code":10000,"message":"Authentication ' \
                            b'error"}],"messages":[]}'
        return response

    def close(self):
        """Nothing to release: no connection was ever opened."""


def refused_by(client) -> errors.AuthenticationError:
    with pytest.raises(errors.AuthenticationError) as refused:
        client.list_indexes()
    return refused.value


def test_a_served_engine_refusing_the_token_says_to_give_the_one_it_was_started_with(monkeypatch):
    """It said "Check the API token and that it has the Vectorize permissions", which is Cloudflare's business."""
    monkeypatch.delenv("VECTORIZE_NB_SERVE_TOKEN", raising=False)
    with serve(memory=True, token=TOKEN) as server:
        with vz.connect(server.url, api_token="wrong-token", timeout=2, max_retries=0) as client:
            wrong = refused_by(client)
        with vz.connect(server.url, timeout=2, max_retries=0) as client:
            missing = refused_by(client)
    for refusal in (wrong, missing):
        text = str(refusal)
        assert refusal.code == 10000 and refusal.status == 401
        assert "the token it was started with" in text and "VECTORIZE_NB_SERVE_TOKEN" in text, text
        assert "Vectorize permission" not in text and "Vectorize Edit" not in text and TOKEN not in text
    assert "not Cloudflare's API" in str(wrong) and "No API token was sent" in str(missing)


def test_cloudflare_refusing_the_token_names_the_permissions_it_needs(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    for target in ("cloudflare", "https://api.cloudflare.com/client/v4"):
        with vz.connect(target, account_id="0" * 32, api_token=TOKEN, max_retries=0) as client:
            client.backend.transport.session.mount("https://api.cloudflare.com/", _Refusing())
            text = str(refused_by(client))
        assert text.startswith("[10000] Authentication error (during list_indexes)"), text
        assert "Vectorize Edit" in text and "CLOUDFLARE_API_TOKEN" in text, text
        assert "VECTORIZE_NB_SERVE_TOKEN" not in text and "started with" not in text and TOKEN not in text


def test_the_target_is_cloudflare_only_for_its_api_over_https():
    assert Target.of("cloudflare").cloudflare and Target.of("https://api.cloudflare.com/client/v4").cloudflare
    assert not Target.of("http://api.cloudflare.com/client/v4").cloudflare
    assert not Target.of("http://127.0.0.1:8787/client/v4").cloudflare
    assert Target.of("cloudflare").token_env == "CLOUDFLARE_API_TOKEN"
    assert Target.of("http://127.0.0.1:8787/client/v4").token_env == "VECTORIZE_NB_SERVE_TOKEN"


def test_a_served_engine_refusing_a_web_page_gives_its_own_words_not_a_token_hint():
    with serve(memory=True) as server:
        with vz.connect(server.url, timeout=2, max_retries=0) as client:
            client.backend.transport.session.headers["Origin"] = "http://evil.example"
            refusal = refused_by(client)
    assert refusal.status == 403 and "--allow-origin" in str(refusal)
    assert "started with" not in str(refusal) and "Vectorize permission" not in str(refusal)


# --- nothing listens ------------------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as probe:  # a port that was free a moment ago, and is closed again
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable(url: str, caplog, **options) -> str:
    client = vz.connect(url, account_id="0" * 32, api_token=TOKEN, timeout=2, **options)
    with caplog.at_level(logging.INFO), pytest.raises(errors.TransportError) as raised:
        client.list_indexes()
    return str(raised.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_nothing_listening_on_this_machine_fails_at_once_and_says_how_to_start_a_server(host, caplog):
    """0.0.0.0 (the address a server bound to all interfaces prints) reaches this machine too: it was tried six
    times over 16 s, and said urllib3's "Max retries exceeded ... NewConnectionError(...)"."""
    port = closed_port()
    message = unreachable(f"http://{host}:{port}", caplog, max_retries=5)
    assert f"nothing listens at {host}:{port} (connection refused)" in message, message
    assert f"`vectorize-nb serve --port {port}`" in message and f"vz.serve(port={port})" in message, message
    assert "attempts" not in message and "retrying" not in caplog.text
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_refused_connection_elsewhere_is_tried_once_more_not_five_times(caplog, monkeypatch):
    """Another machine refusing the port (its server down) was tried six times over 16 s."""
    monkeypatch.setattr(transport, "_this_machine", lambda url: False)  # as if 127.0.0.1 were another host
    port = closed_port()
    message = unreachable(f"http://127.0.0.1:{port}", caplog, max_retries=5)
    assert f"failed after 2 attempts: nothing listens at 127.0.0.1:{port} (connection refused)" in message, message
    assert "Max retries exceeded" not in message and "NewConnectionError" not in message
    assert caplog.text.count("retrying") == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_host_that_cannot_be_resolved_is_named_without_urllib3s_wrapping(caplog):
    message = unreachable("http://no-such-host.invalid:8787", caplog, max_retries=0, total_timeout=10)
    assert ": cannot resolve no-such-host.invalid (" in message, message
    assert "Max retries exceeded" not in message and "_HTTPPool" not in message


def _resolver(monkeypatch, errno: int, strerror: str) -> list[str]:
    """The system's resolver answering `errno` for every name but loopback's; the names it was asked."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real(host, *args, **kwargs)
        asked.append(host)
        raise socket.gaierror(errno, strerror)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_host_name_that_does_not_exist_fails_at_once(caplog, monkeypatch):
    """A mistyped host was tried six times over 16 s: the resolver's "no such name" will not change in seconds."""
    asked = _resolver(monkeypatch, socket.EAI_NONAME, "Name or service not known")
    message = unreachable("http://vectorise.example:8787", caplog, max_retries=5)
    assert asked == ["vectorise.example"]
    assert "failed: cannot resolve vectorise.example (Name or service not known) (not retried: no host of that " \
           "name exists; check the URL)" in message, message
    assert TOKEN not in message and "retrying" not in caplog.text


@pytest.mark.parametrize("errno, strerror", [(socket.EAI_NONAME, "Name or service not known"),
                                             (socket.EAI_AGAIN, "Temporary failure in name resolution")])
def test_cloudflare_unresolved_blames_this_machines_network_not_a_url_never_typed(caplog, monkeypatch, errno,
                                                                                  strerror):
    """vz.connect("cloudflare") offline said "check the URL", a URL the user never gave."""
    asked = _resolver(monkeypatch, errno, strerror)
    message = unreachable("cloudflare", caplog, max_retries=1, total_timeout=10)
    assert set(asked) == {"api.cloudflare.com"}
    assert f"cannot resolve api.cloudflare.com ({strerror})" in message, message
    assert "URL" not in message and message.endswith(
        "No answer from Cloudflare's API: check this machine's network, DNS or proxy"), message


def test_a_resolver_that_cannot_answer_now_is_asked_again(caplog, monkeypatch):
    asked = _resolver(monkeypatch, socket.EAI_AGAIN, "Temporary failure in name resolution")
    message = unreachable("http://vectorise.example:8787", caplog, max_retries=2)
    assert asked == ["vectorise.example"] * 3
    assert "failed after 3 attempts: cannot resolve vectorise.example (Temporary failure" in message, message


def test_a_name_that_resolved_before_is_asked_again_when_the_resolver_says_no_such_name(caplog, monkeypatch):
    """macOS answers "no such name" (EAI_NONAME) when the network drops: a job against a host reached before
    would stop at once, where a Wi-Fi blip deserves the retries."""
    with serve(port=0) as server:
        port = server.url.split(":")[-1].split("/")[0]
        client = vz.connect(f"http://localhost:{port}", api_token=TOKEN, max_retries=2, timeout=2)
        assert client.list_indexes().empty  # the name resolved: the host is there
        asked = []
        real = socket.getaddrinfo

        def offline(host, *args, **kwargs):
            asked.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "nodename nor servname provided, or not known")

        monkeypatch.setattr(socket, "getaddrinfo", offline)
        client.backend.transport.session.close()  # as a dropped network leaves no connection to reuse
        with pytest.raises(errors.TransportError, match="failed after 3 attempts: cannot resolve localhost"):
            client.list_indexes()
        assert asked == ["localhost"] * 3
        monkeypatch.setattr(socket, "getaddrinfo", real)
        client.close()
