"""The API token in the REST client: never in a traceback's locals, a pickle, vars(), an error quoting an
answer, or an object an error holds. The servers bind 127.0.0.1 on port 0 and stop with their test."""

from __future__ import annotations

import pickle
import socket
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.contract.models import Vectors

from .faults import Reply

TOKEN = "SECRET-abc123XYZ"


def shown_with_locals(error: BaseException) -> str:
    """The error as a traceback that prints every frame's locals shows it (IPython's %xmode Verbose alike), from
    the frame the test called on (the test's own holds what it looks for)."""
    assert error.__traceback__ is not None
    called = error.__traceback__.tb_next
    return "".join(traceback.TracebackException(type(error), error, called, capture_locals=True).format())


@pytest.mark.parametrize("variable", ["CLOUDFLARE_API_TOKEN", "VECTORIZE_NB_SERVE_TOKEN"])
def test_a_token_refused_at_connect_is_in_no_frames_locals(monkeypatch, variable):
    """connect_rest, Transport.__init__, BearerToken.__init__ and api_token held it as `token`."""
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0" * 32)
    monkeypatch.setenv(variable, TOKEN + "\u200b")  # as pasted from a web page
    target = "cloudflare" if variable == "CLOUDFLARE_API_TOKEN" else "http://127.0.0.1:9"
    with pytest.raises(errors.ConfigurationError, match="cannot carry") as refused:
        vz.connect(target)
    assert TOKEN[:8] not in shown_with_locals(refused.value)


def test_a_token_given_as_an_argument_and_refused_is_in_no_frames_locals():
    with pytest.raises(errors.ConfigurationError, match="cannot carry") as refused:
        vz.connect("cloudflare", account_id="0" * 32, api_token=TOKEN + " x")
    assert TOKEN[:8] not in shown_with_locals(refused.value)


def test_other_refusals_at_connect_show_no_token_in_locals(monkeypatch):
    monkeypatch.setenv("VECTORIZE_NB_SERVE_TOKEN", TOKEN)
    with pytest.raises(errors.ConfigurationError, match="window_seconds") as refused:
        vz.connect("http://127.0.0.1:9", window_seconds=5)
    assert TOKEN[:8] not in shown_with_locals(refused.value)


def test_the_bearer_token_is_not_in_vars_and_refuses_to_be_pickled():
    with vz.connect("http://127.0.0.1:9", api_token=TOKEN) as client:
        transport = client.backend.transport
        assert TOKEN not in repr(vars(transport.session.auth)) and TOKEN not in repr(vars(transport))
        for holder in (transport.session.auth, transport.session, transport):
            with pytest.raises(TypeError, match="API token is not pickled"):
                pickle.dumps(holder)


def leaked(text: str) -> list[str]:
    """The pieces of the token (5 characters or more) that `text` shows."""
    return [TOKEN[i:i + 5] for i in range(len(TOKEN) - 4) if TOKEN[i:i + 5] in text]


