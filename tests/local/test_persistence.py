"""Durability: reopening, two engines on one folder, two processes, and a process killed mid-write."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vectorize_nb import errors
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.state import IndexState
from vectorize_nb.local.store import DATABASE_NAME
from vectorize_nb.contract.models import MetadataIndex, QueryOptions, Vectors

from ..helpers import TINY, vectors


def test_reopening_gives_everything_back(tmp_path, rng):
    folder = tmp_path / "account"
    data = rng.standard_normal((50, 4)).astype(np.float32)
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("keep", dimensions=4, metric="euclidean", description="kept")
        engine.upsert("keep", vectors(["pre"], data[:1], [{"g": "a"}]))
        engine.create_metadata_index("keep", "g", "string")
        engine.upsert("keep", vectors([f"v{i}" for i in range(1, 50)], data[1:],
                                      [{"g": "a"}] * 49, ["ns"] * 49))
        engine.delete_by_ids("keep", ["v7"])
        before = engine.query("keep", data[0], QueryOptions(top_k=10, filter={"g": "a"}, return_values=True))
        log = engine.mutation_log("keep")
        info = engine.index_info("keep")
        description = engine.get_index("keep")
    with LocalEngine(folder, limits=TINY) as reopened:
        assert reopened.get_index("keep") == description
        assert reopened.index_info("keep") == info
        assert reopened.mutation_log("keep") == log
        assert reopened.list_metadata_indexes("keep") == [MetadataIndex("g", "string")]
        after = reopened.query("keep", data[0], QueryOptions(top_k=10, filter={"g": "a"}, return_values=True))
        assert [(m.id, m.score, m.namespace) for m in after] == [(m.id, m.score, m.namespace) for m in before]
        assert "pre" not in {m.id for m in after}  # still predates the metadata index after reopening
        assert reopened.get_by_ids("keep", ["v7"]) == []


def test_the_store_is_sqlite_in_wal_mode(disk_engine, tmp_path):
    disk_engine.create_index("wal", dimensions=2, metric="cosine")
    con = sqlite3.connect(tmp_path / "store" / DATABASE_NAME)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_a_folder_the_engine_makes_stays_out_of_git_and_one_it_finds_is_left_as_it_is(tmp_path):
    """A notebook's repository with ./.vectorize in it: `git add .` took the database and vector files (1.6 GB
    at 1M x 384), which git hosts refuse, and once committed they stay in the history."""
    repo = tmp_path / "notebooks"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with LocalEngine(repo / ".vectorize" / "course", limits=TINY) as engine:
        engine.create_index("kept", dimensions=2, metric="cosine")
        engine.upsert("kept", vectors(["a"], [[1, 0]]))
    (repo / "notes.md").write_text("mine", encoding="utf-8")
    untracked = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=all"],
                               capture_output=True, text=True, check=True).stdout
    assert untracked.splitlines() == ["?? notes.md"]
    assert (repo / ".vectorize" / "course" / ".gitignore").read_text(encoding="utf-8").endswith("\n*\n")
    (repo / "mine").mkdir()
    with LocalEngine(repo / "mine", limits=TINY):
        pass  # opened and closed only: the folder's files are what is checked
    assert not (repo / "mine" / ".gitignore").exists()  # a folder the user made: theirs to decide


def test_two_engines_on_one_folder_see_each_others_writes(tmp_path):
    with LocalEngine(tmp_path / "shared", limits=TINY) as one, LocalEngine(tmp_path / "shared", limits=TINY) as two:
        one.create_index("both", dimensions=2, metric="cosine")
        two.create_metadata_index("both", "g", "string")
        assert [m.id for m in two.query("both", [1, 0], QueryOptions())] == []
        one.upsert("both", vectors(["a", "b"], [[1, 0], [0, 1]], [{"g": "x"}, {"g": "y"}]))
        assert [m.id for m in two.query("both", [1, 0], QueryOptions(filter={"g": "x"}))] == ["a"]
        two.upsert("both", vectors(["a"], [[0, 1]], [{"g": "y"}]))
        two.delete_by_ids("both", ["b"])
        assert [(m.id, round(m.score, 6)) for m in one.query("both", [1, 0], QueryOptions(top_k=5))] == [("a", 0.0)]
        assert one.query("both", [1, 0], QueryOptions(filter={"g": "x"})) == []
        two.delete_index("both")
        assert one.list_indexes() == []


def test_a_query_answers_from_one_state_whatever_another_engine_commits_meanwhile(tmp_path, monkeypatch):
    """The index was searched in one state and the matches' rows read in a later one: "x" came back with the
    score of its old vector and the values and metadata of its new one, and "y", deleted meanwhile, with none."""
    with LocalEngine(tmp_path / "shared", limits=TINY) as one, LocalEngine(tmp_path / "shared", limits=TINY) as two:
        one.create_index("ix", dimensions=2, metric="cosine")
        one.upsert("ix", vectors(["x", "y"], [[1, 0], [1, 1]], [{"v": "old"}, {"v": "old"}]))
        one.query("ix", [1, 0], QueryOptions())
        read_rows, read_applied = one.store.fetch_vectors, one.store.last_applied

        def committed_meanwhile(*args):  # the other notebook, between the search and the read of the rows
            monkeypatch.undo()
            two.upsert("ix", vectors(["x"], [[-1, 0]], [{"v": "new"}]))
            two.delete_by_ids("ix", ["y"])
            return (read_rows if len(args) == 2 else read_applied)(*args)

        monkeypatch.setattr(one.store, "fetch_vectors", committed_meanwhile)
        matches = one.query("ix", [1, 0], QueryOptions(top_k=2, return_values=True, return_metadata="all"))
        assert [(m.id, round(m.score, 4), m.values.tolist(), m.metadata) for m in matches] == [
            ("x", 1.0, [1.0, 0.0], {"v": "old"}), ("y", 0.7071, [1.0, 1.0], {"v": "old"})]
        assert [(m.id, m.score) for m in one.query("ix", [1, 0], QueryOptions(top_k=2))] == [("x", -1.0)]
        monkeypatch.setattr(one.store, "last_applied", committed_meanwhile)  # the same two writes again
        before = one.index_info("ix")
        assert (before.vector_count, before.processed_up_to_mutation) == (1, one.mutation_log("ix")[2]["mutationId"])
        assert one.index_info("ix").processed_up_to_mutation == one.mutation_log("ix")[4]["mutationId"]


@pytest.mark.parametrize("change", ["upsert", "delete", "metadata index"])
def test_a_write_checked_against_an_index_another_engine_recreates_meanwhile_is_refused(tmp_path, monkeypatch, change):
    with LocalEngine(tmp_path / "shared", limits=TINY) as one, LocalEngine(tmp_path / "shared", limits=TINY) as two:
        one.create_index("ix", dimensions=4, metric="cosine")
        one.upsert("ix", vectors(["old"], [[1, 0, 0, 0]]))

        def recreated_meanwhile(*args, **kwargs):  # the other notebook, between the check and the commit
            two.delete_index("ix")
            two.create_index("ix", dimensions=2, metric="cosine")
            monkeypatch.setattr(one, "_mutate", original)
            return original(*args, **kwargs)

        original = one._mutate
        monkeypatch.setattr(one, "_mutate", recreated_meanwhile)
        write = {"upsert": lambda: one.upsert("ix", vectors(["a"], [[1, 2, 3, 4]])),
                 "delete": lambda: one.delete_by_ids("ix", ["old"]),
                 "metadata index": lambda: one.create_metadata_index("ix", "g", "string")}[change]
        with pytest.raises(errors.IndexDeleted, match='Index name "ix" was deleted'):
            write()
        assert two.index_info("ix").vector_count == 0 and two.list_metadata_indexes("ix") == []


@pytest.mark.parametrize("read, store_call", [
    (lambda e: e.get_by_ids("ix", ["a"]), "fetch_vectors"),
    (lambda e: e.list_vectors("ix"), "list_ids"),
])
def test_a_read_of_an_index_another_engine_deletes_meanwhile_is_3005_not_a_crash(tmp_path, monkeypatch, read,
                                                                                  store_call):
    """(A query reads the matches' rows in the state it searched: it answers as if before the delete.)"""
    with LocalEngine(tmp_path / "shared", limits=TINY) as one, LocalEngine(tmp_path / "shared", limits=TINY) as two:
        one.create_index("ix", dimensions=2, metric="cosine")
        one.upsert("ix", vectors(["a"], [[1, 0]]))
        read(one)  # loaded and in step
        two.upsert("ix", vectors(["b"], [[0, 1]]))  # so that `one` has something to catch up on

        def deleted_meanwhile(*args, **kwargs):  # the other notebook, between the catch-up and the read
            monkeypatch.undo()
            two.delete_index("ix")
            two.create_index("ix", dimensions=2, metric="cosine")
            return getattr(one.store, store_call)(*args, **kwargs)

        monkeypatch.setattr(one.store, store_call, deleted_meanwhile)
        with pytest.raises(errors.IndexDeleted, match='Index name "ix" was deleted'):
            read(one)
        assert read(one) is not None and one.index_info("ix").vector_count == 0  # the new index, empty


def test_an_index_deleted_while_others_catch_up_fails_no_read_of_another(tmp_path, monkeypatch):
    with LocalEngine(tmp_path / "shared", limits=TINY) as one, LocalEngine(tmp_path / "shared", limits=TINY) as two:
        for name in ("gone", "kept"):
            one.create_index(name, dimensions=2, metric="cosine")
            one.upsert(name, vectors(["a"], [[1, 0]]))
            one.query(name, [1, 0], QueryOptions())
        two.upsert("kept", vectors(["b"], [[0, 1]]))
        original = IndexState.catch_up

        def catch_up(state, store):  # the catalog said "gone" was there; its tables are not any more
            if state.row.name == "gone":
                raise sqlite3.OperationalError(f"no such table: vectors_{state.row.id}")
            return original(state, store)

        monkeypatch.setattr(IndexState, "catch_up", catch_up)
        assert [m.id for m in one.query("kept", [1, 0], QueryOptions(top_k=2))] == ["a", "b"]


@pytest.mark.parametrize("name", ["never", "ix"])
def test_a_locked_database_stays_that_error_whatever_the_index(tmp_path, monkeypatch, name):
    with LocalEngine(tmp_path / "shared", limits=TINY) as engine:
        engine.create_index("ix", dimensions=2, metric="cosine")

        def locked():
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(engine, "_sync", locked)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            engine.query(name, [1, 0], QueryOptions())


def test_a_bug_in_catching_up_is_not_swallowed(tmp_path, monkeypatch):
    with LocalEngine(tmp_path / "shared", limits=TINY) as one, LocalEngine(tmp_path / "shared", limits=TINY) as two:
        one.create_index("ix", dimensions=2, metric="cosine")
        one.upsert("ix", vectors(["a"], [[1, 0]]))
        one.query("ix", [1, 0], QueryOptions())
        two.upsert("ix", vectors(["b"], [[0, 1]]))

        def broken(state, store):
            raise KeyError("slot 7")

        monkeypatch.setattr(IndexState, "catch_up", broken)
        with pytest.raises(KeyError, match="slot 7"):
            one.query("ix", [1, 0], QueryOptions())


def run_child(code: str, folder) -> subprocess.CompletedProcess:
    script = textwrap.dedent(code).format(folder=str(folder))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)


