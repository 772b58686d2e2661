"""The vector file: the one copy of each vector, appended to, compacted into a new generation, shared
by every engine on the folder, and migrated into from a store that kept vectors in SQLite."""

import os
import sqlite3

import numpy as np
import pytest

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine, store as store_module, vectorfile
from vectorize_nb.local.store import DATABASE_NAME, VECTORS_FOLDER
from vectorize_nb.local.vectorfile import VectorFile
from vectorize_nb.contract.models import QueryOptions

from ..helpers import TINY, vectors


def vector_files(folder):
    return sorted(path.name for path in (folder / VECTORS_FOLDER).iterdir())


def columns(folder, table="vectors_1"):
    con = sqlite3.connect(folder / DATABASE_NAME)
    try:
        return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
    finally:
        con.close()


def brute_force(data, ids, query, k):
    scores = data @ query / np.linalg.norm(data, axis=1) / np.linalg.norm(query)
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:k]
    return [ids[i] for i in order]


def written(folder, data):
    """A folder with one cosine index, "idx", of `data` as v0, v1, ..."""
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("idx", dimensions=data.shape[1], metric="cosine")
        engine.upsert("idx", vectors([f"v{i}" for i in range(len(data))], data))
    return folder


def test_each_vector_is_stored_once_in_the_vector_file(tmp_path, rng):
    data = rng.standard_normal((300, 8)).astype(np.float32)
    folder = written(tmp_path / "once", data)
    assert columns(folder) == ["id", "namespace", "metadata", "slot", "seq"]
    assert vector_files(folder) == ["1.0.f32", "1.0.norms"]
    rows = np.fromfile(folder / VECTORS_FOLDER / "1.0.f32", dtype=np.float32)
    assert np.array_equal(rows[:300 * 8].reshape(300, 8), data)
    norms = np.fromfile(folder / VECTORS_FOLDER / "1.0.norms", dtype=np.float64)[:300]
    assert norms == pytest.approx(np.linalg.norm(data.astype(np.float64), axis=1), rel=1e-15)


@pytest.mark.parametrize("name, row_bytes", [("1.0.f32", 8 * 4), ("1.0.norms", 8)])
def test_a_vector_file_cut_short_is_an_error_not_zeros_filled_in_by_the_next_write(tmp_path, rng, name, row_bytes):
    data = rng.standard_normal((3000, 8)).astype(np.float32)
    folder = written(tmp_path / "cut", data)
    os.truncate(folder / VECTORS_FOLDER / name, 1000 * row_bytes)
    for _ in range(2):
        with LocalEngine(folder, limits=TINY) as engine:
            with pytest.raises(errors.FolderUnusable, match=f"{name} holds 1000 rows where 3000 are recorded"):
                engine.upsert("idx", vectors(["new"], [np.ones(8)]))
            with pytest.raises(errors.FolderUnusable, match="holds 1000 rows where 3000 are recorded"):
                engine.query("idx", data[2000], QueryOptions())
    assert os.path.getsize(folder / VECTORS_FOLDER / name) == 1000 * row_bytes


def test_an_insert_of_stored_ids_only_leaves_the_files_as_they_were(tmp_path, rng):
    data = rng.standard_normal((3, 8)).astype(np.float32)
    folder = written(tmp_path / "insert", data)
    with LocalEngine(folder, limits=TINY) as engine:
        engine.insert("idx", vectors(["v0", "v2"], data[[1, 0]] + 1))
        stored = {vector.id: vector.values for vector in engine.get_by_ids("idx", ["v0", "v1", "v2"])}
    assert {key: list(values) for key, values in stored.items()} == {
        f"v{i}": pytest.approx(data[i].tolist()) for i in range(3)}
    assert vector_files(folder) == ["1.0.f32", "1.0.norms"]


@pytest.fixture
def eager_compaction(monkeypatch):
    monkeypatch.setattr(store_module, "MIN_HOLES", 1)


def test_rewrites_and_deletes_are_compacted_into_a_new_generation(tmp_path, rng, eager_compaction):
    folder = tmp_path / "compact"
    data = rng.standard_normal((100, 4)).astype(np.float32)
    ids = [f"v{i:03}" for i in range(100)]
    with LocalEngine(folder, limits=TINY) as writer, LocalEngine(folder, limits=TINY) as reader:
        writer.create_index("cmp", dimensions=4, metric="cosine")
        writer.upsert("cmp", vectors(ids, data))
        reader.query("cmp", data[0], QueryOptions())  # the reader maps generation 0
        writer.query("cmp", data[0], QueryOptions())
        data[:8] = rng.standard_normal((8, 4))
        writer.upsert("cmp", vectors(ids[:8], data[:8]))  # 8 holes of 108 slots: not yet
        assert vector_files(folder) == ["1.0.f32", "1.0.norms"]
        writer.delete_by_ids("cmp", ids[90:])  # 18 holes of 108: a tenth is passed
        assert vector_files(folder) == ["1.1.f32", "1.1.norms"]
        assert writer.store.vector_extent(1) == (1, 90)
        for engine in (writer, reader):
            for query in data[:3]:
                got = [m.id for m in engine.query("cmp", query, QueryOptions(top_k=10))]
                assert got == brute_force(data[:90], ids[:90], query, 10)
            assert [r.values.tolist() for r in engine.get_by_ids("cmp", ids[:2])] == data[:2].tolist()
            assert engine.index_info("cmp").vector_count == 90
    with LocalEngine(folder, limits=TINY) as reopened:
        got = [m.id for m in reopened.query("cmp", data[5], QueryOptions(top_k=20))]
        assert got == brute_force(data[:90], ids[:90], data[5], 20)


