"""Workers AI's embedding routes on the served engine: the native /ai/run/{model} and the
OpenAI-compatible /ai/v1/embeddings, their shapes, their errors (in Workers AI's envelope, `result: {}`)
and the guard in front of them. bge runs as the tiny stand-in of tests/embeddings, offline."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from werkzeug.test import Client

from vectorize_nb.contract import wire
from vectorize_nb.contract.embedding_models import SHIPPED_MODEL
from vectorize_nb.embeddings import embed_locally
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.app import VectorizeApp
from vectorize_nb.local.workers_ai import MAX_BODY_BYTES, NOT_RUNNABLE_CODE

from ..embeddings.stand_in import SMALL, stand_in_cache

ACCOUNT = "/client/v4/accounts/0123abc/ai"
TEXTS = ["read the csv file", "a dog in the rain", "parse json text"]


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    with stand_in_cache(tmp_path_factory.mktemp("ai-routes"), [SMALL]) as cache:
        yield cache


@pytest.fixture
def http(stand_in):
    with LocalEngine() as engine:
        yield Client(VectorizeApp(engine))


def post(client, path, body, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post(f"{ACCOUNT}{path}", data=data, headers=headers)
    return response.status_code, wire.loads(response.data)


def floats(data) -> np.ndarray:
    return np.asarray(data, dtype=np.float64).astype(np.float32)


# --- the native route -------------------------------------------------------------------------------

def test_a_single_string_gives_a_list_of_one_vector_of_shape_1_by_d(http):
    status, body = post(http, f"/run/{SHIPPED_MODEL}", {"text": "read the csv file"})
    assert status == 200 and body["success"] is True and body["errors"] == []
    assert body["result"]["shape"] == [1, 256] and len(body["result"]["data"]) == 1
    np.testing.assert_array_equal(floats(body["result"]["data"]), embed_locally(["read the csv file"], SHIPPED_MODEL))


def test_bge_answers_mean_by_default_and_cls_on_request_with_the_runtimes_vectors(http):
    status, mean = post(http, f"/run/{SMALL}", {"text": TEXTS})
    _, cls = post(http, f"/run/{SMALL}", {"text": TEXTS, "pooling": "cls"})
    assert status == 200 and mean["result"]["shape"] == [3, 384]
    assert mean["result"]["pooling"] == "mean" and cls["result"]["pooling"] == "cls"
    np.testing.assert_array_equal(floats(mean["result"]["data"]), embed_locally(TEXTS, SMALL, "mean"))
    np.testing.assert_array_equal(floats(cls["result"]["data"]), embed_locally(TEXTS, SMALL, "cls"))
    assert not np.allclose(mean["result"]["data"], cls["result"]["data"])


@pytest.mark.parametrize("model_path", ["@cf/baai/bge-small-en-v1.5", "@cf%2Fbaai%2Fbge-small-en-v1.5",
                                        "%40cf%2Fbaai%2Fbge-small-en-v1.5", "@cf%2fbaai%2fbge-small-en-v1.5"])
def test_the_model_may_come_with_literal_or_percent_encoded_slashes(http, model_path):
    status, body = post(http, f"/run/{model_path}", {"text": TEXTS[:1]})
    assert status == 200 and body["result"]["shape"] == [1, 384]


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain",
                                          "application/json; charset=utf-8"])
def test_the_body_is_json_whatever_the_content_type(http, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, body = post(http, f"/run/{SHIPPED_MODEL}", {"text": TEXTS}, **headers)
    assert status == 200 and body["result"]["shape"] == [3, 256]


def test_an_empty_list_gives_no_vectors_and_unknown_fields_are_ignored(http):
    status, body = post(http, f"/run/{SMALL}", {"text": [], "options": {"rejectIfBusy": True}})
    assert status == 200 and body["result"] == {"shape": [0, 384], "data": [], "pooling": "mean"}


def test_one_hundred_texts_are_taken(http):
    status, body = post(http, f"/run/{SMALL}", {"text": [f"text {i}" for i in range(100)]})
    assert status == 200 and body["result"]["shape"] == [100, 384]


def test_the_shipped_model_takes_a_hundred_texts_a_request_too(http):
    """It took any number: 100,000 texts in a 600 KB body held a server thread for minutes, building an answer of
    hundreds of MB. The client sends it 100 a request, as to Workers AI's models."""
    status, body = post(http, f"/run/{SHIPPED_MODEL}", {"text": [f"text {i}" for i in range(100)]})
    assert status == 200 and body["result"]["shape"] == [100, 256]
    status, body = post(http, f"/run/{SHIPPED_MODEL}", {"text": [f"t{i}" for i in range(101)]})
    assert status == 400 and body["errors"][0]["code"] == 5006
    assert f"'/text' has 101 items; {SHIPPED_MODEL} takes at most 100 texts per request" in body["errors"][0]["message"]