CHILD_PRELUDE = """
import numpy as np
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.state import IndexState
from vectorize_nb.contract.limits import DEFAULT_LIMITS
from vectorize_nb.contract.models import Vectors, QueryOptions
engine = LocalEngine({folder!r}, limits=DEFAULT_LIMITS.with_changes(min_dimensions=2))
"""


def test_another_process_sees_writes_before_it_answers(tmp_path):
    folder = tmp_path / "procs"
    with LocalEngine(folder, limits=TINY) as parent:
        parent.create_index("procs", dimensions=2, metric="cosine")
        parent.query("procs", [1, 0], QueryOptions())  # loaded in memory before the child writes
        run_child(CHILD_PRELUDE + """
engine.upsert("procs", Vectors(["from-child"], np.array([[1, 0]], np.float32)))
engine.close()
""", folder)
        assert [m.id for m in parent.query("procs", [1, 0], QueryOptions())] == ["from-child"]
        parent.upsert("procs", vectors(["from-parent"], [[0, 1]]))
        child = run_child(CHILD_PRELUDE + """
print(sorted(m.id for m in engine.query("procs", [1, 1], QueryOptions(top_k=5))))
""", folder)
        assert child.stdout.strip() == "['from-child', 'from-parent']"


WRITER = CHILD_PRELUDE + """
import time
from vectorize_nb.local.store import Store
engine.create_index("crash", dimensions=512, metric="cosine")
write_rows = Store.write_vectors

def write_then_hang(self, *args, **kwargs):
    write_rows(self, *args, **kwargs)
    print("inside the transaction", flush=True)
    time.sleep(60)

for n in range(1000):
    if n == 3:  # the fourth batch is written to SQLite but never committed
        Store.write_vectors = write_then_hang
    ids = [f"b{{n}}-{{i}}" for i in range(5000)]
    values = np.full((5000, 512), n, dtype=np.float32)
    engine.upsert("crash", Vectors(ids, values, [{{"batch": n}}] * 5000))
    print(n, flush=True)
"""


