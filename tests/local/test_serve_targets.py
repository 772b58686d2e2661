"""`vz.serve(path)` takes a folder: `connect()`'s target words given as the path are refused with both readings,
not served as a folder of that name."""

import pytest

import vectorize_nb as vz
from vectorize_nb import errors

pytest.importorskip("waitress")


@pytest.mark.parametrize("word, engine", [("memory", "vz.serve(memory=True) serves an engine in memory"),
                                          ("local", "vz.serve() serves the engine's default folder")])
def test_a_target_word_given_as_the_folder_is_refused_saying_both_readings(tmp_path, monkeypatch, word, engine):
    """vz.serve("memory") served, and made, a folder ./memory where vz.connect("memory") is the memory engine."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(errors.ConfigurationError) as refused:
        vz.serve(word)
    assert str(refused.value) == (f"serve({word!r}) would serve a folder named {word!r}: {engine} (what "
                                  f"vz.connect({word!r}) opens), vz.serve('./{word}') that folder")
    assert list(tmp_path.iterdir()) == []


def test_the_folder_of_that_name_is_served_when_the_path_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with vz.serve("./memory") as server, vz.connect(server.url) as client:
        client.create_index("films", dimensions=32)
    assert (tmp_path / "memory" / "vectorize.sqlite3").exists()
