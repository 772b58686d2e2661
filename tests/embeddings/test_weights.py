"""Open weights from the Hub: the first use downloads them into the standard cache, later uses run
offline, and with no way to get them the call fails after one request, naming the model.

Each case runs in a fresh interpreter with the environment a user would set (HF_HOME, HF_ENDPOINT,
HF_HUB_OFFLINE): huggingface_hub reads them when it is imported. A stand-in Hub on 127.0.0.1 serves
the tiny model's files under bge-small's repository name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from vectorize_nb.embeddings.transformer import TransformerModel

from .hub import COMMIT, serving

ROOT = Path(__file__).resolve().parents[2]
REPO = "BAAI/bge-small-en-v1.5"
TEXTS = ["read the csv file", "a dog in the rain"]
EMBED = f"""
    import json, sys
    from vectorize_nb.embeddings import embed_locally
    from vectorize_nb.errors import ModelNotAvailable
    try:
        print(json.dumps(embed_locally({TEXTS!r}, "@cf/baai/bge-small-en-v1.5").tolist()))
    except ModelNotAvailable as error:
        print(json.dumps(str(error)))
"""


def run(home: Path, endpoint: str, script: str = EMBED, **env: str) -> object:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("HF_")}
    environment.update(HF_HOME=str(home), HF_ENDPOINT=endpoint, PYTHONPATH=str(ROOT), **env)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=environment, capture_output=True,
                            text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def file_requests(hub) -> list[tuple[str, str]]:
    return [r for r in hub.requests if r[1].startswith(f"/{REPO}/")]


def test_first_use_downloads_into_the_hugging_face_cache_then_runs_offline(tmp_path, tiny_repo):
    reference = TransformerModel.load(tiny_repo / "onnx" / "model.onnx", tiny_repo / "tokenizer.json", name="ref")
    expected = reference.embed(TEXTS, "mean")
    with serving(REPO, tiny_repo) as hub:
        downloaded = run(tmp_path, hub.url)
    assert ("GET", f"/{REPO}/resolve/main/onnx/model.onnx") in hub.requests
    np.testing.assert_allclose(np.array(downloaded), expected, atol=1e-6)
    snapshot = tmp_path / "hub" / f"models--{REPO.replace('/', '--')}" / "snapshots" / COMMIT
    assert (snapshot / "onnx" / "model.onnx").read_bytes() == (tiny_repo / "onnx" / "model.onnx").read_bytes()
    assert (snapshot / "tokenizer.json").is_file()
    with serving(REPO, status=503) as hub:  # the Hub is down now: the cache is enough
        offline = run(tmp_path, hub.url, HF_HUB_OFFLINE="1")
        unreachable = run(tmp_path, hub.url)
    assert file_requests(hub) == []
    np.testing.assert_allclose(np.array(offline), expected, atol=1e-6)
    np.testing.assert_allclose(np.array(unreachable), expected, atol=1e-6)


def test_an_unreachable_hub_fails_after_one_request_naming_the_model(tmp_path):
    with serving(REPO, status=503) as hub:
        message = run(tmp_path, hub.url)
    assert file_requests(hub) == [("HEAD", f"/{REPO}/resolve/main/onnx/model.onnx")]  # no retries, no backoff
    assert isinstance(message, str)
    assert message.startswith("@cf/baai/bge-small-en-v1.5 needs its open weights (BAAI/bge-small-en-v1.5)")
    assert "the Hugging Face Hub cannot be reached" in message and "503" in message
    assert "vectorize_nb.embeddings.download('@cf/baai/bge-small-en-v1.5')" in message


def test_no_network_at_all_fails_naming_the_model(tmp_path):
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback
    message = run(tmp_path, closed)
    assert isinstance(message, str) and "cannot be reached (ConnectError" in message
    assert "wordllama/l2-supercat-256" in message


def test_offline_mode_makes_no_request(tmp_path):
    with serving(REPO, status=503) as hub:
        message = run(tmp_path, hub.url, HF_HUB_OFFLINE="1")
    assert hub.requests == [] and isinstance(message, str) and "HF_HUB_OFFLINE is set" in message
