"""The API token in the REST client: never in a traceback's locals, a pickle, vars(), an error quoting an
answer, or an object an error holds. The servers bind 127.0.0.1 on port 0 and stop with their test."""

from __future__ import annotations

import pickle
import traceback

import pytest

import vectorize_nb as vz
from vectorize_nb import errors

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
