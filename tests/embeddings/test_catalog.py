"""The model catalog: the facts per model, look-ups, poolings, and the records the lead's table shows."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vectorize_nb.contract.embedding_models import SHIPPED_MODEL, get_model, model_records, resolve_pooling
from vectorize_nb.errors import InvalidRequest, UnknownModel, UnsupportedPooling

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("onnxruntime", "tokenizers", "huggingface_hub", "wordllama", "onnx")


@pytest.mark.parametrize(("size", "dimensions"), [("small", 384), ("base", 768), ("large", 1024)])
def test_the_bge_models_match_workers_ai_and_their_open_weights(size, dimensions):
    model = get_model(f"@cf/baai/bge-{size}-en-v1.5")
    assert (model.dimensions, model.max_texts, model.max_tokens) == (dimensions, 100, 512)
    assert (model.pooling, model.poolings) == ("mean", ("mean", "cls"))
    assert model.weights is not None and model.weights.repo == f"BAAI/bge-{size}-en-v1.5"
    assert model.weights.files == ("onnx/model.onnx", "tokenizer.json")
    assert model.workers_ai and not model.offline and model.runs == ("workers-ai", "local")
    assert model.runtime == "onnx"


def test_the_shipped_model_is_named_for_what_it_is():
    model = get_model(SHIPPED_MODEL)
    assert SHIPPED_MODEL == "wordllama/l2-supercat-256" and model.dimensions == 256
    assert model.offline and not model.workers_ai and model.runs == ("shipped",) and model.runtime == "static"
    assert model.max_texts == 100 and model.max_tokens is None and model.weights is None


@pytest.mark.parametrize(("model", "dimensions", "max_texts", "max_tokens"), [
    ("@cf/baai/bge-m3", 1024, 100, None),
    ("@cf/qwen/qwen3-embedding-0.6b", 1024, 32, 8192),
    ("@cf/google/embeddinggemma-300m", 768, None, None),  # no maxItems in its schema: the client sends 100
    ("@cf/pfnet/plamo-embedding-1b", 2048, None, None),
])
def test_workers_ai_only_models_carry_their_dimensions_and_request_limits(model, dimensions, max_texts, max_tokens):
    """The client checks Workers AI's answer against `dimensions` and sends `max_texts` a request: a wrong figure
    fails every call, or every request over the model's maxItems."""
    spec = get_model(model)
    assert (spec.dimensions, spec.max_texts, spec.max_tokens) == (dimensions, max_texts, max_tokens)
    assert (spec.runs, spec.runtime, spec.poolings) == (("workers-ai",), None, ())


def test_the_open_weights_repository_names_the_same_model():
    assert get_model("BAAI/bge-base-en-v1.5") is get_model("@cf/baai/bge-base-en-v1.5")


def test_an_unknown_model_is_refused_with_the_closest_names():
    with pytest.raises(UnknownModel) as caught:
        get_model("@cf/baai/bge-smal-en-v1.5")
    assert isinstance(caught.value, InvalidRequest) and caught.value.code == 5007
    assert "did you mean @cf/baai/bge-small-en-v1.5" in str(caught.value)


def test_poolings_resolve_to_the_default_or_are_refused():
    bge = get_model("@cf/baai/bge-small-en-v1.5")
    assert resolve_pooling(bge, None) == "mean" and resolve_pooling(bge, "cls") == "cls"
    with pytest.raises(UnsupportedPooling, match="one of mean, cls, not pooling='max'"):
        resolve_pooling(bge, "max")
    with pytest.raises(UnsupportedPooling, match="no pooling input") as caught:
        resolve_pooling(get_model("@cf/baai/bge-m3"), "cls")
    assert caught.value.code == 5006
    assert resolve_pooling(get_model(SHIPPED_MODEL), None) == "mean"


def test_records_are_plain_rows_for_a_table():
    records = {r["model"]: r for r in model_records()}
    assert records[SHIPPED_MODEL] == {
        "model": SHIPPED_MODEL, "dimensions": 256, "max_texts": 100, "max_tokens": None, "pooling": "mean",
        "poolings": "mean", "offline": True, "runs": "shipped", "weights": "wordllama", "download_mb": 0}
    small = records["@cf/baai/bge-small-en-v1.5"]
    assert (small["runs"], small["offline"], small["weights"]) == ("workers-ai, local", False, "BAAI/bge-small-en-v1.5")


def run_isolated(script: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_package_loads_no_runtime():
    loaded = run_isolated(f"""
        import sys
        import vectorize_nb, vectorize_nb.embeddings
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    assert loaded == "[]"


def test_the_catalog_and_checks_need_only_the_standard_library_and_numpy():
    """The subpackage imports with pandas, requests and every runtime blocked (as vectorize_nb.local is)."""
    out = run_isolated(f"""
        import sys, types
        for name in {HEAVY + ("pandas", "requests", "tqdm")!r}:
            sys.modules[name] = None
        package = types.ModuleType("vectorize_nb")
        package.__path__ = [{str(ROOT / "vectorize_nb")!r}]
        sys.modules["vectorize_nb"] = package
        from vectorize_nb.contract.embedding_models import get_model
        from vectorize_nb.embeddings import embed_locally
        from vectorize_nb.embeddings.cache import EmbeddingCache
        print(get_model("@cf/baai/bge-large-en-v1.5").dimensions)
    """)
    assert out == "1024"


def test_embedding_errors_carry_workers_ai_codes_in_the_package_tree():
    from vectorize_nb import errors

    assert errors.TextTooLong("x").code == errors.TextNotString("x").code == 5006
    assert errors.error_class(5006) is errors.BadEmbeddingInput and errors.error_class(5007) is errors.UnknownModel
    assert errors.ModelNotAvailable("x").code == 40115 and errors.ModelNotAvailable.status == 400  # deterministic


def test_an_unknown_model_with_no_close_name_reads_as_sentences():
    """It read "No such model '@cf/nope' The package knows: ..." (no stop between the two)."""
    with pytest.raises(UnknownModel) as caught:
        get_model("@cf/nope")
    assert caught.value.message.startswith("No such model '@cf/nope'. The package knows: @cf/baai/bge-small-en-v1.5, ")