# --- errors: Workers AI's codes, `result: {}` --------------------------------------------------------

BAD_INPUTS = [
    ({"text": ""}, "'/text' is empty"),
    ({"text": ["a", ""]}, "'/text/1' is empty"),
    ({"text": ["a", None]}, "Type mismatch of '/text/1', 'null' not in 'string'"),
    ({"text": ["a", 3]}, "Type mismatch of '/text/1', 'number' not in 'string'"),
    ({"text": 3}, "Type mismatch of '/text', 'number' not in 'string', 'array'"),
    ({"text": {"a": 1}}, "Type mismatch of '/text', 'object' not in 'string', 'array'"),
    ({"prompt": "hello"}, "required properties at '/' are 'text'"),
    ({"text": [f"t{i}" for i in range(101)]}, "'/text' has 101 items; @cf/baai/bge-small-en-v1.5 takes at most "
                                              "100 texts per request"),
    ({"text": "a", "pooling": "max"}, "takes one of mean, cls, not pooling='max'"),
    ({"text": "a", "pooling": True}, "Type mismatch of '/pooling', 'boolean' not in 'string'"),
    ({"requests": [{"text": "a"}]}, "asynchronous batches"),
    (b"", "required properties at '/' are 'text'"),
    (b"[1, 2]", "Type mismatch of '/', 'array' not in 'object'"),
    (b"{text: 1}", "the body is not JSON"),
]


@pytest.mark.parametrize(("body", "wording"), BAD_INPUTS)
def test_bad_input_is_400_5006_with_an_empty_result(http, body, wording):
    status, answer = post(http, f"/run/{SMALL}", body)
    assert status == 400, answer
    assert answer["success"] is False and answer["result"] == {} and answer["messages"] == []
    (error,) = answer["errors"]
    assert error["code"] == 5006 and error["message"].startswith("AiError: Bad input: Error: ")
    assert wording in error["message"]


@pytest.mark.parametrize(("text", "place"), [(["a short one", "LONG"], "'/text/1'"), ("LONG", "'/text'")])
def test_a_text_over_the_token_limit_is_refused_naming_it_not_cut(http, text, place):
    long = " ".join(["read"] * 511)  # 511 words + [CLS] + [SEP] = 513 tokens
    text = long if text == "LONG" else [long if t == "LONG" else t for t in text]
    status, answer = post(http, f"/run/{SMALL}", {"text": text})
    assert status == 400 and answer["result"] == {} and answer["errors"][0]["code"] == 5006
    assert f"{place} has 513 tokens" in answer["errors"][0]["message"]
    assert "at most 512" in answer["errors"][0]["message"]


def test_queue_request_is_not_emulated(http):
    response = http.post(f"{ACCOUNT}/run/{SMALL}?queueRequest=true", json={"text": "a"})
    assert response.status_code == 400 and "asynchronous batches" in response.json["errors"][0]["message"]


@pytest.mark.parametrize("model", ["@cf/baai/bge-tiny-en-v9", "BAAI/bge-small-en-v1.5", "@cf/meta/llama-3-8b"])
def test_an_unknown_model_is_400_5007_in_workers_ais_words(http, model):
    status, answer = post(http, f"/run/{model}", {"text": "a"})
    assert status == 400 and answer["result"] == {}
    assert answer["errors"] == [{"code": 5007, "message": f"No such model {model} or task"}]