@dataclass
class Echo:
    """Answer with the request's Authorization header quoted in `template` (a debug proxy, an httpbin-like
    /anything), `pad` characters after its start, so that a 200-character excerpt cuts the token."""

    status: int
    template: str
    content_type: str = "application/json"
    pad: int = 0
    escape_slashes: bool = False
    name = "echo"

    def respond(self, owner: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        text = self.template.format(pad="p" * self.pad, auth=auth.replace("/", "\\/") if self.escape_slashes else auth)
        return Reply(self.status, body=text.encode(), content_type=self.content_type).send(start_response)


@pytest.mark.parametrize("echo, kind", [
    (Echo(400, "<pre>{pad}\nAuthorization: {auth}</pre>", "text/html", pad=164), errors.InvalidRequest),
    (Echo(200, '{{"headers": {{"X-Pad": "{pad}", "Authorization": "{auth}"}}}}', pad=141), errors.ServerError),
    (Echo(400, '{{"success": false, "errors": [{{"code": 10001, "message": "Invalid header: {auth}"}}]}}'),
     errors.InternalError),
])
def test_an_answer_quoting_the_token_is_quoted_without_it(rig, echo, kind):
    rig.app.always("indexes", echo)
    client = rig.client(api_token=TOKEN, max_retries=0)
    with pytest.raises(kind) as quoted:
        client.list_indexes()
    assert leaked(str(quoted.value)) == [] and "***" in str(quoted.value)
    assert leaked(repr(quoted.value)) == []
    assert leaked(shown_with_locals(quoted.value)) == []  # the answer's bytes, `content`, held it in clear


def test_an_answer_read_whole_is_never_changed_whatever_the_token(rig):
    """Only what an error quotes is hidden: data stay as stored, whatever the token (hiding a short one, "t",
    garbled every answer)."""
    rig.engine.upsert("docs", Vectors(["t", TOKEN], np.ones((2, 2), np.float32), metadata=[{"t": TOKEN}, None]))
    for token in ("t", TOKEN):
        index = rig.client(api_token=token).get_index("docs")
        found = index.get_by_ids(["t", TOKEN])
        assert found["id"].tolist() == ["t", TOKEN] and found["t"].tolist()[0] == TOKEN


def test_an_authorization_value_quoted_in_another_form_is_hidden_too(rig):
    """A server that escapes "/" as JSON may ("\\/") quotes a token that is not byte for byte the one sent."""
    token = TOKEN.replace("-", "/")
    rig.app.always("indexes", Echo(400, '{{"errors": [{{"code": 10001, "message": "Authorization: {auth}"}}]}}',
                                   escape_slashes=True))
    client = rig.client(api_token=token, max_retries=0)
    with pytest.raises(errors.InternalError) as quoted:
        client.list_indexes()
    assert "abc123" not in str(quoted.value) and "Authorization: Bearer ***" in str(quoted.value)


@dataclass
class Redirect:
    """Answer with a redirect to `location`."""

    status: int
    location: str
    name = "redirect"

    def respond(self, owner: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(f"{self.status} Redirect", [("Location", self.location), ("Content-Length", "0")])
        return [b""]


@pytest.mark.parametrize("status, location, shown", [
    (302, "/client/v4/accounts/local/vectorize/v2/indexes", "/client/v4/accounts/local/vectorize/v2/indexes"),
    (307, "/elsewhere?token=" + TOKEN, "/elsewhere?***"),
    (301, "http://[::1/x", "http://[::1/x"),
    (308, f"ftp://user:{TOKEN}@127.0.0.1/x", "ftp://***@127.0.0.1/x"),
])
def test_a_redirect_is_refused_as_a_transport_error_that_holds_no_request(rig, status, location, shown):
    """requests followed redirects: a loop raised its TooManyRedirects, holding the Authorization header, a Location
    it could not use a raw ValueError or InvalidSchema, and a 307 sent the token and the body on."""
    rig.app.always("indexes", Redirect(status, location))
    client = rig.client(api_token=TOKEN, max_retries=2)
    with pytest.raises(errors.TransportError) as refused:
        client.list_indexes()
    message = str(refused.value)
    assert f"redirect (HTTP {status}) to {shown!r}" in message and "check the base URL" in message
    assert leaked(message) == [] and rig.app.count("indexes") == 1 and rig.app.count("/elsewhere") == 0
    assert refused.value.__context__ is None and not refused.value.retryable
    assert not any("requests" in type(value).__module__ for value in vars(refused.value).values())


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_port_no_url_can_hold_is_refused_at_connect(port):
    """vz.connect("http://127.0.0.1:99999") was taken, and the first call raised requests' InvalidURL."""
    with pytest.raises(errors.ConfigurationError, match=f"port {port!r}.* 1 to 65535"):
        vz.connect(f"http://127.0.0.1:{port}")


def requests_objects(error: BaseException) -> list[str]:
    """What reachable from the error (its context and cause, their frames' locals) is requests' or urllib3's
    exception, a request or a response: each holds the Authorization header."""
    found, seen, todo = [], set(), [error]
    while todo:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if type(value).__module__.split(".")[0] in ("requests", "urllib3"):
            found.append(type(value).__name__)
        if isinstance(value, BaseException):
            todo += [v for v in (value.__context__, value.__cause__) if v is not None]
            tb = value.__traceback__
            while tb is not None:
                todo += [v for v in tb.tb_frame.f_locals.values() if isinstance(v, BaseException)]
                tb = tb.tb_next
    return found


def closed_port() -> int:
    with socket.socket() as probe:  # a port that was free a moment ago, and is closed again
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_transport_error_holds_no_exception_of_requests(rig):
    """`raise ... from None` inside the except block kept requests' exception as __context__, with the request
    and its Authorization header (and urllib3's frames, whose `headers` local holds it too)."""
    refused = rig.client(f"http://127.0.0.1:{closed_port()}", api_token=TOKEN, max_retries=2)
    proxy = rig.proxy(drop=lambda n, line: True, mode="before_response")
    dropped = rig.client(proxy.url, api_token=TOKEN, max_retries=1)
    for client in (refused, dropped):
        with pytest.raises(errors.TransportError) as failed:
            client.list_indexes()
        assert failed.value.__context__ is None and requests_objects(failed.value) == []


def test_an_error_quoting_a_short_token_is_not_garbled(rig):
    """A token of a few letters is no secret: hidden in an error answer, every word that holds it was garbled."""
    rig.app.always("indexes", Reply(503, message="the service stayed unavailable"))
    client = rig.client(api_token="t", max_retries=0)
    with pytest.raises(errors.ServerError, match="the service stayed unavailable"):
        client.list_indexes()
