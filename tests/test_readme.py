"""The README's set-up commands and its ten-line example are what they claim to be."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_two_set_up_commands_and_ci_runs_the_tests_the_readme_gives():
    commands = re.findall(r"^python3 -m venv .*$", README, flags=re.M)
    assert len(commands) == 2, commands
    user, contributor = commands
    assert 'pip install ".[notebooks]"' in user and user.endswith("examples/quickstart.py")
    assert contributor.endswith(".venv/bin/python -m pytest")
    assert ".venv/bin/python -m pytest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_ten_line_example_runs_twice_and_merges_answers_back(tmp_path):
    """A second run used to fail with DuplicateIndexName (3002)."""
    example = re.search(r"## In ten lines\n\n```python\n(.*?)```", README, flags=re.S).group(1)
    assert len([line for line in example.splitlines() if line.strip()]) == 10
    drawn = re.search(r"`(vz\.plot_neighbourhood\(films, [^`]+)`", README).group(1)
    script = example + f"merged = {example.strip().splitlines()[-1].split('#')[0].strip()}\n" + (
        f"fig = {drawn}\n"
        "print(merged.columns.tolist(), len(merged), all(int(i) % 2 == 0 for i in merged['id']),\n"
        "      merged.groupby('query')['genre'].first().tolist())\n"
        "print(sorted(t.name for t in fig.data if t.legendgroup == 'index'))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "Warning" not in done.stderr, done.stderr  # a newcomer's first lines print no warning
    columns, drawn_genres = done.stdout.splitlines()
    # each answer (drama only: the filter) beside the row that asked, whose genre is the row's own
    assert columns == ("['query', 'rank', 'id', 'score', 'namespace', 'id_query', 'genre', 'embedding'] 15 True "
                       "['drama', 'comedy', 'drama']")
    assert drawn_genres == "['drama']"  # the comedies are greyed: the filter leaves them out


def test_merged_answers_name_the_answers_and_the_questions_metadata_apart():
    """The README says which `genre` is whose once the answers carry their metadata."""
    import numpy as np
    import pandas as pd

    import vectorize_nb as vz
    with vz.connect("memory") as client:
        films = client.create_index("films", dimensions=32, metric="cosine")
        films.create_metadata_index("genre", "string")
        df = pd.DataFrame({"id": range(4), "genre": ["drama", "comedy"] * 2,
                           "embedding": list(np.eye(4, 32, dtype=np.float32))})
        df.vectorize.upsert(films, id="id", vector="embedding", metadata=["genre"], wait=True)
        hits = df.vectorize.query(films, vector="embedding", top_k=1, return_metadata="all",
                                  filter=vz.F("genre") == "drama")
        merged = hits.merge(df, left_on="query", right_index=True, suffixes=("", "_query"))
    assert merged["genre"].tolist() == ["drama"] * 4
    assert merged["genre_query"].tolist() == ["drama", "comedy", "drama", "comedy"]
