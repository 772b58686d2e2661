"""Cloudflare's own clients (and OpenAI's) embedding text against `vectorize-nb serve`, offline, end to
end: langchain-cloudflare's CloudflareWorkersAIEmbeddings with its CloudflareVectorize store, the
`cloudflare` SDK's `ai.run` (which percent-encodes the model's slashes), and openai-python on the
OpenAI-compatible route (which asks for base64 by default). The server runs in a thread on
127.0.0.1; bge runs as the tiny stand-in of tests/embeddings, so nothing reaches the network."""

from __future__ import annotations

import warnings

import httpx
import numpy as np
import pytest

from vectorize_nb.contract.embedding_models import SHIPPED_MODEL
from vectorize_nb.embeddings import embed_locally
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import serve

from ..embeddings.stand_in import BASE, SMALL, stand_in_cache

TOKEN = "client-token"
DOCS = ["how to read a CSV file into a table", "parse a JSON document", "compress files with gzip",
        "the dog sleeps in the sun", "rain is expected tomorrow", "write rows to a CSV file",
        "serialise objects to JSON text", "a cat chases the dog"]


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    with stand_in_cache(tmp_path_factory.mktemp("ai-clients"), [SMALL, BASE]) as cache:
        yield cache


@pytest.fixture
def server(stand_in):
    with LocalEngine() as engine, serve(engine=engine, token=TOKEN) as running:
        yield running


def quietly_import(name: str):
    with warnings.catch_warnings():  # these packages' imports warn about their own dependencies
        warnings.simplefilter("ignore")
        return pytest.importorskip(name)


# --- langchain-cloudflare --------------------------------------------------------------------------

def langchain_embeddings(server, **options):
    embeddings = quietly_import("langchain_cloudflare.embeddings")
    return embeddings.CloudflareWorkersAIEmbeddings(api_base_url=f"{server.url}/accounts", account_id="local",
                                                    api_token=TOKEN, **options)


def test_langchain_embeddings_and_vectorize_store_search_the_served_engine(server):
    vectorstores = quietly_import("langchain_cloudflare.vectorstores")
    embeddings = langchain_embeddings(server, model_name=SHIPPED_MODEL)
    store = vectorstores.CloudflareVectorize(embedding=embeddings, account_id="local", api_token=TOKEN,
                                             base_url=server.url, index_name="notes")
    store.create_index(dimensions=256, metric="cosine", include_d1=False)
    ids = [f"doc-{i}" for i in range(len(DOCS))]
    assert store.add_texts(DOCS, metadatas=[{"text": t} for t in DOCS], ids=ids, include_d1=False) == ids
    # langchain asks for topK 20 whatever k is when it asks for all metadata (its default): every text comes back
    found = store.similarity_search_with_score("reading a CSV file", k=3, include_d1=False)
    vectors = embed_locally(DOCS, SHIPPED_MODEL)
    query = embed_locally("reading a CSV file", SHIPPED_MODEL)[0]
    expected = [ids[i] for i in np.argsort(-(vectors @ query))]  # the ranking of the same vectors, by hand
    assert [document.id for document, _ in found] == expected
    assert [d.id for d in store.similarity_search("reading a CSV file", k=2, return_metadata="none",
                                                  include_d1=False)] == expected[:2]
    assert found[0][0].metadata["text"] == DOCS[int(expected[0].split("-")[1])]
    assert "CSV" in found[0][0].metadata["text"]
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    np.testing.assert_allclose(scores[0], float(np.sort(vectors @ query)[-1]), rtol=1e-5)


def test_langchain_batches_of_50_with_its_default_model_bge_base(server):
    embeddings = langchain_embeddings(server)  # default: @cf/baai/bge-base-en-v1.5, batches of 50
    texts = [f"{DOCS[i % len(DOCS)]} number {i}" for i in range(120)]
    vectors = np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
    assert vectors.shape == (120, 768)
    np.testing.assert_array_equal(vectors, embed_locally(texts, BASE))
    query = np.asarray(embeddings.embed_query("parse\na JSON document"), dtype=np.float32)  # newline -> space
    np.testing.assert_array_equal(query, embed_locally("parse a JSON document", BASE)[0])