@pytest.mark.parametrize(("route", "body", "field"), [
    ("/v1/embeddings", {"model": "@cf/" + "x" * 20_000, "input": "a"}, "@cf/xxx"),
    (f"/run/@cf/{'x' * 20_000}", {"text": "a"}, "@cf/xxx"),
    ("/v1/embeddings", {"model": SMALL, "input": "a", "encoding_format": "y" * 20_000}, "'/encoding_format'"),
    ("/v1/embeddings", {"model": SMALL, "input": "a", "dimensions": "z" * 20_000}, "'/dimensions'"),
])
def test_a_long_value_is_echoed_cut_not_whole(http, route, body, field):
    """A 20,000-character model name came back whole in the 5007 message (and so did `encoding_format` and
    `dimensions` in theirs); values echoed elsewhere are cut after some tens of characters."""
    status, answer = post(http, route, body)
    message = answer["errors"][0]["message"]
    assert status == 400 and field in message and len(message) < 300 and "…" in message


@pytest.mark.parametrize("model, body", [
    ("@cf/baai/bge-m3", {"text": "a"}),
    ("@cf/baai/bge-m3", {"query": "a", "contexts": [{"text": "b"}]}),  # bge-m3's own shape, no `text`
    ("@cf/baai/bge-m3", {"text": ""}),
    ("@cf/qwen/qwen3-embedding-0.6b", {"queries": ["how tall is everest"], "documents": ["Everest is 8849 m"]}),
    ("@cf/pfnet/plamo-embedding-1b", {"text": "こんにちは"}),
])
def test_a_model_with_no_local_form_is_a_400_that_says_so_whatever_its_inputs(http, model, body):
    status, answer = post(http, f"/run/{model}", body)
    assert status == 400 and answer["result"] == {}
    (error,) = answer["errors"]
    assert error["code"] == NOT_RUNNABLE_CODE
    assert error["message"].startswith(f"vectorize-nb serve cannot run {model} here")
    assert "runs only on Workers AI" in error["message"]


def test_a_model_whose_weights_are_missing_offline_is_a_400_that_says_how_to_get_them(http):
    status, answer = post(http, "/run/@cf/baai/bge-large-en-v1.5", {"text": "a"})
    assert status == 400 and answer["errors"][0]["code"] == NOT_RUNNABLE_CODE
    assert "BAAI/bge-large-en-v1.5" in answer["errors"][0]["message"]
    assert "download" in answer["errors"][0]["message"]


def test_a_body_over_workers_ais_10_mb_is_413_3006(http):
    body = b'{"text": "' + b"a" * MAX_BODY_BYTES + b'"}'
    status, answer = post(http, f"/run/{SHIPPED_MODEL}", body)
    assert status == 413 and answer["result"] == {} and answer["errors"][0]["code"] == 3006
    assert "Request is too large" in answer["errors"][0]["message"]
    assert f"{MAX_BODY_BYTES:,}" in answer["errors"][0]["message"]


def test_a_body_of_exactly_10_mb_is_taken(http):
    body = b'{"text": "a"}'
    status, answer = post(http, f"/run/{SHIPPED_MODEL}", body + b" " * (MAX_BODY_BYTES - len(body)))
    assert status == 200 and answer["result"]["shape"] == [1, 256]


def test_a_get_is_no_route(http):
    response = http.get(f"{ACCOUNT}/run/{SMALL}")
    assert response.status_code == 404 and response.json["errors"][0]["code"] == 7003
    assert response.json["result"] is None


# --- the OpenAI-compatible route --------------------------------------------------------------------

def test_openai_embeddings_as_floats_with_index_model_and_usage(http):
    status, body = post(http, "/v1/embeddings", {"model": SMALL, "input": TEXTS})
    assert status == 200 and body["object"] == "list" and body["model"] == SMALL
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert {item["object"] for item in body["data"]} == {"embedding"}
    np.testing.assert_array_equal(floats([item["embedding"] for item in body["data"]]), embed_locally(TEXTS, SMALL))
    # the tiny tokenizer splits on words: 4 + 5 + 3 words, plus [CLS] and [SEP] each
    assert body["usage"] == {"prompt_tokens": 18, "total_tokens": 18}


