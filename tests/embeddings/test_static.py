"""The shipped model, for real: wordllama's 256-dimension static model from inside its wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vectorize_nb.contract.embedding_models import SHIPPED_MODEL, get_model
from vectorize_nb.embeddings import embed_locally, loader
from vectorize_nb.embeddings.static import BATCH_TOKENS, StaticModel

PAIRS = [  # (text, a paraphrase, an unrelated sentence)
    ("How do I read a CSV file?", "Load comma-separated values from a spreadsheet export",
     "My cat sleeps on the warm sofa all afternoon"),
    ("The stock market fell sharply today", "Shares dropped as investors sold equities",
     "Preheat the oven and bake the bread for an hour"),
    ("A recipe for tomato soup", "How to cook a vegetable soup with tomatoes", "The football match ended in a draw"),
    ("The patient was treated for a fever", "The doctor gave medicine for the high temperature",
     "The train to Paris departs at noon"),
]


def test_vectors_are_float32_unit_rows_of_256():
    vectors = embed_locally([p[0] for p in PAIRS], SHIPPED_MODEL)
    assert vectors.dtype == np.float32 and vectors.shape == (4, get_model(SHIPPED_MODEL).dimensions) == (4, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_the_same_text_gives_the_same_vector_across_calls_batches_and_loads():
    texts = [t for pair in PAIRS for t in pair]
    first = embed_locally(texts, SHIPPED_MODEL)
    np.testing.assert_array_equal(embed_locally(texts[::-1], SHIPPED_MODEL)[::-1], first)
    loader.forget()
    np.testing.assert_array_equal(embed_locally(texts, SHIPPED_MODEL), first)


def test_they_are_wordllamas_own_vectors_scaled_to_unit_length():
    wordllama = pytest.importorskip("wordllama")
    model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    texts = [t for pair in PAIRS for t in pair]
    raw = model.embed(texts)  # wordllama's default: not normalised
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    np.testing.assert_allclose(embed_locally(texts, SHIPPED_MODEL), raw / np.linalg.norm(raw, axis=1, keepdims=True),
                               atol=1e-6)


def test_a_long_text_among_short_ones_is_not_padded_into_their_batch(monkeypatch):
    model = StaticModel.load()
    texts = ["short text"] * 40 + ["word " * 20_000] + [p[0] for p in PAIRS] * 5 + ["a middling text " * 2_000] + \
        ["🙂" * 500] * 30  # four tokens a character: a batch is sized by bytes
    alone = np.vstack([model.embed([text]) for text in texts])
    padded_to = []
    embed = model.inference.embed

    def spied(batch, **options):
        padded_to.append(len(batch) * max(len(model.inference.tokenize([t])[0].ids) for t in batch))
        return embed(batch, **options)

    monkeypatch.setattr(model.inference, "embed", spied)
    np.testing.assert_allclose(model.embed(texts), alone, atol=1e-6)
    assert len(padded_to) > 1 and max(padded_to) <= BATCH_TOKENS  # 65 x 20,002 token slots in one batch before


def test_a_text_longer_than_a_batch_is_the_exact_mean_of_its_token_vectors():
    model = StaticModel.load()
    text = " ".join(f"w{i % 5000} token" for i in range(15_000))
    ids = np.asarray(model.inference.tokenize([text])[0].ids)
    assert len(ids) > BATCH_TOKENS
    mean = model.inference.embedding[np.clip(ids, 0, len(model.inference.embedding) - 1)].astype(np.float64).mean(0)
    np.testing.assert_allclose(model.embed([text])[0], mean / np.linalg.norm(mean), atol=1e-7)


@pytest.mark.parametrize(("text", "close", "far"), PAIRS)
def test_a_paraphrase_scores_higher_than_an_unrelated_sentence(text, close, far):
    a, b, c = embed_locally([text, close, far], SHIPPED_MODEL)
    assert float(a @ b) > float(a @ c) + 0.3


def test_whitespace_only_text_still_gives_a_unit_vector():
    np.testing.assert_allclose(np.linalg.norm(embed_locally([" ", "\t"], SHIPPED_MODEL), axis=1), 1.0, atol=1e-6)


def test_the_shipped_model_loads_with_no_network_and_empty_caches(tmp_path):
    """wordllama's loader looks for its tokenizer in a folder its wheel lacks and then downloads it; on a machine
    that never did, with no network, it failed. Run in a fresh interpreter whose home and caches are empty and
    whose requests.get (wordllama's download) raises."""
    script = textwrap.dedent(f"""
        import requests

        def offline(url, *args, **kwargs):
            raise requests.ConnectionError(f"no network: {{url}}")

        requests.get = offline
        from vectorize_nb.embeddings import embed_locally
        print(embed_locally(["hello", "world"], {SHIPPED_MODEL!r}).shape)
    """)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(2, 256)"


def test_loading_leaves_the_root_logger_as_it_was():
    """Importing wordllama calls logging.basicConfig(level=INFO), which would print every library's INFO
    records in a notebook; the loader undoes it. Run in a fresh interpreter (pytest configures logging)."""
    script = textwrap.dedent(f"""
        import logging
        from vectorize_nb.embeddings import embed_locally
        embed_locally(["hello"], {SHIPPED_MODEL!r})
        root = logging.getLogger()
        print(root.handlers, logging.getLevelName(root.level))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] WARNING"


@pytest.mark.parametrize("failure, said", [
    (ModuleNotFoundError("No module named 'wordllama'", name="wordllama"),
     "The shipped model needs wordllama, which is not installed: pip install 'vectorize-nb[embeddings]'"),
    (ImportError("libfoo.so: failed to map segment from shared object"),
     "The shipped model needs wordllama, which is installed but failed to import (ImportError: libfoo.so: failed "
     "to map segment from shared object); the process may be out of memory"),
])
def test_wordllama_that_fails_to_import_is_not_called_missing(monkeypatch, failure, said):
    """At a memory limit, or with a dependency of its own missing, wordllama was said not to be installed."""
    import builtins

    from vectorize_nb.errors import ModelNotAvailable

    real = builtins.__import__

    def failing(name, *args, **kwargs):
        if name == "wordllama":
            raise failure
        return real(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "wordllama", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing)
    with pytest.raises(ModelNotAvailable) as refused:
        StaticModel.load()
    assert said in str(refused.value)