def test_a_compaction_that_fails_leaves_the_files_as_they_were(tmp_path, rng, eager_compaction, monkeypatch):
    folder = tmp_path / "failed"
    data = rng.standard_normal((50, 4)).astype(np.float32)
    ids = [f"v{i}" for i in range(50)]
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("cmp", dimensions=4, metric="cosine")
        engine.upsert("cmp", vectors(ids, data))

        def disk_full(*args):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(VectorFile, "copy_into", disk_full)
        engine.delete_by_ids("cmp", ids[:20])  # committed, though its compaction fails
        assert vector_files(folder) == ["1.0.f32", "1.0.norms"]
        assert engine.index_info("cmp").vector_count == 30
        assert [m.id for m in engine.query("cmp", data[30], QueryOptions(top_k=3))] == \
            brute_force(data[20:], ids[20:], data[30], 3)
        monkeypatch.setattr(vectorfile, "MIN_FILE_GROWTH", 16)  # every write now grows the file past the map
        engine.upsert("cmp", vectors(["new"], data[30:31] * 2))
        assert engine.query("cmp", data[30], QueryOptions(top_k=1))[0].id in {"new", ids[30]}
        assert engine.get_by_ids("cmp", ["new"])[0].values.tolist() == (data[30] * 2).tolist()
        engine.delete_by_ids("cmp", ["new"])
        monkeypatch.undo()
        monkeypatch.setattr(store_module, "MIN_HOLES", 1)
        engine.delete_by_ids("cmp", ids[20:21])
        assert vector_files(folder) == ["1.1.f32", "1.1.norms"]
        assert [m.id for m in engine.query("cmp", data[30], QueryOptions(top_k=3))] == \
            brute_force(data[21:], ids[21:], data[30], 3)


def test_a_reader_takes_in_rows_written_past_the_end_of_its_mapping(tmp_path, rng):
    folder = tmp_path / "grow"
    data = rng.standard_normal((3000, 256)).astype(np.float32)  # 3 MB: the file grows past 1 MB
    ids = [f"v{i}" for i in range(3000)]
    with LocalEngine(folder, limits=TINY) as writer, LocalEngine(folder, limits=TINY) as reader:
        writer.create_index("grow", dimensions=256, metric="dot-product")
        for start in range(0, 3000, 1000):
            writer.upsert("grow", vectors(ids[start:start + 1000], data[start:start + 1000]))
            query = data[start + 999]
            best = int(np.argmax(data[:start + 1000] @ query))
            assert reader.query("grow", query, QueryOptions(top_k=1))[0].id == ids[best]


LEGACY = """
CREATE TABLE indexes (id INTEGER PRIMARY KEY, name TEXT NOT NULL, dimensions INTEGER NOT NULL, metric TEXT NOT NULL,
    preset TEXT, description TEXT NOT NULL, created_on TEXT NOT NULL, modified_on TEXT NOT NULL, deleted_on TEXT);
CREATE TABLE metadata_indexes (index_id INTEGER NOT NULL, property TEXT NOT NULL, type TEXT NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (index_id, property));
CREATE TABLE mutations (seq INTEGER PRIMARY KEY AUTOINCREMENT, index_id INTEGER NOT NULL, uuid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, count INTEGER NOT NULL, payload BLOB, created_at REAL NOT NULL, due_at REAL NOT NULL,
    applied_at REAL);
CREATE TABLE pending_vectors (seq INTEGER NOT NULL, pos INTEGER NOT NULL, id TEXT NOT NULL, namespace TEXT,
    metadata BLOB, vec BLOB NOT NULL, PRIMARY KEY (seq, pos));
CREATE TABLE vectors_1 (id TEXT NOT NULL UNIQUE, namespace TEXT, metadata BLOB, vec BLOB NOT NULL,
    seq INTEGER NOT NULL);
CREATE INDEX vectors_1_seq ON vectors_1(seq);
"""


