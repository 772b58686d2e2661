"""The engine's files where the system lacks Linux's calls: Windows (no pwrite, preadv or fdatasync,
and a file that os.open opens in text mode unless told O_BINARY) and macOS (no fdatasync)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from vectorize_nb.contract.models import QueryOptions
from vectorize_nb.local import LocalEngine, store as store_module

from ..helpers import TINY, vectors

O_BINARY = 1 << 28  # a bit Linux's open() does not use, taken off before the real call
NEWLINES = np.frombuffer(b"\x0a\x0a\x0a\x3f" * 16, dtype=np.float32)
"""A row whose every byte but one in four is a newline (each value is about 0.54)."""


@pytest.fixture
def windows_calls(monkeypatch):
    """os as the Windows C runtime gives it: without pwrite, preadv or fdatasync, and with O_BINARY,
    without which a file is in text mode, where each b"\\n" written is written as b"\\r\\n"."""
    real_open, real_write, real_close = os.open, os.write, os.close
    text_mode: set[int] = set()

    def open_(path, flags, mode=0o777, *, dir_fd=None):
        fd = real_open(path, flags & ~O_BINARY, mode, dir_fd=dir_fd)
        (text_mode.discard if flags & O_BINARY else text_mode.add)(fd)
        return fd

    def write(fd, data):
        if fd not in text_mode:
            return real_write(fd, data)
        translated = bytes(data).replace(b"\n", b"\r\n")
        assert real_write(fd, translated) == len(translated)
        return len(data)

    def close(fd):
        text_mode.discard(fd)
        real_close(fd)

    for name in ("pwrite", "preadv", "fdatasync"):
        monkeypatch.delattr(os, name, raising=False)
    monkeypatch.setattr(os, "O_BINARY", O_BINARY, raising=False)
    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "close", close)


def ranked(data, ids, query):
    scores = data.astype(np.float64) @ query / np.linalg.norm(data.astype(np.float64), axis=1)
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))]


def test_vectors_written_and_read_without_linux_calls_are_the_vectors_given(tmp_path, rng, windows_calls,
                                                                             monkeypatch):
    monkeypatch.setattr(store_module, "MIN_HOLES", 1)  # the deletes below compact into a new generation
    data = rng.standard_normal((60, 16)).astype(np.float32)
    data[::3] = NEWLINES
    data[::3, 0] = np.arange(20)  # rows alike, not equal
    ids = [f"v{i:02}" for i in range(60)]
    folder = tmp_path / "store"
    with LocalEngine(folder, limits=TINY) as engine:
        engine.create_index("idx", dimensions=16, metric="cosine")
        engine.upsert("idx", vectors(ids, data))
        assert [r.values.tolist() for r in engine.get_by_ids("idx", ids[:4])] == data[:4].tolist()
        engine.delete_by_ids("idx", ids[50:])
        assert sorted(path.name for path in (folder / "vectors").iterdir()) == ["1.1.f32", "1.1.norms"]
        got = [m.id for m in engine.query("idx", data[3], QueryOptions(top_k=10))]
        assert got == ranked(data[:50], ids[:50], data[3].astype(np.float64))[:10]
    with LocalEngine(folder, limits=TINY) as reopened:
        export = reopened.export("idx", metadata=False)
        assert export.ids == ids[:50]
        np.testing.assert_array_equal(export.values, data[:50])


def mapped(folder) -> list[str]:
    """The files of `folder` that this process maps (Linux tells, in /proc/self/maps)."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        return sorted({line.split(None, 5)[-1].strip() for line in maps if str(folder) in line})


@pytest.fixture
def windows_deletes(monkeypatch):
    """Deleting a file as Windows does: refused while a process maps it."""
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("this system does not tell which files a process maps")
    real_unlink = Path.unlink

    def unlink(path, missing_ok=False):
        if mapped(path):
            raise PermissionError(13, "The process cannot access the file because it is being used", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)


def test_an_index_deleted_or_compacted_leaves_no_file_that_windows_would_keep(tmp_path, rng, windows_deletes,
                                                                             monkeypatch):
    folder = tmp_path / "store"
    data = rng.standard_normal((40, 4)).astype(np.float32)
    ids = [f"v{i}" for i in range(40)]
    with LocalEngine(folder, limits=TINY) as engine:
        for name in ("gone", "kept"):
            engine.create_index(name, dimensions=4, metric="cosine")
            engine.upsert(name, vectors(ids, data))
            engine.query(name, data[0], QueryOptions())  # its resident index maps the file
        engine.delete_index("gone")
        assert sorted(path.name for path in (folder / "vectors").iterdir()) == ["2.0.f32", "2.0.norms"]
        monkeypatch.setattr(store_module, "MIN_HOLES", 1)
        engine.delete_by_ids("kept", ids[30:])
        assert sorted(path.name for path in (folder / "vectors").iterdir()) == ["2.1.f32", "2.1.norms"]
        assert [m.id for m in engine.query("kept", data[3], QueryOptions(top_k=1))] == ["v3"]


def test_a_closed_engine_maps_no_file_of_its_folder(tmp_path, rng):
    """Else Windows refuses to delete the folder (a temporary one, say) while the engine object lives."""
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("this system does not tell which files a process maps")
    folder = tmp_path / "store"
    data = rng.standard_normal((40, 4)).astype(np.float32)
    engine = LocalEngine(folder, limits=TINY)
    engine.create_index("idx", dimensions=4, metric="cosine")
    engine.upsert("idx", vectors([f"v{i}" for i in range(40)], data))
    engine.query("idx", data[0], QueryOptions())
    assert mapped(folder)
    engine.close()
    assert mapped(folder) == []


@pytest.fixture
def windows_numpy1_integers(monkeypatch):
    """numpy 1.x on Windows, where the default integer is C's long, 32 bits: what np.arange gives
    unless told a dtype (numpy 2 made it 64 bits there too)."""
    real_arange = np.arange

    def arange(*args, dtype=None, **kwargs):
        if dtype is None and all(isinstance(arg, int | np.integer) for arg in args):
            dtype = np.int32
        return real_arange(*args, dtype=dtype, **kwargs)

    monkeypatch.setattr(np, "arange", arange)


@pytest.mark.parametrize("filtered", [False, True], ids=["all rows", "a namespace"])
def test_many_queries_at_once_with_32_bit_default_integers(rng, windows_numpy1_integers, filtered):
    data = rng.standard_normal((300, 8)).astype(np.float32)
    ids = [f"v{i:03}" for i in range(300)]
    with LocalEngine(limits=TINY) as engine:
        engine.create_index("idx", dimensions=8, metric="cosine")
        engine.upsert("idx", vectors(ids, data, namespaces=["a", "b"] * 150))
        options = QueryOptions(top_k=5, namespace="a" if filtered else None)
        answers = engine.query_many("idx", data[:4], options)
    kept = list(range(0, 300, 2)) if filtered else list(range(300))
    for query, matches in zip(data[:4], answers):
        assert [m.id for m in matches] == ranked(data[kept], [ids[i] for i in kept], query.astype(np.float64))[:5]
