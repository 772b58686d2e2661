"""What a user is told when the target refuses the token: what that target takes (Cloudflare's permissions,
or the token a served engine was started with), never the token itself."""

from __future__ import annotations

import requests
import pytest

import vectorize_nb as vz
from vectorize_nb import errors
from vectorize_nb.local.server import serve
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
        pass


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
        with vz.connect(target, account_id="acc", api_token=TOKEN, max_retries=0) as client:
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
