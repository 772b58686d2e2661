"""A warm-start copy of a resident index (`resident.py`), so that reopening a large store is quick.

The store stays the source of truth, and the vectors are not in a snapshot: they stay in the vector
file, which the resident index maps. A snapshot holds, per slot of one generation of the vector file,
the id (null for a hole), the namespace and the metadata columns, and it records the last applied
mutation it reflects; the engine loads it and then catches up from the store like any other reader
(rows written after it, ids deleted since). A snapshot that is missing, unreadable, of another
generation of the vector file, or older than a metadata-index change is ignored and the resident
index is read from SQLite instead.

Files are plain numpy arrays (`np.save`, never pickle) and JSON, written into a temporary folder
that is renamed into place, so a crash mid-write leaves the previous snapshot or none. The staging
folder (`index-N.tmp-<pid>`) or the previous snapshot set aside (`index-N.old-<pid>`) that a process
killed mid-write leaves goes when the engine next opens the folder, or deletes the index.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np
import orjson

from .columns import MetadataColumn, StringColumn
from .resident import ResidentIndex
from .vectorfile import VectorFile

__all__ = ["save", "load", "discard", "opened", "MIN_ROWS", "FORMAT"]

FORMAT = 2
MIN_ROWS = 50_000
"""Smaller resident indexes load from SQLite in well under a second; they are not worth a snapshot."""


def _folder(root: Path, index_id: int) -> Path:
    return root / f"index-{index_id}"


def save(root: Path, index_id: int, created_on: str, resident: ResidentIndex, applied_seq: int) -> None:
    """Write the snapshot of an index; `created_on` tells it from an index of the same id in a store
    made anew (a database deleted by hand, the folder's other files kept). A folder that cannot take
    it (read-only, or its disk full) keeps the previous snapshot or none: a snapshot only speeds up a
    reopen, so the read or write that set it off carries on."""
    staging = _folder(root, index_id).with_name(f"index-{index_id}.tmp-{os.getpid()}")
    try:
        _write(staging, resident, {"format": FORMAT, "index_id": index_id, "created_on": created_on,
                                   "applied_seq": applied_seq})
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return
    _replace(_folder(root, index_id), staging)


def _write(staging: Path, resident: ResidentIndex, header: dict[str, Any]) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    count = resident.end
    arrays: dict[str, np.ndarray] = {"live": resident.live[:count], "namespace_codes": resident.namespace_codes[:count]}
    columns: dict[str, dict[str, Any]] = {}
    for name, column in resident.columns.items():
        arrays[f"state-{len(columns)}"] = column.state[:count]
        arrays[f"keys-{len(columns)}"] = column.keys[:count]
        columns[name] = _column_header(column, count)
    for name, array in arrays.items():
        np.save(staging / f"{name}.npy", array, allow_pickle=False)
    header.update(count=count, generation=resident.generation, dimensions=resident.dimensions,
                  metric=resident.scorer.metric, columns=columns, namespaces=resident.namespace_names)
    (staging / "ids.json").write_bytes(orjson.dumps(resident.ids[:count]))
    (staging / "header.json").write_bytes(orjson.dumps(header))


def _replace(final: Path, staging: Path) -> None:
    old = final.with_name(final.name + f".old-{os.getpid()}")
    try:
        if final.exists():
            final.rename(old)
        staging.rename(final)
    except OSError:  # another process put its own snapshot in place at the same moment: that one stays
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def discard(root: Path, index_id: int) -> None:
    shutil.rmtree(_folder(root, index_id), ignore_errors=True)
    _clear_leftovers(root, f"index-{index_id}.*-*")


def opened(folder: Path) -> Path:
    """The snapshots' folder of the engine's `folder`, cleared of what processes killed mid-write left."""
    root = folder / "snapshots"
    _clear_leftovers(root, "index-*.*-*")
    return root


_LEFTOVER = re.compile(r"index-\d+\.(?:tmp|old)-(\d+)")


def _clear_leftovers(root: Path, pattern: str) -> None:
    """Remove the staging and set-aside folders matching `pattern` whose process has ended; a live process's
    may be in use right now. On Windows none is removed: a pid cannot be asked about there without a risk."""
    if os.name == "nt":  # os.kill(pid, 0) sends Ctrl+C there
        return
    for path in root.glob(pattern):
        if (found := _LEFTOVER.fullmatch(path.name)) and not _alive(int(found[1])):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process of that id runs (one of another user's included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: it runs, as another user's; a number no pid is: left alone
        return True
    return True


def _column_header(column: MetadataColumn, count: int) -> dict[str, Any]:
    many = {str(slot): elements.tolist() for slot, elements in column.many.items() if slot < count}
    return {"type": column.index_type, "words": getattr(column, "words", None), "many": many}


def load(root: Path, index_id: int, created_on: str, metric: str, prefix_bytes: int,
         vectors: Callable[[], VectorFile], generation: int) -> tuple[ResidentIndex, int] | None:
    """The snapshot of an index as (resident index, applied_seq), or None when there is no usable one.

    Parameters
    ----------
    vectors, generation
        Opens the index's current vector file, and which generation that is.
    """
    folder = _folder(root, index_id)
    try:
        header = orjson.loads((folder / "header.json").read_bytes())
        if (header["format"], header["index_id"], header["created_on"], header["metric"], header["generation"]) != (
                FORMAT, index_id, created_on, metric, generation):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    file = vectors()  # FileNotFoundError when compacted away meanwhile: the caller reads again
    try:
        if header["dimensions"] != file.dimensions:
            return None
        resident = ResidentIndex(file.dimensions, metric, prefix_bytes, capacity=header["count"], vectors=file,
                            generation=generation)
        _fill(resident, folder, header)
        return resident, header["applied_seq"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fill(resident: ResidentIndex, folder: Path, header: dict[str, Any]) -> None:
    count = header["count"]
    ids = orjson.loads((folder / "ids.json").read_bytes())
    if len(ids) != count:
        raise ValueError("snapshot ids do not match its count")
    live = np.empty(count, dtype=bool)
    _read_into(folder, "live", live)
    resident.restore(ids, live)
    _read_into(folder, "namespace_codes", resident.namespace_codes[:count])
    resident.namespace_names = list(header["namespaces"])
    resident.namespaces = {name: code for code, name in enumerate(resident.namespace_names)}
    for position, (name, spec) in enumerate(header["columns"].items()):
        resident.add_column(name, spec["type"])
        column = resident.columns[name]
        _read_into(folder, f"state-{position}", column.state[:count])
        _read_into(folder, f"keys-{position}", column.keys[:count])
        column.restore_many({int(slot): keys for slot, keys in spec["many"].items()})
        if isinstance(column, StringColumn):
            column.restore_words(spec["words"] or [])


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _read_into(folder: Path, name: str, target: np.ndarray) -> None:
    """Read a saved array straight into `target` (no second copy in memory), checking shape and type."""
    with open(folder / f"{name}.npy", "rb") as file:
        version = np.lib.format.read_magic(file)
        reader = _HEADER_READERS.get(version)
        if reader is None:
            raise ValueError(f"snapshot array {name} has an unknown format version {version}")
        shape, fortran, dtype = reader(file)
        if shape != target.shape or fortran or dtype != target.dtype:
            raise ValueError(f"snapshot array {name} is {dtype}{shape}, expected {target.dtype}{target.shape}")
        view = memoryview(target).cast("B")  # type: ignore[arg-type]  # numpy arrays are buffers
        if file.readinto(view) != view.nbytes:
            raise ValueError(f"snapshot array {name} is truncated")
