"""The open-weights runtime on a tiny random encoder: tokenising, both poolings, padding, limits."""

from __future__ import annotations

import numpy as np
import pytest

from vectorize_nb.errors import ModelNotAvailable, TextTooLong
from vectorize_nb.embeddings.transformer import TransformerModel

from .tiny import build_graph, build_tokenizer

TEXTS = ["read the csv file", "cat", "dogs reading json files while the sun is un doing rain", "parse text"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    build_graph(folder / "model.onnx", hidden=48)
    build_tokenizer(folder / "tokenizer.json")
    return folder


@pytest.fixture(scope="module")
def model(tiny):
    return TransformerModel.load(tiny / "model.onnx", tiny / "tokenizer.json", name="tiny", max_tokens=512)


def hidden_alone(model: TransformerModel, text: str) -> np.ndarray:
    """The graph's own last hidden state for one text, run alone (no padding): (tokens, hidden)."""
    ids = np.array([model.tokenizer.encode(text).ids], np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    return model.session.run(["last_hidden_state"], feed)[0][0]


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def test_the_tokenizer_wraps_each_text_in_cls_and_sep(model):
    encoding = model.tokenizer.encode("Reading CSV files")
    assert encoding.tokens == ["[CLS]", "read", "##ing", "csv", "file", "##s", "[SEP]"]
    assert model.count_tokens(["Reading CSV files", "cat"]).tolist() == [7, 3]


def test_mean_pooling_is_the_mean_of_the_graphs_own_token_vectors(model):
    vectors = model.embed(TEXTS, "mean")
    expected = np.stack([unit(hidden_alone(model, t).mean(axis=0)) for t in TEXTS])
    assert vectors.dtype == np.float32 and vectors.shape == (4, 48)
    np.testing.assert_allclose(vectors, expected, atol=2e-6)


def test_cls_pooling_is_the_first_tokens_vector_and_differs_from_mean(model):
    cls = model.embed(TEXTS, "cls")
    expected = np.stack([unit(hidden_alone(model, t)[0]) for t in TEXTS])
    np.testing.assert_allclose(cls, expected, atol=2e-6)
    mean = model.embed(TEXTS, "mean")
    assert np.all(np.abs(np.sum(cls * mean, axis=1)) < 0.99)


def test_every_row_has_unit_length(model):
    for pooling in ("mean", "cls"):
        np.testing.assert_allclose(np.linalg.norm(model.embed(TEXTS, pooling), axis=1), 1.0, atol=1e-6)


def test_padding_and_batching_do_not_change_a_texts_vector(model, tiny):
    alone = np.concatenate([model.embed([t], "mean") for t in TEXTS])
    together = model.embed(TEXTS, "mean")
    np.testing.assert_allclose(together, alone, atol=2e-6)
    one_per_call = TransformerModel.load(tiny / "model.onnx", tiny / "tokenizer.json", name="tiny")
    one_per_call.token_budget = 1
    np.testing.assert_allclose(one_per_call.embed(TEXTS, "mean"), together, atol=2e-6)
    shuffled = [3, 0, 2, 1]
    np.testing.assert_allclose(model.embed([TEXTS[i] for i in shuffled], "mean"), together[shuffled], atol=2e-6)


def test_the_mask_is_fed_to_the_graph(model):
    """The tiny graph mixes each token with the mean of the real tokens, so feeding padding as real
    tokens would change the vector: the runtime's vector must match the unpadded run."""
    short, long = TEXTS[1], TEXTS[2]
    padded = model.embed([short, long], "mean")[0]
    ids = np.array([model.tokenizer.encode(short).ids + [0] * 10], np.int64)
    wrong = model.session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                                      "token_type_ids": np.zeros_like(ids)})[0][0][:3].mean(axis=0)
    assert np.dot(padded, unit(wrong)) < 0.999
    np.testing.assert_allclose(padded, unit(hidden_alone(model, short).mean(axis=0)), atol=2e-6)


def test_a_text_at_the_limit_runs_and_one_token_more_is_refused(model):
    at_limit = " ".join(["word"] * 510)  # 510 + [CLS] + [SEP] = 512
    assert model.embed([at_limit], "mean").shape == (1, 48)
    with pytest.raises(TextTooLong) as caught:
        model.embed(["cat", at_limit + " dog", "dog"], "mean")
    assert caught.value.code == 5006
    assert "row 1 has 513 tokens" in str(caught.value) and "at most 512" in str(caught.value)


def test_a_tokenizer_that_truncates_by_itself_does_not_hide_a_long_text(tmp_path, tiny):
    build_tokenizer(tmp_path / "tokenizer.json", truncate_at=16)
    model = TransformerModel.load(tiny / "model.onnx", tmp_path / "tokenizer.json", name="tiny", max_tokens=512)
    assert model.count_tokens([" ".join(["cat"] * 40)]).tolist() == [42]
    with pytest.raises(TextTooLong, match="row 0 has 602 tokens"):
        model.embed([" ".join(["cat"] * 600)], "cls")


def test_a_graph_without_token_type_ids_runs(tmp_path, tiny):
    build_graph(tmp_path / "model.onnx", hidden=16, token_types=False)
    model = TransformerModel.load(tmp_path / "model.onnx", tiny / "tokenizer.json", name="tiny")
    assert list(model._inputs) == ["input_ids", "attention_mask"]
    assert model.embed(TEXTS, "cls").shape == (4, 16)


def test_weights_of_the_wrong_width_are_refused(tiny):
    with pytest.raises(ModelNotAvailable, match="gives 48 values per token, but bge has 384 dimensions"):
        TransformerModel.load(tiny / "model.onnx", tiny / "tokenizer.json", name="bge", dimensions=384)


def test_no_texts_gives_an_empty_matrix(model):
    assert model.embed([], "mean").shape == (0, 48)
