"""The on-disk embedding cache: exact round trips, keys, whole jobs, several processes, damaged files."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from vectorize_nb.embeddings import cache as cache_module
from vectorize_nb.embeddings.cache import FILE_NAME, JOB_MIN, EmbeddingCache, default_folder

ROOT = Path(__file__).resolve().parents[2]


def fake_vectors(texts: list[str], dims: int = 8) -> np.ndarray:
    """Deterministic vectors that differ per text (a seed from the text's characters)."""
    return np.stack([np.random.default_rng([ord(c) for c in t] or [0]).standard_normal(dims) for t in texts]
                    ).astype(np.float32)


class Recorder:
    """A compute function that remembers what it was asked for."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str], keep=None) -> np.ndarray:
        self.calls.append(list(texts))
        return fake_vectors(texts)


@pytest.fixture
def cache(tmp_path):
    with EmbeddingCache(tmp_path) as opened:
        yield opened


def test_the_second_time_the_vectors_come_from_the_file_bit_for_bit(cache):
    texts = ["read a csv", "parse json", "a dog in the rain"]
    compute = Recorder()
    first = cache.embed(texts, "m", "mean", compute)
    again = cache.embed(texts, "m", "mean", compute)
    assert (first.hits, first.misses, again.hits, again.misses) == (0, 3, 3, 0)
    assert compute.calls == [texts]
    np.testing.assert_array_equal(first.vectors, fake_vectors(texts))
    np.testing.assert_array_equal(again.vectors, first.vectors)
    assert again.vectors.dtype == np.float32 and again.vectors.flags.writeable
    assert (cache.hits, cache.misses, len(cache)) == (3, 3, 3)


def test_another_pooling_or_model_misses(cache):
    cache.embed(["a text"], "m", "mean", Recorder())
    assert cache.embed(["a text"], "m", "cls", Recorder()).misses == 1
    assert cache.embed(["a text"], "other", "mean", Recorder()).misses == 1
    assert cache.embed(["a text"], "m", "mean", Recorder()).hits == 1
    assert len(cache) == 3


def test_only_missing_texts_are_computed_each_once_and_the_order_is_kept(cache):
    cache.embed(["b", "d"], "m", "mean", Recorder())
    compute = Recorder()
    texts = ["a", "b", "c", "a", "d", "c", "e"]
    result = cache.embed(texts, "m", "mean", compute)
    assert compute.calls == [["a", "c", "e"]]
    assert (result.hits, result.misses) == (2, 5)
    np.testing.assert_array_equal(result.vectors, fake_vectors(texts))


def test_a_whole_job_seen_before_is_found_by_one_hash(cache, monkeypatch):
    texts = [f"sentence {i}" for i in range(JOB_MIN + 5)]
    first = cache.embed(texts, "m", "mean", Recorder())
    monkeypatch.setattr(cache_module, "_text_keys", lambda *a: pytest.fail("hashed every text"))
    again = cache.embed(texts, "m", "mean", Recorder())
    assert (again.hits, again.misses) == (len(texts), 0)
    np.testing.assert_array_equal(again.vectors, first.vectors)
    monkeypatch.undo()
    shuffled = texts[::-1]  # another job: found text by text
    np.testing.assert_array_equal(cache.embed(shuffled, "m", "mean", Recorder()).vectors, first.vectors[::-1])


def test_a_job_partly_cached_before_is_remembered_whole_with_its_new_rows(cache, monkeypatch):
    texts = [f"row {i}" for i in range(JOB_MIN + 10)]
    cache.embed(texts[::2], "m", "mean", Recorder())
    mixed = cache.embed(texts, "m", "mean", Recorder())
    assert mixed.hits == len(texts[::2])
    monkeypatch.setattr(cache_module, "_text_keys", lambda *a: pytest.fail("hashed every text"))
    np.testing.assert_array_equal(cache.embed(texts, "m", "mean", Recorder()).vectors, fake_vectors(texts))


def test_only_the_newest_jobs_are_remembered_whole(cache, monkeypatch):
    """Samples of the same texts, every text cached: each list was remembered, 16 bytes a text, without end (300
    samples of 1,500 texts: 7 MB)."""
    monkeypatch.setattr(cache_module, "JOBS_KEPT", 3)
    texts = [f"passage {i}" for i in range(JOB_MIN + 500)]
    cache.embed(texts, "m", "mean", Recorder())
    samples = [list(np.random.default_rng(seed).permutation(texts)[:JOB_MIN]) for seed in range(6)]
    for sample in samples:
        assert cache.embed(sample, "m", "mean", Recorder()).hits == JOB_MIN
    with closing(sqlite3.connect(cache.path)) as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 3
    np.testing.assert_array_equal(cache.embed(samples[0], "m", "mean", Recorder()).vectors, fake_vectors(samples[0]))
    monkeypatch.setattr(cache_module, "_text_keys", lambda *a: pytest.fail("hashed every text"))
    np.testing.assert_array_equal(cache.embed(samples[-1], "m", "mean", Recorder()).vectors,
                                  fake_vectors(samples[-1]))


def test_a_compute_result_of_the_wrong_shape_stores_nothing(cache):
    with pytest.raises(ValueError, match=r"one vector per text \(2 rows\), got shape \(1, 8\)"):
        cache.embed(["a", "b"], "m", "mean", lambda texts, keep: fake_vectors(texts[:1]))
    cache.embed(["a"], "m", "mean", Recorder())
    with pytest.raises(ValueError, match="computed vectors have 3 dimensions, cached ones 8"):
        cache.embed(["a", "z"], "m", "mean", lambda texts, keep: np.ones((len(texts), 3)))
    assert len(cache) == 1


def test_vectors_kept_before_compute_fails_are_stored_and_the_rest_is_asked_for_again(cache):
    texts = [f"text {i}" for i in range(10)]

    def stopped(missing, keep):
        keep(0, fake_vectors(missing[:4]))
        keep(4, fake_vectors(missing[4:6]))
        raise KeyboardInterrupt  # the stop button, or a request that failed

    with pytest.raises(KeyboardInterrupt):
        cache.embed(texts, "m", "mean", stopped)
    compute = Recorder()
    again = cache.embed(texts, "m", "mean", compute)
    assert (again.hits, again.misses, compute.calls) == (6, 4, [texts[6:]])
    np.testing.assert_array_equal(again.vectors, fake_vectors(texts))


def test_vectors_kept_past_rows_that_failed_are_kept_too(cache):
    """The answers of requests after a failed one (sent at the same time) were lost: `keep` took only rows that
    followed the last ones kept."""
    texts = [f"text {i}" for i in range(10)]

    def failed_in_the_middle(missing, keep):
        keep(0, fake_vectors(missing[:3]))
        keep(6, fake_vectors(missing[6:]))  # rows 3-5: a request that failed
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.embed(texts, "m", "mean", failed_in_the_middle)
    compute = Recorder()
    again = cache.embed(texts, "m", "mean", compute)
    assert (again.hits, again.misses, compute.calls) == (7, 3, [texts[3:6]])
    np.testing.assert_array_equal(again.vectors, fake_vectors(texts))


def test_each_part_kept_is_in_the_file_before_the_next_is_made(cache, tmp_path):
    """Kept parts were held until 4 MiB of them (2,731 bge-small texts: 27 paid Workers AI requests) and written
    then, or on an exception: a kernel that died (SIGKILL, out of memory) lost them all."""
    texts = [f"text {i}" for i in range(10)]
    seen = []

    def compute(missing, keep):
        for start in range(0, len(missing), 4):
            keep(start, fake_vectors(missing[start:start + 4]))
            with EmbeddingCache(tmp_path) as other:  # as another process, or the next kernel, reads the file
                seen.append(other.get(texts, "m", "mean")[0].sum())
        return fake_vectors(missing)

    assert cache.embed(texts, "m", "mean", compute).misses == 10
    assert seen == [4, 8, 10]


@pytest.mark.parametrize(("parts", "error"), [
    ([(0, 2), (1, 4)], "vectors kept out of order: rows from 1, where 2 were kept"),
    ([(0, 2), (2, 3)], "computed vectors have 3 dimensions, cached ones 8"),
])
def test_vectors_kept_out_of_order_or_of_another_width_are_refused_and_the_rest_kept(cache, parts, error):
    texts = ["a", "b", "c", "d"]

    def compute(missing, keep):
        for start, stop in parts:
            keep(start, fake_vectors(missing[start:stop], dims=8 if start == 0 else 3))
        return fake_vectors(missing)

    with pytest.raises(ValueError, match=error):
        cache.embed(texts, "m", "mean", compute)
    assert cache.embed(texts[:2], "m", "mean", Recorder()).hits == 2 and len(cache) == 2


def test_odd_texts_have_keys_too(cache):
    texts = ["\ud800 lone surrogate", "emoji 🙂", "tab\tand\nnewline", " "]
    cache.embed(texts, "m", "mean", Recorder())
    assert cache.embed(texts, "m", "mean", Recorder()).hits == 4


def test_get_and_put(cache):
    cache.put(["x", "y"], "m", "cls", fake_vectors(["x", "y"]))
    found, vectors = cache.get(["y", "nope", "x"], "m", "cls")
    assert found.tolist() == [True, False, True]
    assert vectors is not None
    np.testing.assert_array_equal(vectors[[0, 2]], fake_vectors(["y", "x"]))
    assert cache.get(["nope"], "m", "cls")[1] is None


def test_clear_forgets_everything(cache):
    cache.embed([f"t{i}" for i in range(JOB_MIN)], "m", "mean", Recorder())
    cache.clear()
    assert len(cache) == 0 and cache.embed(["t1"], "m", "mean", Recorder()).misses == 1


WRITER = """
    import sys
    import numpy as np
    from tests.embeddings.test_cache import fake_vectors
    from vectorize_nb.embeddings.cache import EmbeddingCache
    texts = [f"{{sys.argv[1]}} {{i}}" for i in range({n})] + ["shared text"]
    with EmbeddingCache(sys.argv[2]) as cache:
        for start in range(0, len(texts), 50):
            cache.embed(texts[start:start + 50], "m", "mean", lambda texts, keep: fake_vectors(texts))
"""


def start_writer(folder: Path, name: str, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER.format(n=n)), name, str(folder)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True)


def test_vectors_written_by_other_processes_at_once_are_read_here(tmp_path):
    writers = [start_writer(tmp_path, name, 2000) for name in ("left", "right")]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors
    texts = [f"{name} {i}" for name in ("left", "right") for i in range(2000)] + ["shared text"]
    with EmbeddingCache(tmp_path) as cache:
        result = cache.embed(texts, "m", "mean", lambda missing, keep: pytest.fail(f"recomputed {missing[:3]}"))
        assert (result.hits, len(cache)) == (len(texts), len(texts))
        np.testing.assert_array_equal(result.vectors, fake_vectors(texts))


def _blocks(folder: Path) -> tuple[int, int]:
    with sqlite3.connect(folder / FILE_NAME) as db:
        return db.execute("SELECT count(*), coalesce(sum(length(data)), 0) FROM blocks").fetchone()


def test_texts_another_writer_stored_meanwhile_take_no_second_block(tmp_path):
    """Two processes embedding the same texts at once each stored a block of them: 9 blocks and 12 MB
    where 1.7 MB would do (reads were right, the later block was never pointed at)."""
    texts = [f"text {i}" for i in range(30)]
    with EmbeddingCache(tmp_path) as mine, EmbeddingCache(tmp_path) as theirs:
        def compute_while_the_other_stores(missing, keep):
            theirs.embed(texts[10:], "m", "mean", Recorder())  # 20 of ours, stored by the other first
            return fake_vectors(missing)

        first = mine.embed(texts, "m", "mean", compute_while_the_other_stores)
        assert first.misses == 30
        np.testing.assert_array_equal(first.vectors, fake_vectors(texts))
        assert _blocks(tmp_path) == (2, 30 * 8 * 4)  # theirs (20 texts), then ours: the 10 new ones alone
        again = EmbeddingCache(tmp_path).embed(texts, "m", "mean", lambda missing, keep: pytest.fail("recomputed"))
        np.testing.assert_array_equal(again.vectors, fake_vectors(texts))
    with EmbeddingCache(tmp_path) as cache:
        cache.put(texts, "m", "mean", fake_vectors(texts))  # all stored already: no block at all
        assert _blocks(tmp_path) == (2, 30 * 8 * 4)


def test_an_unreadable_file_is_set_aside_and_started_afresh(tmp_path, caplog):
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 1000)
    with caplog.at_level(logging.WARNING), EmbeddingCache(tmp_path) as cache:
        result = cache.embed(["a", "b"], "m", "mean", Recorder())
        assert result.misses == 2 and cache.embed(["a"], "m", "mean", Recorder()).hits == 1
    assert (tmp_path / (FILE_NAME + ".corrupt")).read_bytes().startswith(b"this is not a database")
    assert "is unreadable" in caplog.text and "started afresh" in caplog.text


def test_a_database_of_another_schema_is_set_aside_and_started_afresh(tmp_path, caplog):
    """A readable SQLite file whose tables have other columns (another program's, or a damaged one) made embed
    raise sqlite3.OperationalError "no such column: key"."""
    with contextlib.closing(sqlite3.connect(tmp_path / FILE_NAME)) as other:
        other.executescript("CREATE TABLE texts (hash TEXT, vector BLOB); INSERT INTO texts VALUES ('x', x'00');")
        other.commit()
    with caplog.at_level(logging.WARNING), EmbeddingCache(tmp_path) as cache:
        result = cache.embed(["a", "b"], "m", "mean", Recorder())
        assert result.misses == 2 and cache.embed(["a"], "m", "mean", Recorder()).hits == 1
    with contextlib.closing(sqlite3.connect(tmp_path / (FILE_NAME + ".corrupt"))) as aside:
        assert aside.execute("SELECT hash FROM texts").fetchall() == [("x",)]
    assert "is unreadable" in caplog.text and "table texts has the columns ['hash', 'vector']" in caplog.text


def test_a_file_deleted_while_open_is_created_again(tmp_path):
    with EmbeddingCache(tmp_path) as cache:
        cache.embed(["a"], "m", "mean", Recorder())
        for suffix in ("", "-wal", "-shm"):
            Path(str(cache.path) + suffix).unlink(missing_ok=True)
        assert cache.embed(["a"], "m", "mean", Recorder()).misses == 1
        assert cache.path.is_file() and len(cache) == 1


def test_the_default_folder_is_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_folder() == tmp_path / "vectorize-nb"
    assert EmbeddingCache().path == tmp_path / "vectorize-nb" / "embeddings.sqlite3"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_folder() == Path.home() / ".cache" / "vectorize-nb"


def test_a_relative_xdg_cache_home_is_ignored_as_the_spec_says(monkeypatch, tmp_path):
    """It made the cache in the working folder of the moment."""
    monkeypatch.setenv("XDG_CACHE_HOME", "rel-cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_folder() == tmp_path / ".cache" / "vectorize-nb"


def test_a_column_that_a_later_version_adds_to_the_file_is_left_alone(tmp_path):
    import sqlite3

    with EmbeddingCache(tmp_path) as cache:
        cache.embed(["old"], "m", "mean", Recorder())
    with sqlite3.connect(tmp_path / FILE_NAME) as con:
        con.execute("ALTER TABLE texts ADD COLUMN used_at REAL")
    with EmbeddingCache(tmp_path) as cache:
        found = cache.embed(["old", "new"], "m", "mean", Recorder())
        assert (found.hits, found.misses, len(cache)) == (1, 1, 2)


def _refused(*_args, **_kwargs):
    raise cache_module.sqlite3.OperationalError("attempt to write a readonly database")


def _full(*_args, **_kwargs):
    raise cache_module.sqlite3.OperationalError("database or disk is full")


def _full_and_rolled_back(db, *_args):
    """A full disk as SQLite meets it on a real one: it rolls the transaction back itself (a ROLLBACK then fails)."""
    with cache_module._transaction(db):
        db.execute("INSERT INTO blocks (dims, data) VALUES (1, x'00000000')")
        db.execute("ROLLBACK")
        raise cache_module.sqlite3.OperationalError("database or disk is full")


def _not_permitted(*_args, **_kwargs):
    raise PermissionError(13, "Permission denied")


@pytest.mark.parametrize("where, target, failure", [
    ("a read-only folder", "write_ahead", _refused),
    ("a folder that cannot be made", "Path.mkdir", _not_permitted),
    ("a full disk", "_store", _full),
    ("a full disk whose transaction SQLite ended", "_store", _full_and_rolled_back),
], ids=lambda value: value if isinstance(value, str) else "")
def test_a_cache_that_cannot_be_written_is_skipped_and_said_once(tmp_path, monkeypatch, caplog, where, target, failure):
    monkeypatch.setattr(cache_module.Path if target == "Path.mkdir" else cache_module, target.split(".")[-1], failure)
    compute = Recorder()
    with caplog.at_level(logging.WARNING, logger="vectorize_nb"), EmbeddingCache(tmp_path / "cache") as cache:
        first = cache.embed(["read a csv", "parse json"], "m", "mean", compute)
        again = cache.embed(["read a csv", "a dog"], "m", "mean", compute)
    assert np.array_equal(first.vectors, fake_vectors(["read a csv", "parse json"]))
    assert np.array_equal(again.vectors, fake_vectors(["read a csv", "a dog"]))
    assert (first.misses, again.misses) == (2, 2)
    assert compute.calls == [["read a csv", "parse json"], ["read a csv", "a dog"]]
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 1 and "cannot be written" in said[0] and "does not hold are embedded without it" in said[0]


def filled(folder: Path) -> None:
    """A cache file in `folder` holding "read a csv" and the record of index "docs", closed again."""
    with EmbeddingCache(folder) as cache:
        cache.embed(["read a csv"], "m", "mean", Recorder())
        cache.wrote("docs", "m", "mean")


def test_a_cache_that_cannot_be_written_answers_from_what_it_holds(tmp_path, monkeypatch, caplog):
    """In a read-only folder SQLite refuses the write-ahead switch: the file was left unread, so the model it
    records for an index was lost (a text query asked for model=) and every text was embedded again."""
    filled(tmp_path)
    monkeypatch.setattr(cache_module, "write_ahead", _refused)
    compute = Recorder()
    with caplog.at_level(logging.WARNING, logger="vectorize_nb"), EmbeddingCache(tmp_path) as cache:
        assert cache.written("docs") == ("m", "mean")
        found = cache.embed(["read a csv", "a dog"], "m", "mean", compute)
        cache.wrote("other", "m", "mean")
        assert (found.hits, found.misses, len(cache), cache.written("other")) == (1, 1, 1, None)
    assert np.array_equal(found.vectors, fake_vectors(["read a csv", "a dog"])) and compute.calls == [["a dog"]]
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 1 and "cannot be written" in said[0] and "answers from the texts it holds" in said[0]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes read-only files")
def test_a_cache_without_write_permission_answers_from_what_it_holds(tmp_path):
    filled(tmp_path)
    for path in (tmp_path / FILE_NAME, tmp_path):
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        with EmbeddingCache(tmp_path) as cache:
            assert cache.written("docs") == ("m", "mean")
            assert cache.embed(["read a csv"], "m", "mean", Recorder()).hits == 1
    finally:
        tmp_path.chmod(tmp_path.stat().st_mode | 0o200)


def test_the_counters_keep_every_embed_of_threads_landing_together(cache, monkeypatch):
    """`hits += ...` read the count, then counted the texts: another thread's embed finishing in between
    was lost. Here the second embed runs to its end while the first is between the two."""
    texts = ["read a csv", "parse json"]
    cache.embed(texts, "m", "mean", Recorder())
    other_done = threading.Event()
    other = threading.Thread(target=lambda: (cache.embed(texts, "m", "mean", Recorder()), other_done.set()))
    real, lengths = np.flatnonzero, []

    class Pausing(np.ndarray):  # the first embed's missing rows: the other runs at their second len()
        def __len__(self):
            lengths.append(1)
            if len(lengths) == 2:
                other.start()
                assert other_done.wait(10)
            return super().__len__()

    monkeypatch.setattr(np, "flatnonzero", lambda a: real(a).view(Pausing) if not other.is_alive() else real(a))
    cache.embed(texts, "m", "mean", Recorder())
    other.join(10)
    assert (cache.hits, cache.misses) == (4, 2)


@pytest.mark.parametrize("through", ["a file on the path", "a file where the folder goes"])
def test_a_cache_folder_blocked_by_a_file_is_skipped_and_said_once(tmp_path, caplog, through):
    """XDG_CACHE_HOME naming a file raised NotADirectoryError (FileExistsError where the folder itself is a
    file) from the embed call, where a read-only folder is skipped."""
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    folder = tmp_path / "afile" / "vectorize-nb" if through == "a file on the path" else tmp_path / "afile"
    compute = Recorder()
    with caplog.at_level(logging.WARNING, logger="vectorize_nb"), EmbeddingCache(folder) as cache:
        found = cache.embed(["read a csv", "parse json"], "m", "mean", compute)
    assert np.array_equal(found.vectors, fake_vectors(["read a csv", "parse json"])) and found.misses == 2
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 1 and "cannot be written" in said[0]
