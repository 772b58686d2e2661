import numpy as np

from vectorize_nb import datasets


def test_digits_are_bundled_and_labelled():
    digits = datasets.digits()
    assert digits.shape == (1797, 3) and digits["id"].is_unique
    assert digits["embedding"].iloc[0].dtype == np.float32 and digits["embedding"].iloc[0].shape == (64,)
    assert sorted(digits["label"].unique().tolist()) == list(range(10))


def test_stdlib_docs_are_read_without_importing_the_modules_and_embed_new_text():
    docs, embed = datasets.stdlib_docs(dimensions=32, modules=("json", "smtplib", "textwrap"))
    assert docs["id"].is_unique and set(docs["module"]) == {"json", "smtplib", "textwrap"}
    assert set(docs["kind"]) <= {"module", "class", "function"} and docs["text"].str.len().min() >= 80
    matrix = np.stack(docs["embedding"])
    assert matrix.shape == (len(docs), 32) and np.allclose(np.linalg.norm(matrix, axis=1), 1, atol=1e-5)
    again, _ = datasets.stdlib_docs(dimensions=32, modules=("json", "smtplib", "textwrap"))
    assert np.array_equal(np.stack(again["embedding"]), matrix)  # seeded: the same vectors every time
    question = embed(["send mail through an SMTP server"])
    assert question.shape == (1, 32)
    best = docs["id"].iloc[int(np.argmax(matrix @ question[0]))]
    assert best.startswith("smtplib")


def test_binder_builds_on_python_311_with_the_notebook_extras():
    from pathlib import Path

    binder = Path(__file__).resolve().parents[1] / "binder"
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    assert ".[notebooks]" in (binder / "requirements.txt").read_text().split()
    post_build = binder / "postBuild"
    assert post_build.stat().st_mode & 0o111 and "set -euo pipefail" in post_build.read_text()
    assert 'python -c "import umap"' in post_build.read_text()
