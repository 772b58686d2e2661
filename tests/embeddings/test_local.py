"""embed_locally: the catalog, the checks before anything runs, open weights from the Hugging Face
cache, and no silent substitution."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from vectorize_nb.contract.embedding_models import SHIPPED_MODEL, get_model
from vectorize_nb.embeddings import embed_locally, loader
from vectorize_nb.embeddings.transformer import TransformerModel
from vectorize_nb.errors import (EmptyText, InvalidRequest, ModelNotAvailable, TextNotString, TextTooLong, UnknownModel,
                                 UnsupportedPooling)

from .tiny import fill_hub_cache

BGE = "@cf/baai/bge-small-en-v1.5"
TEXTS = ["read the csv file", "parse json", "a dog in the rain"]


@pytest.fixture
def cached_bge(hf_cache, tiny_repo):
    """The tiny model in the Hugging Face cache as if it were bge-small's downloaded weights."""
    fill_hub_cache(hf_cache, "BAAI/bge-small-en-v1.5", tiny_repo)
    return hf_cache


@pytest.mark.parametrize(("texts", "error", "message"), [
    (["a", "b", None], TextNotString, "row 2 is None, not text"),
    (["a", math.nan], TextNotString, "NaN (a missing value)"),
    ([3, "b", b"c"], TextNotString, "rows 0, 2 are not text (row 0 is 3 of type int)"),
    (["a", "", "c"], EmptyText, "row 1 is empty"),
    (["", "", "", "", "", "", ""], EmptyText, "rows 0, 1, 2, 3, 4 and 2 more are empty"),
    (b"bytes", TextNotString, "not bytes"),
])
def test_bad_rows_are_named_before_anything_loads(texts, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        embed_locally(texts, SHIPPED_MODEL)
    assert isinstance(caught.value, InvalidRequest) and caught.value.code == 5006
    assert loader.loaded() == []


@pytest.mark.parametrize(("texts", "row"), [(["a", "b", None], 2), ([3, "b", b"c"], 0), (["a", "", "c"], 1),
                                            (["a", "", ""], 1)])
def test_the_row_a_bad_text_is_named_by_is_the_errors_row(texts, row):
    """The message named the row but `error.row` was None, so a caller could not point at it."""
    with pytest.raises((TextNotString, EmptyText)) as caught:
        embed_locally(texts, SHIPPED_MODEL)
    assert caught.value.row == row


def test_a_frame_is_refused_not_read_as_its_column_names():
    """A DataFrame iterates its column labels: df[["text"]] embedded the word "text", one vector for a frame of
    three rows."""
    import pandas as pd

    frame = pd.DataFrame({"text": ["read a csv file", "parse json", "plot a chart"]})
    with pytest.raises(TextNotString, match=r"not a DataFrame: pass its column of texts, df\['text'\]"):
        embed_locally(frame[["text"]], SHIPPED_MODEL)
    assert loader.loaded() == []
    with pytest.raises(TextNotString) as refused:
        embed_locally(frame.assign(n=1), SHIPPED_MODEL)  # two columns: which is not known
    assert "df[column]" in str(refused.value) and "dropna" not in str(refused.value)  # not the hint of a missing text


def test_a_non_string_row_is_also_a_type_error():
    with pytest.raises(TypeError):
        embed_locally(["ok", 1.5], SHIPPED_MODEL)


def test_an_unknown_model_or_pooling_is_refused_before_anything_loads():
    with pytest.raises(UnknownModel):
        embed_locally(TEXTS, "bge-small")
    with pytest.raises(UnsupportedPooling):
        embed_locally(TEXTS, SHIPPED_MODEL, pooling="cls")
    assert loader.loaded() == []


def test_open_weights_run_from_the_hugging_face_cache_with_workers_ais_default_pooling(cached_bge, tiny_repo):
    reference = TransformerModel.load(tiny_repo / "onnx" / "model.onnx", tiny_repo / "tokenizer.json", name="ref")
    vectors = embed_locally(TEXTS, BGE)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_array_equal(vectors, reference.embed(TEXTS, "mean"))
    np.testing.assert_array_equal(embed_locally(TEXTS, BGE, pooling="cls"), reference.embed(TEXTS, "cls"))
    np.testing.assert_array_equal(embed_locally(TEXTS, "BAAI/bge-small-en-v1.5"), vectors)


def test_a_loaded_model_is_kept_for_the_next_call(cached_bge):
    embed_locally(["a"], BGE)
    first = loader.load(get_model(BGE))
    embed_locally(["b"], BGE, pooling="cls")
    assert loader.load(get_model(BGE)) is first and loader.loaded() == [BGE]


def test_the_model_token_limit_applies(cached_bge):
    with pytest.raises(TextTooLong, match=f"row 1 has 602 tokens; {BGE} takes at most 512"):
        embed_locally(["cat", " ".join(["dog"] * 600)], BGE)


def test_missing_weights_offline_name_the_model_and_the_way_out(hf_cache):
    with pytest.raises(ModelNotAvailable) as caught:
        embed_locally(TEXTS, "@cf/baai/bge-base-en-v1.5")
    message = str(caught.value)
    assert "@cf/baai/bge-base-en-v1.5 needs its open weights (BAAI/bge-base-en-v1.5)" in message
    assert "HF_HUB_OFFLINE is set" in message
    assert "vectorize_nb.embeddings.download('@cf/baai/bge-base-en-v1.5')" in message
    assert "hf download BAAI/bge-base-en-v1.5 onnx/model.onnx tokenizer.json" in message
    assert f"or use '{SHIPPED_MODEL}', which needs no download" in message


@pytest.mark.parametrize("missing", ["huggingface_hub", "onnxruntime", "tokenizers"])
def test_open_weights_without_the_embeddings_extra_name_it(cached_bge, monkeypatch, missing):
    """A bge model on a bare install raised a bare ModuleNotFoundError; the shipped model names the extra."""
    import vectorize_nb as vz

    monkeypatch.setitem(sys.modules, missing, None)  # an import of it now fails
    with vz.connect("memory") as client, pytest.raises(ModelNotAvailable) as caught:
        client.embed(["hello"], BGE)
    assert caught.value.code == 40115
    assert caught.value.message == (f"{BGE} needs {missing}, which is not installed: "
                                    f"pip install 'vectorize-nb[embeddings]'")


def test_a_download_without_the_embeddings_extra_names_it(hf_cache, monkeypatch):
    from vectorize_nb.embeddings import download

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ModelNotAvailable) as caught:
        download(BGE)
    assert caught.value.message == ("downloading @cf/baai/bge-small-en-v1.5 needs huggingface_hub, which is not "
                                    "installed: pip install 'vectorize-nb[embeddings]'")


def test_a_workers_ai_only_model_is_not_replaced_by_another(hf_cache):
    with pytest.raises(ModelNotAvailable, match="@cf/qwen/qwen3-embedding-0.6b runs only on Workers AI"):
        embed_locally(TEXTS, "@cf/qwen/qwen3-embedding-0.6b")


def test_no_texts_give_an_empty_matrix_of_the_models_width(cached_bge):
    assert embed_locally([], BGE).shape == (0, 384)
