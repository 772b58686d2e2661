import numpy as np
import pytest

from vectorize_nb import datasets


def test_digits_are_bundled_and_labelled():
    digits = datasets.digits()
    assert digits.shape == (1797, 3) and digits["id"].is_unique
    assert digits["embedding"].iloc[0].dtype == np.float32 and digits["embedding"].iloc[0].shape == (64,)
    assert sorted(digits["label"].unique().tolist()) == list(range(10))


def test_stdlib_docs_are_read_without_importing_the_modules():
    docs = datasets.stdlib_docs(modules=("json", "smtplib", "textwrap"))
    assert docs.columns.tolist() == ["id", "module", "kind", "name", "text"] and docs["id"].is_unique
    assert set(docs["module"]) == {"json", "smtplib", "textwrap"}
    assert set(docs["kind"]) <= {"module", "class", "function"} and docs["text"].str.len().min() >= 80
    assert "smtplib:SMTP.sendmail" in set(docs["id"])


def test_the_tfidf_baseline_embeds_new_text_in_the_same_space():
    docs = datasets.stdlib_docs(modules=("json", "smtplib", "textwrap"))
    embed = datasets.tfidf(docs["text"], dimensions=32)
    matrix = embed(docs["text"])
    assert matrix.shape == (len(docs), 32) and np.allclose(np.linalg.norm(matrix, axis=1), 1, atol=1e-5)
    assert np.array_equal(datasets.tfidf(docs["text"], dimensions=32)(docs["text"]), matrix)  # seeded
    question = embed(["send mail through an SMTP server"])
    assert docs["id"].iloc[int(np.argmax(matrix @ question[0]))].startswith("smtplib")


def test_binder_builds_on_python_311_with_the_notebook_extras():
    from pathlib import Path

    binder = Path(__file__).resolve().parents[1] / "binder"
    assert (binder / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    assert ".[notebooks]" in (binder / "requirements.txt").read_text(encoding="utf-8").split()
    post_build = binder / "postBuild"
    assert post_build.stat().st_mode & 0o111 and "set -euo pipefail" in post_build.read_text(encoding="utf-8")
    assert 'python -c "import umap"' in post_build.read_text(encoding="utf-8")


@pytest.mark.parametrize("dimensions", [47, 64, 0])
def test_the_tfidf_baseline_says_how_many_dimensions_its_texts_allow(dimensions):
    """It raised scipy's "`k` must be an integer satisfying `0 < k < min(A.shape)`", naming no argument."""
    texts = datasets.stdlib_docs(modules=("csv", "json", "pathlib"))["text"].head(47)
    with pytest.raises(ValueError, match=rf"dimensions must be from 1 to 46 for these 47 texts \(\d+ words in two or "
                                         rf"more of them\), got {dimensions}"):
        datasets.tfidf(texts, dimensions=dimensions)


def test_stdlib_docs_takes_one_module_name_and_refuses_one_it_cannot_read():
    """stdlib_docs("json") read the modules "j", "s", "o", "n" and gave an empty frame; an unknown
    module gave an empty frame too, without a word."""
    one = datasets.stdlib_docs("json")
    assert set(one["module"]) == {"json"} and one.attrs["source"] == "docstrings of 1 standard-library module"
    for unknown in ["nope_mod", "nope.sub", "abc"]:
        with pytest.raises(ValueError, match=rf"^no module {unknown!r} with a Python source file to read"):
            datasets.stdlib_docs(["json", unknown])
    with pytest.raises(ValueError, match=r"'abc' with a Python source file to read \(it is frozen into the interp"):
        datasets.stdlib_docs("abc")  # frozen since Python 3.11: never read, so not in STDLIB_MODULES


def test_every_default_module_is_read():
    """abc, codecs and os were in the default list and silently skipped (frozen), decimal gave no docstring."""
    assert set(datasets.stdlib_docs()["module"]) == set(datasets.STDLIB_MODULES)


@pytest.mark.parametrize("texts, error, says", [
    ("a single text", TypeError, "texts must be a list of texts, got a str"),
    ([], ValueError, "tfidf fits on at least 4 texts (a word counts when in two of them and in at most half), got 0"),
    (["alpha beta", "gamma delta", "epsilon zeta", "eta theta"], ValueError,
     "no word is in two or more of these 4 texts and in at most half of them: fit on more texts, or texts "
     "that share words"),
    (["alpha beta", None, "epsilon zeta", "eta theta"], TypeError, "texts must be strings: row 1 is None"),
])
def test_the_tfidf_baseline_refuses_texts_it_cannot_fit_in_its_own_words(texts, error, says):
    """These raised scikit-learn's "empty vocabulary; perhaps the documents only contain stop words",
    "max_df corresponds to < documents than min_df" or AttributeError."""
    with pytest.raises(error) as raised:
        datasets.tfidf(texts)
    assert str(raised.value) == says


def test_the_tfidf_embedder_refuses_what_is_not_a_text():
    embed = datasets.tfidf(datasets.stdlib_docs("json")["text"], dimensions=4)
    with pytest.raises(TypeError, match=r"^texts must be strings: row 1 is 2$"):
        embed(["a text", 2])
    with pytest.raises(TypeError, match=r"^texts must be a list of texts, got a str$"):
        embed("a text")  # was read as the texts "a", " ", "t", ...
