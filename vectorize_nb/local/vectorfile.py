"""The one copy of an index's vector values: float32 rows, one per slot, and the norm of each row.

The store appends every written vector after the last slot that SQLite records (inside the write's
transaction, before it commits), and SQLite keeps the slot of each id. A slot is written once in a
file: a rewritten or deleted vector leaves a hole, so a row that SQLite refers to never changes under
a reader, and a killed writer leaves nothing but unreferenced rows past the recorded end. Compaction
copies the rows into a new file (the next generation) with the last rows moved into the holes, so
that processes still reading the old generation keep a valid mapping of it.

On disk, in the folder's `vectors/`:
    <index>.<generation>.f32     the rows, `dimensions` float32 values each, no header
    <index>.<generation>.norms   each row's Euclidean norm as float64, computed once in float64
                                 (in float32 the norm of a row holding 1e20 overflows)
Both are read through shared, read-only memory maps: opening an index reads none of its rows, and
all the processes that open a folder share one copy of them in the page cache. Without a folder (an
in-memory engine, or a resident index of its own) both are numpy arrays.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import re
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..journal import refused

__all__ = ["VectorFile", "VectorFiles", "ShortFile", "row_norms", "moves"]

SUFFIXES = (".f32", ".norms")
_NAMED = re.compile(r"(\d+)\.(\d+)(?:" + "|".join(re.escape(suffix) for suffix in SUFFIXES) + ")")
"""The name of a file the engine writes in `vectors/` (<index>.<generation> and a suffix): the only files it deletes."""
NORM_CHUNK = 8192
COPY_ROWS = 32768
READ_ROWS = 16384
MIN_FILE_GROWTH = 1 << 20
"""A file grows by a sixteenth of its size (at least this many bytes) when a write passes its end;
the room is sparse until written, and it spares readers a new mapping at every write."""


def row_norms(values: np.ndarray) -> np.ndarray:
    """The Euclidean norm of each row, computed in float64 (chunked, so no full float64 copy exists)."""
    norms = np.empty(len(values), dtype=np.float64)
    for start in range(0, len(values), NORM_CHUNK):
        chunk = values[start:start + NORM_CHUNK].astype(np.float64)
        np.sqrt(np.einsum("ij,ij->i", chunk, chunk), out=norms[start:start + NORM_CHUNK])
    return norms


class ShortFile(OSError):
    """A vector file that holds fewer rows than the store records: cut short behind the engine's back."""

    def __init__(self, file: Path | None, rows: int, recorded: int) -> None:
        super().__init__(f"{file or 'vectors'} holds {rows} rows where {recorded} are recorded")
        self.file, self.rows, self.recorded = file, rows, recorded


def _sync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def _pwrite(fd: int, data: memoryview, offset: int) -> int:
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows: the store writes under its lock, one write at a time
    return os.write(fd, data)


def _open(path: Path, flags: int) -> int:
    """Open for reading and writing, else for reading only where this user may not write (a read-only folder)."""
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        if flags & os.O_CREAT or not refused(exc):
            raise
        return os.open(path, flags & ~os.O_RDWR | os.O_RDONLY)


def _stem(index_id: int, generation: int) -> str:
    return f"{index_id}.{generation}"