@pytest.mark.slow
def test_a_process_killed_mid_upsert_leaves_whole_batches_only(tmp_path):
    folder = tmp_path / "crash"
    script = textwrap.dedent(WRITER).format(folder=str(folder))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        lines = [child.stdout.readline().strip() for _ in range(4)]
        assert lines == ["0", "1", "2", "inside the transaction"], lines
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
    con = sqlite3.connect(folder / DATABASE_NAME)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with LocalEngine(folder, limits=TINY) as survivor:
        assert survivor.index_info("crash").vector_count == 3 * 5000
        assert survivor.list_vectors("crash", count=1).ids == ["b0-0"]
        for n in range(3):
            [record] = survivor.get_by_ids("crash", [f"b{n}-4999"])
            assert record.values[0] == n and record.metadata == {"batch": n}
        assert survivor.get_by_ids("crash", ["b3-0", "b3-4999"]) == []
        log = survivor.mutation_log("crash")
        assert len(log) == 3 and all(m["appliedAt"] is not None for m in log)
        # the killed batch's vectors lie past the recorded end of the vector file: the next write replaces them
        late = np.tile(np.float32([7, -7]), 256)
        survivor.upsert("crash", Vectors(["late"], late[None, :]))
        assert survivor.get_by_ids("crash", ["late"])[0].values.tolist() == late.tolist()
        assert [(m.id, m.score) for m in survivor.query("crash", late, QueryOptions(top_k=1))] == [("late", 1.0)]