def test_a_store_that_kept_vectors_in_sqlite_is_migrated(tmp_path, rng):
    folder = tmp_path / "legacy"
    folder.mkdir()
    data = rng.standard_normal((40, 4)).astype(np.float32)
    con = sqlite3.connect(folder / DATABASE_NAME)
    con.executescript(LEGACY)
    con.execute("INSERT INTO indexes VALUES (1, 'old', 4, 'euclidean', NULL, '', '2025-01-01T00:00:00+00:00', "
                "'2025-01-01T00:00:00+00:00', NULL)")
    con.execute("INSERT INTO mutations VALUES (1, 1, 'u-1', 'upsert', 40, NULL, 1.0, 1.0, 1.0)")
    con.executemany("INSERT INTO vectors_1 VALUES (?, ?, ?, ?, 1)",
                    [(f"v{i}", "ns" if i % 2 else None, b'{"i": %d}' % i, data[i].tobytes()) for i in range(40)])
    con.commit()
    con.close()
    with LocalEngine(folder, limits=TINY) as engine:
        [record] = engine.get_by_ids("old", ["v7"])
        assert record.values.tolist() == data[7].tolist() and record.metadata == {"i": 7} and record.namespace == "ns"
        match = engine.query("old", data[12], QueryOptions(top_k=1, return_values=True))[0]
        assert (match.id, match.score, match.values.tolist()) == ("v12", 0.0, data[12].tolist())
        assert engine.list_vectors("old").ids == [f"v{i}" for i in range(40)]
        engine.upsert("old", vectors(["v40"], data[:1] + 1))
        assert engine.index_info("old").vector_count == 41
    assert columns(folder) == ["id", "namespace", "metadata", "slot", "seq"]
    assert vector_files(folder) == ["1.0.f32", "1.0.norms"]


def test_opening_a_folder_deletes_the_engines_files_of_no_current_generation(tmp_path, rng):
    data = rng.standard_normal((10, 4)).astype(np.float32)
    folder = written(tmp_path / "prune", data)
    for stray in ["1.1.f32", "1.1.norms", "7.0.f32"]:  # a compaction or a delete cut short
        (folder / VECTORS_FOLDER / stray).write_bytes(b"\0" * 64)
    with LocalEngine(folder, limits=TINY) as engine:
        assert vector_files(folder) == ["1.0.f32", "1.0.norms"]
        assert engine.get_by_ids("idx", ["v3"])[0].values.tolist() == data[3].tolist()


USERS_OWN = ["notes.txt", "1.0.f32~", "1.0.f32.bak", ".1.0.f32.swp", "1.notes", "7.0.f32.orig", "README"]
"""Files in vectors/ that the engine did not write: a user's own, an editor's backup and swap files."""


def test_files_the_engine_did_not_write_are_kept_on_open_and_on_delete(tmp_path, rng):
    folder = written(tmp_path / "mine", rng.standard_normal((10, 4)).astype(np.float32))
    for name in USERS_OWN:
        (folder / VECTORS_FOLDER / name).write_text(f"the user's {name}", encoding="utf-8")
    with LocalEngine(folder, limits=TINY) as engine:
        assert vector_files(folder) == sorted(["1.0.f32", "1.0.norms", *USERS_OWN])
        engine.delete_index("idx")
    with LocalEngine(folder, limits=TINY):
        assert vector_files(folder) == sorted(USERS_OWN)
    assert all((folder / VECTORS_FOLDER / name).read_text(encoding="utf-8") == f"the user's {name}"
               for name in USERS_OWN)


def test_an_export_reads_every_row_from_its_slot_across_read_windows(tmp_path, rng, monkeypatch):
    """Rewritten rows live past the end of the file and deleted ones leave holes; an export still gives
    each id its latest values, in insertion order, read window by window."""
    monkeypatch.setattr(vectorfile, "READ_ROWS", 7)
    data = rng.standard_normal((40, 3)).astype(np.float32)
    ids = [f"v{i}" for i in range(40)]
    with LocalEngine(tmp_path, limits=TINY) as engine:
        engine.create_index("idx", dimensions=3, metric="cosine")
        engine.upsert("idx", vectors(ids, data))
        data[[3, 30]] += 1
        engine.upsert("idx", vectors(["v30", "v3"], data[[30, 3]]))
        engine.delete_by_ids("idx", ["v5", "v6", "v39"])
        export = engine.export("idx", metadata=False)
    kept = [i for i in range(40) if i not in (5, 6, 39)]
    assert export.ids == [ids[i] for i in kept] and export.metadata is None
    np.testing.assert_array_equal(export.values, data[kept])


def test_an_export_of_an_empty_index_has_no_rows(tmp_path):
    with LocalEngine(tmp_path, limits=TINY) as engine:
        engine.create_index("idx", dimensions=3, metric="cosine")
        export = engine.export("idx")
    assert export.ids == [] and export.values.shape == (0, 3) and export.metadata == {}