def _unlink(path: Path) -> None:
    """Delete a file; where the system refuses while a process maps it (Windows), the next open prunes it."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        path.unlink()


class _Column:
    """One growable array of fixed-width items: a file read through a memory map, or an array."""

    def __init__(self, dtype: np.dtype, width: int, path: Path | None, create: bool) -> None:
        self.dtype, self.width, self.path = dtype, width, path
        self.item_bytes = dtype.itemsize * width
        # O_BINARY (Windows): without it os.write turns each 0x0a byte of a row into 0x0d 0x0a
        flags = os.O_RDWR | getattr(os, "O_BINARY", 0) | (os.O_CREAT | os.O_TRUNC if create else 0)
        self._fd = -1 if path is None else _open(path, flags)
        # closes the file on close(), or when the column is collected unclosed (a client a notebook dropped)
        self._release = weakref.finalize(self, os.close, self._fd) if self._fd >= 0 else None
        self._array = np.empty((0, width), dtype=dtype)
        self._dirty = False

    def view(self, count: int) -> np.ndarray:
        """The first `count` items (read-only when the column is a file)."""
        if self._fd >= 0:
            self.check(count)
            if len(self._array) < count:
                self._map()
        elif len(self._array) < count:
            raise ShortFile(self.path, len(self._array), count)
        return self._array[:count]

    def check(self, count: int) -> None:
        """ShortFile unless the file holds `count` items (an array: nothing to check). Asked before every read,
        since a mapping read past the end of a file cut short meanwhile kills the process (SIGBUS)."""
        if self._fd < 0:
            return
        held = os.fstat(self._fd).st_size // self.item_bytes
        if held < count:
            raise ShortFile(self.path, held, count)

    def take(self, slots: np.ndarray, count: int) -> np.ndarray:
        """Items at `slots` (each below `count`), copied. A file is read with preadv, a window of rows at
        a time, so that the rows land in the page cache and the copy only, not in this process's mapping."""
        if self._fd < 0 or not hasattr(os, "preadv") or not len(slots):
            taken: np.ndarray = self.view(count)[slots]
            return taken
        self.check(count)
        taken = np.empty((len(slots), self.width), dtype=self.dtype)
        first_slot = int(slots[0])
        if np.array_equal(slots, np.arange(first_slot, first_slot + len(slots))):  # rows in a run: read in place
            self._read_into(taken, first_slot, count)
            return taken
        order = np.argsort(slots, kind="stable")
        ordered = slots[order]
        window = np.empty((READ_ROWS, self.width), dtype=self.dtype)
        first = 0
        while first < len(ordered):
            start = int(ordered[first])
            last = int(np.searchsorted(ordered, start + READ_ROWS))
            self._read_into(window[:int(ordered[last - 1]) - start + 1], start, count)
            taken[order[first:last]] = window[ordered[first:last] - start]
            first = last
        return taken

    def _read_into(self, items: np.ndarray, start: int, count: int) -> None:
        view = memoryview(items).cast("B")  # type: ignore[arg-type]  # numpy arrays are buffers
        offset = start * self.item_bytes
        while view:
            read = os.preadv(self._fd, [view], offset)
            if read == 0:
                raise ShortFile(self.path, offset // self.item_bytes, count)
            view, offset = view[read:], offset + read

    def _map(self) -> None:
        size = os.fstat(self._fd).st_size // self.item_bytes * self.item_bytes
        if size == 0:
            return
        mapping = mmap.mmap(self._fd, size, access=mmap.ACCESS_READ)
        self._array = np.frombuffer(mapping, dtype=self.dtype).reshape(-1, self.width)

    def write(self, start: int, items: np.ndarray) -> None:
        items = np.ascontiguousarray(items, dtype=self.dtype).reshape(-1, self.width)
        if not len(items):
            return
        end = start + len(items)
        if self._fd < 0:
            if end > len(self._array):
                grown = np.empty((max(end, 2 * len(self._array), 1024), self.width), dtype=self.dtype)
                kept = min(start, len(self._array))
                grown[:kept] = self._array[:kept]
                self._array = grown
            self._array[start:end] = items
            return
        self.check(start)  # cut short behind the engine's back: never fill the rows with zeros
        size = os.fstat(self._fd).st_size
        if end * self.item_bytes > size:
            os.ftruncate(self._fd, max(end * self.item_bytes, size + max(size // 16, MIN_FILE_GROWTH)))
        data = memoryview(items).cast("B")  # type: ignore[arg-type]  # numpy arrays are buffers
        offset = start * self.item_bytes
        while data:
            written = _pwrite(self._fd, data, offset)
            data, offset = data[written:], offset + written
        self._dirty = True

    def sync(self) -> None:
        if self._dirty:
            if os.fstat(self._fd).st_nlink == 0:  # deleted under this process: the rows would be lost on close
                raise FileNotFoundError(errno.ENOENT, "deleted while open", str(self.path))
            _sync(self._fd)
            self._dirty = False

    def close(self) -> None:
        """Close the file and let go of its mapping (which lives on while other arrays still view it):
        Windows deletes no file that a process maps."""
        if self._release is not None and self._release.alive:
            self._release()
            self._fd = -1
            self._array = np.empty((0, self.width), dtype=self.dtype)


class VectorFile:
    """An index's rows and their norms, in one generation of its files (or in memory).

    Parameters
    ----------
    dimensions
        Values per row.
    folder, name
        Where the files are (`<folder>/<name>.f32` and `.norms`); no folder keeps them in memory.
    create
        Start empty files (replacing any of that name) rather than open existing ones.

    Raises
    ------
    FileNotFoundError
        When the files are not there (another process compacted them away) and `create` is false.
    """

    def __init__(self, dimensions: int, folder: Path | None = None, name: str = "", create: bool = False) -> None:
        self.dimensions = dimensions
        self.paths = () if folder is None else tuple(folder / f"{name}{suffix}" for suffix in SUFFIXES)
        self._rows = _Column(np.dtype(np.float32), dimensions, self.paths[0] if self.paths else None, create)
        try:
            self._norms = _Column(np.dtype(np.float64), 1, self.paths[1] if self.paths else None, create)
        except OSError:
            self._rows.close()
            raise
        self._appended: tuple[list[str], int] | None = None

    def rows(self, end: int) -> np.ndarray:
        """Rows 0..end as an (end, dimensions) float32 array."""
        return self._rows.view(end)

    def take(self, slots: np.ndarray, end: int) -> np.ndarray:
        """Copies of the rows at `slots` (each below `end`), read without mapping the file."""
        return self._rows.take(slots, end)

    def norms(self, end: int) -> np.ndarray:
        """The norms of rows 0..end (float64)."""
        return self._norms.view(end).reshape(-1)

    def write(self, start: int, values: np.ndarray, norms: np.ndarray | None = None) -> None:
        """Put rows (and their norms, computed here unless given) at slots start, start + 1, ...; nothing when
        either file ends before `start` (ShortFile)."""
        for column in (self._rows, self._norms):
            column.check(start)
        self._rows.write(start, values)
        self._norms.write(start, row_norms(values) if norms is None else norms)

    def write_bytes(self, start: int, data: bytes | bytearray) -> None:
        """Put rows given as their float32 bytes, one after another, at slots start, start + 1, ..."""
        if data:
            self.write(start, np.frombuffer(data, dtype=np.float32).reshape(-1, self.dimensions))

    def note_append(self, ids: list[str], start: int) -> None:
        """Record that the rows of `ids` were just written from slot `start` on (see `take_append`)."""
        self._appended = (ids, start)

    def take_append(self, ids: list[str]) -> int | None:
        """The first slot of the last write if it was of exactly `ids` (once), else None: how a resident index
        learns where the store put the rows it is told about."""
        appended, self._appended = self._appended, None
        return appended[1] if appended is not None and appended[0] == ids else None

    def copy_into(self, target: VectorFile, end: int, sources: np.ndarray, targets: np.ndarray) -> None:
        """Write rows 0..end into `target`, with row `sources[i]` in place of row `targets[i]` for each i
        (`targets` ascending, each below `end`)."""
        top = max(end, int(sources.max(initial=-1)) + 1)
        rows, norms = self.rows(top), self.norms(top)
        for start in range(0, end, COPY_ROWS):
            stop = min(start + COPY_ROWS, end)
            chunk_rows, chunk_norms = rows[start:stop].copy(), norms[start:stop].copy()
            first, last = np.searchsorted(targets, [start, stop])
            chunk_rows[targets[first:last] - start] = rows[sources[first:last]]
            chunk_norms[targets[first:last] - start] = norms[sources[first:last]]
            target.write(start, chunk_rows, chunk_norms)

    def sync(self) -> None:
        """Make the written rows durable (before the transaction that refers to them commits)."""
        self._rows.sync()
        self._norms.sync()

    def close(self) -> None:
        self._rows.close()
        self._norms.close()


def moves(records: np.ndarray, live: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How compaction fills the holes: for (rowid, slot) of every live row, the rowids and slots of
    the rows past slot `live` and the holes below it that they move into (each ascending)."""
    rowids, slots = records[:, 0], records[:, 1]
    used = np.zeros(live, dtype=bool)
    used[slots[slots < live]] = True
    tail = np.flatnonzero(slots >= live)
    tail = tail[np.argsort(slots[tail])]
    return rowids[tail], slots[tail], np.flatnonzero(~used)


class VectorFiles:
    """The vector files of one folder's indexes (or of an in-memory store), each opened once, by
    (index, generation); and what the store's open transaction does to them when it ends: files
    written are synced before it commits, new generations are deleted if it rolls back, replaced
    ones once it has committed."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._open: dict[tuple[int, int], VectorFile] = {}
        self._written: set[VectorFile] = set()
        self._on_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []

    def get(self, index_id: int, generation: int) -> VectorFile | None:
        """The file if it is open here (an in-memory file exists only so)."""
        return self._open.get((index_id, generation))

    def open(self, index_id: int, generation: int, dimensions: int, create: bool = False) -> VectorFile:
        """Open a committed generation of an index's file, closing the older ones (their files are gone),
        or `create` the next one (inside a transaction, which may yet roll back)."""
        if self.folder is None and not create:
            raise LookupError(f"no vectors of index {index_id}, generation {generation}, in memory")
        if self.folder is None:
            file = VectorFile(dimensions)
        else:
            file = self._on_disk(index_id, generation, dimensions, create)
        self._open[(index_id, generation)] = file
        for older in [key for key in self._open if key[0] == index_id and key[1] < generation and not create]:
            self._open.pop(older).close()
        return file

    def _on_disk(self, index_id: int, generation: int, dimensions: int, create: bool) -> VectorFile:
        assert self.folder is not None
        if create:
            self.folder.mkdir(exist_ok=True)
        return VectorFile(dimensions, self.folder, _stem(index_id, generation), create=create)

    def paths(self, index_id: int, generation: int) -> tuple[Path, ...]:
        """The files of one generation of an index's vectors (none in memory)."""
        return () if self.folder is None else tuple(self.folder / f"{_stem(index_id, generation)}{s}" for s in SUFFIXES)

    def drop(self, index_id: int, generation: int) -> None:
        """Close and delete one generation's files (a process that maps them keeps its mapping)."""
        file = self._open.pop((index_id, generation), None)
        if file is not None:
            file.close()
        for path in self.paths(index_id, generation):
            _unlink(path)

    def _named(self) -> list[tuple[Path, int, int]]:
        """The files in the folder that the engine wrote: (path, index, generation) each. Others (a user's
        own, an editor's backup) are left alone."""
        if self.folder is None or not self.folder.is_dir():
            return []
        matches = [(path, _NAMED.fullmatch(path.name)) for path in self.folder.iterdir()]
        return [(path, int(match[1]), int(match[2])) for path, match in matches if match is not None]

    def held(self) -> bool:
        """Whether the folder holds any file the engine wrote."""
        return bool(self._named())

    def prune(self, current: dict[int, int]) -> None:
        """Delete the files of every generation but the current one of each index (left by a process
        that died inside a compaction, or by an index deleted as its process died)."""
        for path, index_id, generation in self._named():
            if current.get(index_id) != generation:
                _unlink(path)

    def remove(self, index_id: int) -> None:
        """Close and delete every file of an index."""
        for key in [key for key in self._open if key[0] == index_id]:
            self._open.pop(key).close()
        for path, named_index, _ in self._named():
            if named_index == index_id:
                _unlink(path)

    def close(self) -> None:
        for file in self._open.values():
            file.close()

    # --- the store's open transaction -----------------------------------------------------------

    def written(self, file: VectorFile) -> None:
        """The transaction wrote rows to this file: sync it before the commit."""
        self._written.add(file)

    def created(self, index_id: int, generation: int) -> None:
        """The transaction started this generation: delete it if the transaction rolls back."""
        self._on_rollback.append(lambda: self.drop(index_id, generation))

    def replaced(self, index_id: int, generation: int | None = None) -> None:
        """The transaction replaced this generation (every one, with None): delete it once committed."""
        self._on_commit.append(lambda: self.remove(index_id) if generation is None else self.drop(index_id, generation))

    def sync(self) -> None:
        """Make what the transaction wrote durable (just before it commits)."""
        for file in self._written:
            file.sync()

    def settle(self, committed: bool) -> None:
        """The transaction ended: do what waited for its outcome."""
        actions = self._on_commit if committed else self._on_rollback
        self._written, self._on_commit, self._on_rollback = set(), [], []
        for action in actions:
            action()