@pytest.mark.parametrize("read", ["get_by_ids", "export", "query"])
def test_a_read_that_another_engine_compacts_under_is_answered_from_the_new_file(tmp_path, monkeypatch, read):
    """The reader took the generation from its snapshot of the database; the writer's compaction committed and
    deleted that generation's file before the reader opened it."""
    from vectorize_nb.local import store as store_module
    from vectorize_nb.local.vectorfile import VectorFiles

    monkeypatch.setattr(store_module, "MIN_HOLES", 1)
    folder = tmp_path / "shared"
    with LocalEngine(folder, limits=TINY) as writer:
        writer.create_index("ix", dimensions=2, metric="cosine")
        writer.upsert("ix", vectors(["a", "b", "c", "d"], [[1, 0], [0, 1], [1, 1], [1, 2]]))
        with LocalEngine(folder, limits=TINY) as reader:
            real_open = VectorFiles.open

            def compacted_first(files, index_id, generation, dimensions, create=False):
                if files is reader.store._files and not create:
                    monkeypatch.setattr(VectorFiles, "open", real_open)
                    writer.delete_by_ids("ix", ["b", "c"])  # holes: the writer compacts into a new generation
                    assert not any(p.exists() for p in files.paths(index_id, generation))
                return real_open(files, index_id, generation, dimensions, create)

            monkeypatch.setattr(VectorFiles, "open", compacted_first)
            answer = {
                "get_by_ids": lambda: sorted(r.id for r in reader.get_by_ids("ix", ["a", "b", "d"])),
                "export": lambda: sorted(reader.export("ix").ids),
                "query": lambda: sorted(m.id for m in reader.query("ix", [1, 0], QueryOptions(top_k=5))),
            }[read]()
    assert answer == ["a", "d"]