def test_openai_base64_is_little_endian_float32(http):
    status, body = post(http, "/v1/embeddings", {"model": SMALL, "input": "read the csv file",
                                                 "encoding_format": "base64"})
    assert status == 200 and len(body["data"]) == 1
    decoded = np.frombuffer(base64.b64decode(body["data"][0]["embedding"]), dtype="<f4")
    np.testing.assert_array_equal(decoded, embed_locally("read the csv file", SMALL)[0])


def test_openai_with_the_shipped_model_counts_its_tokens(http):
    status, body = post(http, "/v1/embeddings", {"model": SHIPPED_MODEL, "input": ["read the csv file"]})
    assert status == 200 and len(body["data"][0]["embedding"]) == 256
    assert body["usage"]["prompt_tokens"] > 0


@pytest.mark.parametrize(("body", "code", "wording"), [
    ({"input": "a"}, 5006, "required properties at '/' are 'model'"),
    ({"model": None, "input": "a"}, 5006, "required properties at '/' are 'model'"),
    ({"model": 7, "input": "a"}, 5006, "Type mismatch of '/model', 'number' not in 'string'"),
    ({"model": SMALL, "input": ""}, 5006, "'/input' is empty"),
    ({"model": SMALL, "input": ["a", ""]}, 5006, "'/input/1' is empty"),
    ({"model": SMALL}, 5006, "required properties at '/' are 'input'"),
    ({"model": SMALL, "input": [1, 2]}, 5006, "Type mismatch of '/input/0', 'number' not in 'string'"),
    ({"model": SMALL, "input": []}, 5006, "'/input' has no items; an array of inputs takes at least 1"),
    ({"model": SMALL, "input": "a", "encoding_format": "int8"}, 5006, "'float' or 'base64', got 'int8'"),
    ({"model": SMALL, "input": "a", "dimensions": 128}, 5006, "'/dimensions' is 128, but"),
    ({"model": "text-embedding-3-small", "input": "a"}, 5007, "No such model text-embedding-3-small or task"),
])
def test_openai_errors_come_in_the_v4_envelope(http, body, code, wording):
    status, answer = post(http, "/v1/embeddings", body)
    assert status == 400 and answer["success"] is False and answer["result"] == {}
    assert answer["errors"][0]["code"] == code and wording in answer["errors"][0]["message"]


# --- the guard stands in front of these routes too -------------------------------------------------

def test_a_web_page_is_refused_without_a_token(stand_in):
    with LocalEngine() as engine:
        client = Client(VectorizeApp(engine))
        response = client.post(f"{ACCOUNT}/run/{SHIPPED_MODEL}", json={"text": "a"},
                               headers={"Origin": "http://evil.example"})
        assert response.status_code == 403 and response.json["errors"][0]["code"] == 10000
        assert response.json["result"] is None
        rebound = client.post(f"{ACCOUNT}/v1/embeddings", json={"model": SHIPPED_MODEL, "input": "a"},
                              headers={"Host": "evil.example"})
        assert rebound.status_code == 403


def test_with_a_token_the_ai_routes_need_it_and_an_allowed_origin_gets_cors(stand_in):
    with LocalEngine() as engine:
        client = Client(VectorizeApp(engine, token="s3cret", allowed_origins=["http://localhost:5173"]))
        assert client.post(f"{ACCOUNT}/run/{SHIPPED_MODEL}", json={"text": "a"}).status_code == 401
        allowed = client.post(f"{ACCOUNT}/run/{SHIPPED_MODEL}", json={"text": "a"},
                              headers={"Authorization": "Bearer s3cret", "Origin": "http://localhost:5173"})
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_the_openapi_document_lists_the_catalogs_models():
    from vectorize_nb.contract.embedding_models import MODELS
    from vectorize_nb.local.app import openapi_document

    document = wire.loads(openapi_document())
    ids = [m.model for m in MODELS]
    assert document["components"]["parameters"]["model"]["schema"]["enum"] == ids
    assert document["components"]["schemas"]["OpenAIEmbeddingsRequest"]["properties"]["model"]["enum"] == ids
    routes = {"/accounts/{account_id}/ai/run/{model}", "/accounts/{account_id}/ai/v1/embeddings"}
    assert routes <= set(document["paths"])
