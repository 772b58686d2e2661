"""The API reference builds from the docstrings with warnings as errors, and names every public name."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vectorize_nb
from vectorize_nb import datasets, errors, viz, widgets
from vectorize_nb.accessor import VectorizeAccessor

ROOT = Path(__file__).resolve().parents[1]
ACCESSOR_METHODS = [name for name in vars(VectorizeAccessor) if not name.startswith("_")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    """The text of every built page of the API reference: `mkdocs build --strict` into a temporary folder."""
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if mkdocs is None:
        pytest.fail("mkdocs is missing: install the test extras (pip install -e '.[test]')")
    site = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(site)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted((site / "reference").rglob("index.html")))


def documented(reference: str) -> set[str]:
    """The last part of every documented object's anchor: `id="vectorize_nb.viz.plot_index"` -> plot_index."""
    return {anchor.rsplit(".", 1)[-1] for anchor in re.findall(r'id="(vectorize_nb[\w.]*)"', reference)}


def test_the_reference_builds_with_warnings_as_errors_and_holds_every_public_name(reference):
    names = documented(reference)
    for group in (vectorize_nb.__all__, viz.__all__, widgets.__all__, datasets.__all__, ACCESSOR_METHODS):
        assert set(group) - {"errors"} <= names, sorted(set(group) - names)
    assert 'id="vectorize_nb.errors' in reference


def test_every_exception_is_in_the_reference(reference):
    assert set(errors.__all__) <= documented(reference), sorted(set(errors.__all__) - documented(reference))



def test_what_the_architecture_says_errors_exports_it_does():
    """docs/architecture.md said `errors` re-exports `quoted`, a helper of messages it does not export."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    claims = re.findall(r"^\| `[\w./]+` \| (.*?)\(`errors` (?:re-)?exports \w+\)", text, flags=re.MULTILINE)
    names = [name for claim in claims for name in re.findall(r"`(\w+)`", claim)]
    assert {"VectorizeError", "during", "VectorizeWarning"} <= set(names)
    assert [name for name in names if not hasattr(errors, name)] == []

def test_parameters_are_described(reference):
    for parameter in ("exist_ok", "max_categories", "return_metadata", "on_error"):
        assert f"<code>{parameter}</code>" in reference, parameter


def fenced_blocks() -> dict[str, str]:
    """Every fenced code block of README.md and docs/*.md, by file, language and the start of its first line."""
    blocks = {}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for language, body in re.findall(r"^```(\w*)\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.M | re.S):
            blocks[f"{page.relative_to(ROOT)} {language or 'text'}: {body.splitlines()[0][:60].rstrip()}"] = body
    return blocks


# How each block is kept right; a new block fails test_every_fenced_block_is_accounted_for until listed.
BLOCKS = {
    'README.md bash: python3 -m venv .venv && .venv/bin/pip install ".[notebooks]': "test_readme (installs)",
    "README.md python: import numpy as np, pandas as pd": "test_readme: the ten lines, run twice",
    "README.md bash: vectorize-nb serve --path ./.vectorize --port 8787      # or": "its arguments parse (below)",
    'README.md bash: python3 -m venv .venv && .venv/bin/pip install -e ".[test]"': "test_readme (installs)",
    'README.md python: cloud = vz.connect("cloudflare")': "run with a served engine as Cloudflare (below)",
    "docs/architecture.md text: widgets/          ipywidgets panels: IndexManager, MetadataI": "a drawing",
    "docs/fidelity.md bash: vectorize-nb serve --memory --port 8787        # base URL ht": "it parses (below)",
    "docs/fidelity.md python: from cloudflare import Cloudflare": "run against vz.serve (below)",
    "docs/fidelity.md bash: npm install wrangler": "tests/local/test_wrangler.py runs these commands",
    'docs/index.md bash: python3 -m venv .venv && .venv/bin/pip install ".[notebooks]': "an install: not run here",
    "docs/index.md python: import numpy as np": "run twice in a fresh folder (below)",
}


def test_every_fenced_block_is_accounted_for():
    assert set(fenced_blocks()) == set(BLOCKS), set(fenced_blocks()) ^ set(BLOCKS)


def test_the_serve_commands_shown_parse():
    from vectorize_nb.cli import _parser

    for key, body in fenced_blocks().items():
        for command in re.findall(r"(?:vectorize-nb|python -m vectorize_nb) (serve[^#\n]*)", body):
            args = _parser().parse_args(command.split())
            assert args.memory or args.path == "./.vectorize", (key, command)


@pytest.mark.filterwarnings("ignore:Passing raw bytes as `body`:DeprecationWarning")  # the SDK's own insert
def test_the_python_sdk_block_of_fidelity_runs_against_serve():
    pytest.importorskip("cloudflare")
    import json

    import numpy as np

    block = fenced_blocks()["docs/fidelity.md python: from cloudflare import Cloudflare"]
    vectors = np.random.default_rng(0).standard_normal((3, 32))
    rows = [{"id": f"v{i}", "values": row.tolist(), "namespace": "ns1", "metadata": {"genre": "drama"}}
            for i, row in enumerate(vectors)]
    names = {"ndjson_bytes": "\n".join(map(json.dumps, rows)).encode(), "q": vectors[0].tolist()}
    with vectorize_nb.serve(memory=True) as server:
        exec(block.replace("http://127.0.0.1:8787/client/v4", server.url), names)
        answer = names["idx"].query("docs", account_id="local", vector=names["q"], top_k=5, return_metadata="all",
                                    filter={"genre": "drama"}, extra_body={"namespace": "ns1"})
    assert [match.id for match in names["page"].vectors] == ["v0", "v1", "v2"]
    assert answer.matches[0].id == "v0" and answer.matches[0].metadata == {"genre": "drama"}


def test_the_copy_to_block_of_the_readme_runs_against_serve():
    import numpy as np

    block = fenced_blocks()['README.md python: cloud = vz.connect("cloudflare")']
    with vectorize_nb.connect("memory") as laptop, vectorize_nb.serve(memory=True) as server:
        films = laptop.create_index("films", dimensions=32)
        films.upsert(["a", "b"], np.eye(2, 32))
        names = {"vz": vectorize_nb, "films": films}
        exec(block.replace('vz.connect("cloudflare")', f"vz.connect({server.url!r})"), names)
        with names["cloud"]:
            assert names["copied"].to_frame()["id"].tolist() == ["a", "b"]


def test_the_first_query_of_the_docs_home_runs_twice(tmp_path, monkeypatch):
    """The docs' home page stopped at pip install: a newcomer on the site had no first query."""
    block = fenced_blocks()["docs/index.md python: import numpy as np"]
    *lines, last = block.strip().splitlines()
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # a notebook's cells run again
        names: dict[str, object] = {}
        exec("\n".join(lines), names)
        with names["client"]:
            answer = eval(last.split("#")[0], names)
        assert answer["id"].tolist()[0] == "0" and len(answer) == 5