def test_langchain_sees_the_servers_errors_as_http_errors(server):
    import requests

    with pytest.raises(requests.HTTPError) as raised:
        langchain_embeddings(server, model_name="@cf/baai/bge-tiny").embed_query("hello")
    assert raised.value.response.status_code == 400
    assert raised.value.response.json()["errors"][0]["code"] == 5007
    wrong = langchain_embeddings(server, model_name=SHIPPED_MODEL)
    wrong.headers = {"Authorization": "Bearer not-the-token"}
    with pytest.raises(requests.HTTPError) as refused:
        wrong.embed_query("hello")
    assert refused.value.response.status_code == 401


# --- the cloudflare SDK ----------------------------------------------------------------------------

def sdk(server, sent: list[bytes]):
    cloudflare = quietly_import("cloudflare")
    recorder = httpx.Client(event_hooks={"request": [lambda request: sent.append(request.url.raw_path)]})
    return cloudflare.Cloudflare(base_url=server.url, api_token=TOKEN, max_retries=0, http_client=recorder)


def test_the_sdks_ai_run_with_percent_encoded_slashes(server):
    sent: list[bytes] = []
    with sdk(server, sent) as client:
        result = client.ai.run(SMALL, account_id="local", text=DOCS[:3])
        cls = client.ai.run(SMALL, account_id="local", text="parse a JSON document", extra_body={"pooling": "cls"})
        shipped = client.ai.run(SHIPPED_MODEL, account_id="local", text=DOCS)
    assert sent[0] == b"/client/v4/accounts/local/ai/run/@cf%2Fbaai%2Fbge-small-en-v1.5"
    assert result["shape"] == [3, 384] and result["pooling"] == "mean"
    np.testing.assert_array_equal(np.asarray(result["data"], dtype=np.float32), embed_locally(DOCS[:3], SMALL))
    assert cls["shape"] == [1, 384] and cls["pooling"] == "cls"
    np.testing.assert_array_equal(np.asarray(cls["data"], dtype=np.float32),
                                  embed_locally("parse a JSON document", SMALL, "cls"))
    assert shipped["shape"] == [len(DOCS), 256] and "pooling" in shipped


def test_the_sdk_raises_bad_request_with_workers_ais_codes(server):
    cloudflare = quietly_import("cloudflare")
    with sdk(server, []) as client, pytest.raises(cloudflare.BadRequestError) as unknown:
        client.ai.run("@cf/baai/bge-tiny", account_id="local", text="hello")
    assert unknown.value.status_code == 400 and unknown.value.body["errors"][0]["code"] == 5007
    with sdk(server, []) as client, pytest.raises(cloudflare.BadRequestError) as too_many:
        client.ai.run(SMALL, account_id="local", text=[f"text {i}" for i in range(101)])
    assert "at most 100 texts per request" in too_many.value.body["errors"][0]["message"]
    assert too_many.value.body["result"] == {}


# --- openai-python on the OpenAI-compatible route ---------------------------------------------------

def test_openai_embeddings_with_its_default_base64(server):
    openai = quietly_import("openai")
    sent: list[bytes] = []
    recorder = httpx.Client(event_hooks={"request": [lambda request: sent.append(request.read())]})
    with openai.OpenAI(base_url=f"{server.url}/accounts/local/ai/v1", api_key=TOKEN, max_retries=0,
                       http_client=recorder) as client:
        answer = client.embeddings.create(model=SMALL, input=DOCS[:2])
        floats = client.embeddings.create(model=SHIPPED_MODEL, input="a dog", encoding_format="float")
        with pytest.raises(openai.BadRequestError) as refused:
            client.embeddings.create(model="text-embedding-3-small", input="a dog")
    assert b'"encoding_format":"base64"' in sent[0].replace(b" ", b"")  # what openai-python asks for
    assert [item.index for item in answer.data] == [0, 1] and answer.model == SMALL
    np.testing.assert_array_equal(np.asarray([item.embedding for item in answer.data], dtype=np.float32),
                                  embed_locally(DOCS[:2], SMALL))
    assert answer.usage.prompt_tokens == answer.usage.total_tokens > 0
    assert len(floats.data[0].embedding) == 256
    assert refused.value.status_code == 400
