"""Embeddings are paid for once: an on-disk cache in SQLite, keyed by (model, pooling, text).

    cache = EmbeddingCache()                       # ~/.cache/vectorize-nb/embeddings.sqlite3
    result = cache.embed(texts, model, pooling, compute=lambda missing, keep: embed_locally(missing, model, pooling))
    result.vectors, result.hits, result.misses

`compute` may hand over its vectors as it makes them, `keep(start, vectors)` in order (rows left out between two
calls are those that failed): each part is stored as it comes, so that a job stopped part-way (an error, the stop
button, a kernel that died) keeps what it paid for.

Vectors are stored exactly (float32) in blocks of a few MiB, and each text's key (a 128-bit hash of
model, pooling and text) points at its row. A job seen before as a whole (the same list of texts,
as when a notebook runs again; one of the last JOBS_KEPT) is found by one hash of the list, without hashing
every text.
Several processes may share the file (WAL mode, short transactions); a file that is not a readable
database (or one whose tables are not these) is set aside and started afresh, since everything in it can be
computed again. Where the cache cannot be written (a read-only folder, a full disk), `embed` computes the
vectors without it, and says so once in the log.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..contract.errors import ClientClosed
from ..environment import folder_path
from ..journal import full, read_only, refused, write_ahead

__all__ = ["EmbeddingCache", "CachedEmbeddings", "Keep", "default_folder", "FILE_NAME"]

FILE_NAME = "embeddings.sqlite3"
BLOCK_BYTES = 4 << 20
"""Vectors are written in blocks of at most about this size (a part `compute` keeps is a block of its own)."""
JOB_MIN = 1000
"""Jobs of at least this many texts are also remembered whole."""
JOBS_KEPT = 64
"""The jobs last remembered whole; an older one is found text by text, and remembered again."""
_IN_LIST = 30_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (id INTEGER PRIMARY KEY, dims INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS texts (key BLOB PRIMARY KEY, block INTEGER NOT NULL, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, refs BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS clears (id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS written (index_key TEXT PRIMARY KEY, model TEXT NOT NULL, pooling TEXT NOT NULL);
"""
log = logging.getLogger(__name__)
_T = TypeVar("_T")
Keep = Callable[[int, np.ndarray], None]
"""`keep(start, vectors)`: the vectors of missing[start:start + len(vectors)], handed over in order; a gap before
`start` holds rows whose vectors were not made (a request that failed)."""


def default_folder() -> Path:
    """$XDG_CACHE_HOME/vectorize-nb, else ~/.cache/vectorize-nb: a relative $XDG_CACHE_HOME is ignored, as the XDG
    specification says."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "vectorize-nb"


@dataclass(frozen=True)
class CachedEmbeddings:
    """The vectors of one `EmbeddingCache.embed` call, and how many texts the cache answered."""

    vectors: np.ndarray
    hits: int
    misses: int


@dataclass
class _Lookup:
    found: np.ndarray
    """A bool per text."""
    refs: np.ndarray
    """(block, row) per text, -1 where not found."""
    vectors: np.ndarray | None
    """(n, d) float32, valid where found; None when nothing was."""
    whole_job: bool
    """Found through the hash of the whole list."""
    clears: int
    """How many times the cache had been cleared when it was read."""


class EmbeddingCache:
    """Embeddings on disk, keyed by model, pooling and text, shared by every process that opens the folder.

    Parameters
    ----------
    folder
        Where the file lives (created if needed); None for `default_folder()`.
    """

    def __init__(self, folder: str | Path | None = None):
        self.path = folder_path(folder if folder is not None else default_folder()) / FILE_NAME
        self.hits = 0
        self.misses = 0
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._shut = False
        self._unwritable_said = False

    def embed(self, texts: Sequence[str], model: str, pooling: str,
              compute: Callable[[list[str], Keep], np.ndarray]) -> CachedEmbeddings:
        """The vectors of `texts`: from the cache where it has them, from `compute(missing texts, keep)`
        (each distinct text once) for the rest, which are stored: those handed to `keep` as they come,
        even if `compute` then fails, the rest once it returns. `hits` and `misses` count texts.

        Raises
        ------
        ValueError
            `compute` returned a matrix that does not have one row per text, or rows of another width
            than the cached ones, or kept vectors out of order.
        """
        texts = list(texts)
        found = self._optional(lambda db: _lookup(db, texts, model, pooling), lambda: _nothing_found(len(texts)))
        missing = np.flatnonzero(~found.found)
        vectors = found.vectors
        if len(missing):
            wanted = [texts[i] for i in missing]
            unique = list(dict.fromkeys(wanted))
            keeper = _Keeper(self, _text_keys(unique, model, pooling), vectors)
            made = compute(unique, keeper)
            computed = _checked(made, len(unique), vectors)
            stored = keeper.finish(computed)
            if len(unique) == len(texts):  # all new and distinct: no reordering
                vectors, found.refs = computed, stored
            else:
                where = {text: i for i, text in enumerate(unique)}
                rows = np.fromiter((where[t] for t in wanted), np.int64, len(wanted))
                if vectors is None:
                    vectors = np.empty((len(texts), computed.shape[1]), np.float32)
                vectors[missing] = computed[rows]
                found.refs[missing] = stored[rows]
        if len(texts) >= JOB_MIN and not found.whole_job and (found.refs >= 0).all():
            self._optional(lambda db: _remember_job(db, _job_key(texts, model, pooling), found.refs, found.clears),
                           lambda: None)
        hits, misses = len(texts) - len(missing), len(missing)
        with self._lock:  # other threads count theirs
            self.hits += hits
            self.misses += misses
        if vectors is None:
            vectors = np.empty((0, 0), np.float32)
        return CachedEmbeddings(vectors, hits, misses)

    def get(self, texts: Sequence[str], model: str, pooling: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(found, vectors): a bool per text, and an (n, d) float32 matrix whose rows are valid where
        found (None when nothing was found)."""
        texts = list(texts)
        found = self._run(lambda db: _lookup(db, texts, model, pooling))
        return found.found, found.vectors

    def put(self, texts: Sequence[str], model: str, pooling: str, vectors: np.ndarray) -> None:
        """Store one vector per text; for a text already there, the first vector stored stays."""
        matrix = _checked(vectors, len(texts), None)
        self._run(lambda db: _store(db, _text_keys(list(texts), model, pooling), matrix))

    def wrote(self, index_key: str, model: str, pooling: str) -> None:
        """Record that the texts written to an index (`index_key` names it, on its target, as created) were
        embedded with `model` and `pooling`; kept by `clear`, which forgets vectors only."""
        self._optional(lambda db: db.execute("INSERT OR REPLACE INTO written VALUES (?, ?, ?)",
                                             (index_key, model, pooling)), lambda: None)

    def written(self, index_key: str) -> tuple[str, str] | None:
        """The model and pooling `wrote` recorded for the index, or None."""
        row = self._optional(lambda db: db.execute("SELECT model, pooling FROM written WHERE index_key = ?",
                                                   (index_key,)).fetchone(), lambda: None)
        return None if row is None else (str(row[0]), str(row[1]))

    def __len__(self) -> int:
        """How many (model, pooling, text) entries the cache holds."""
        return self._run(lambda db: int(db.execute("SELECT count(*) FROM texts").fetchone()[0]))

    def clear(self) -> None:
        """Forget every stored vector."""
        def wipe(db: sqlite3.Connection) -> None:
            with _transaction(db):
                for table in ("jobs", "texts", "blocks"):
                    db.execute(f"DELETE FROM {table}")
                db.execute("INSERT INTO clears DEFAULT VALUES")  # the next blocks may take the ids just freed
        self._run(wipe)

    def close(self, *, for_good: bool = False) -> None:
        """Close the file: the next call opens it again, unless closed `for_good` (its client was closed). Then an
        `embed` under way finishes without the cache, and any other call raises ClientClosed."""
        with self._lock:
            self._shut = self._shut or for_good
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r}, hits={self.hits}, misses={self.misses})"

    def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """`work(connection)`; a file that went missing is created again, and one that is not a readable
        database is set aside and started afresh, then `work` runs once more."""
        with self._lock:
            try:
                return work(self._open())
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):  # locked, busy, I/O: not the file's fault
                    raise
                self._set_aside(exc)
                return work(self._open())

    def _optional(self, work: Callable[[sqlite3.Connection], _T], otherwise: Callable[[], _T]) -> _T:
        """`work` through `_run`, or `otherwise()` where the cache cannot be written here (a read-only folder,
        a full disk, a file where its folder would be): the texts are embedded all the same, without it, and the
        log says so once."""
        try:
            return self._run(work)
        except ClientClosed:
            return otherwise()
        except (OSError, sqlite3.OperationalError) as exc:
            if not (refused(exc) or full(exc) or isinstance(exc, (NotADirectoryError, FileExistsError))):
                raise
            if not self._unwritable_said:
                log.warning("The embedding cache %s cannot be written (%s): the texts it does not hold are embedded "
                            "without it", self.path, exc)
                self._unwritable_said = True
            return otherwise()

    def _open(self) -> sqlite3.Connection:
        if self._shut:
            raise ClientClosed()
        if self._db is not None and not self.path.exists():
            self.close()
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = _opened(sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                                   check_same_thread=False), _configure)
            except sqlite3.OperationalError as exc:
                if not (refused(exc) and self.path.exists() and self.path.stat().st_size):  # none to read
                    raise
                self._db = _opened(read_only(self.path, 30), _check_schema)
                log.warning("The embedding cache %s cannot be written (%s): it answers from the texts it holds, "
                            "and the others are embedded without it", self.path, exc)
                self._unwritable_said = True
        return self._db

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        self.close()
        aside = self.path.with_name(self.path.name + ".corrupt")
        log.warning("The embedding cache %s is unreadable (%s); it is moved to %s and started afresh",
                    self.path, exc, aside)
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)


class _Keeper:
    """Stores the new vectors of one `embed` call: each part as `compute` keeps it (one short transaction: a
    kernel that dies part-way, even by SIGKILL, keeps what it paid for), and at the end what it returned beyond
    them; knows the (block, row) of each."""

    def __init__(self, cache: EmbeddingCache, keys: list[bytes], like: np.ndarray | None) -> None:
        self._cache, self._keys, self._like = cache, keys, like
        self._refs = np.full((len(keys), 2), -1, np.int64)
        self._stored = np.zeros(len(keys), bool)
        self._kept = 0

    def __call__(self, start: int, vectors: np.ndarray) -> None:
        if start < self._kept:
            raise ValueError(f"vectors kept out of order: rows from {start}, where {self._kept} were kept")
        part = _checked(vectors, len(vectors), self._like)
        self._like = part
        self._kept = start + len(part)
        self._store(np.arange(start, self._kept), part)

    def _store(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        keys = [self._keys[row] for row in rows]
        self._refs[rows] = self._cache._optional(lambda db: _store(db, keys, vectors),
                                                 lambda: np.full((len(vectors), 2), -1, np.int64))
        self._stored[rows] = True

    def finish(self, computed: np.ndarray) -> np.ndarray:
        """Stores what was not kept; the (block, row) of every new vector."""
        rest = np.flatnonzero(~self._stored)
        if len(rest):
            self._store(rest, computed[rest])
        return self._refs


def _opened(db: sqlite3.Connection, prepare: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """`db` once `prepare` ran on it; closed where `prepare` fails."""
    try:
        prepare(db)
    except BaseException:
        db.close()
        raise
    return db


def _configure(db: sqlite3.Connection) -> None:
    """The settings and tables of a cache file this process may write."""
    db.execute("PRAGMA page_size=65536")  # a new file only: vectors span 16x fewer pages
    write_ahead(db, patience=30)
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(_SCHEMA)
    _check_schema(db)


def _check_schema(db: sqlite3.Connection) -> None:
    """A DatabaseError (the file is set aside) where a table lacks a column `_SCHEMA` gives it: a file of another
    program, whose tables of the same names CREATE TABLE IF NOT EXISTS leaves as they are. Columns a later
    version added are left alone."""
    for table, columns in _columns(_SCHEMA).items():
        found = [str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")]
        if not set(columns) <= set(found):
            raise sqlite3.DatabaseError(f"table {table} has the columns {found}, not {columns}")


@functools.cache
def _columns(schema: str) -> dict[str, list[str]]:
    """The columns of each table `schema` creates, in order."""
    with closing(sqlite3.connect(":memory:")) as db:
        db.executescript(schema)
        tables = [str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: [str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")] for table in tables}


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite rolls back itself on some errors (a full disk): a ROLLBACK would fail
            db.execute("ROLLBACK")
        raise


def _lookup(db: sqlite3.Connection, texts: list[str], model: str, pooling: str) -> _Lookup:
    """What the cache holds of `texts`, read in one read transaction: another process's clear(), and the
    blocks written after it under the ids it freed, cannot come between the refs and the rows they point at."""
    db.execute("BEGIN")
    try:
        return _looked_up(db, texts, model, pooling, _clears(db))
    finally:
        if db.in_transaction:  # SQLite may have ended it on an error
            db.execute("COMMIT")


def _clears(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM clears").fetchone()[0])


def _looked_up(db: sqlite3.Connection, texts: list[str], model: str, pooling: str, clears: int) -> _Lookup:
    job = _job_refs(db, _job_key(texts, model, pooling)) if len(texts) >= JOB_MIN else None
    whole_job = job is not None and len(job) == len(texts)
    refs = job.copy() if job is not None and whole_job else _text_refs(db, _text_keys(texts, model, pooling))
    found = refs[:, 0] >= 0
    gathered = _gather(db, refs[found]) if found.any() else None
    if gathered is None:  # nothing found, or its blocks went away under us
        return _nothing_found(len(texts), clears)
    if found.all():
        return _Lookup(found, refs, gathered, whole_job, clears)
    vectors = np.zeros((len(texts), gathered.shape[1]), np.float32)
    vectors[found] = gathered
    return _Lookup(found, refs, vectors, whole_job, clears)


def _nothing_found(count: int, clears: int = -1) -> _Lookup:
    return _Lookup(np.zeros(count, bool), np.full((count, 2), -1, np.int64), None, False, clears)


def _store(db: sqlite3.Connection, keys: list[bytes], vectors: np.ndarray) -> np.ndarray:
    """Write the vectors in blocks, one short transaction each; returns (block, row) per key. A key stored
    already (by another process embedding the same texts meanwhile) keeps its first vector and takes no room."""
    per_block = max(1, BLOCK_BYTES // max(1, vectors.shape[1] * 4))
    refs = np.empty((len(keys), 2), np.int64)
    for start in range(0, len(keys), per_block):
        part = keys[start:start + per_block]
        with _transaction(db):
            held = _text_refs(db, part)
            new = np.flatnonzero(held[:, 0] < 0)
            if len(new):
                data = vectors[start:start + len(part)][new].tobytes()
                block = db.execute("INSERT INTO blocks (dims, data) VALUES (?, ?)",
                                   (vectors.shape[1], data)).lastrowid or 0
                db.executemany("INSERT OR IGNORE INTO texts (key, block, row) VALUES (?, ?, ?)",
                               ((part[i], block, row) for row, i in enumerate(new.tolist())))
                held[new, 0], held[new, 1] = block, np.arange(len(new))
        refs[start:start + len(part)] = held
    return refs


def _remember_job(db: sqlite3.Connection, key: bytes, refs: np.ndarray, clears: int) -> None:
    """Remember a whole job's (block, row) per text, read or written since the cache was cleared `clears`
    times; not if another process cleared it since: the blocks they point at may hold other texts by now."""
    with _transaction(db):
        if _clears(db) == clears:
            db.execute("INSERT OR REPLACE INTO jobs (key, refs) VALUES (?, ?)", (key, refs.tobytes()))
            db.execute("DELETE FROM jobs WHERE id NOT IN (SELECT id FROM jobs ORDER BY id DESC LIMIT ?)", (JOBS_KEPT,))


def _checked(vectors: np.ndarray, rows: int, like: np.ndarray | None) -> np.ndarray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or len(matrix) != rows:
        raise ValueError(f"expected one vector per text ({rows} rows), got shape {matrix.shape}")
    if like is not None and like.shape[1] != matrix.shape[1]:
        raise ValueError(f"computed vectors have {matrix.shape[1]} dimensions, cached ones {like.shape[1]}")
    return matrix


def _prefix(model: str, pooling: str) -> bytes:
    return json.dumps([model, pooling]).encode() + b"\n"


def _text_keys(texts: list[str], model: str, pooling: str) -> list[bytes]:
    prefix, blake = _prefix(model, pooling), hashlib.blake2b
    return [blake(prefix + t.encode("utf-8", "surrogatepass"), digest_size=16).digest() for t in texts]


def _job_key(texts: list[str], model: str, pooling: str) -> bytes:
    """One hash of the whole list: the lengths and the concatenation determine the list."""
    digest = hashlib.blake2b(_prefix(model, pooling), digest_size=16)
    digest.update(np.fromiter(map(len, texts), np.int64, len(texts)).tobytes())
    digest.update("".join(texts).encode("utf-8", "surrogatepass"))
    return digest.digest()


def _job_refs(db: sqlite3.Connection, key: bytes) -> np.ndarray | None:
    row = db.execute("SELECT refs FROM jobs WHERE key = ?", (key,)).fetchone()
    return np.frombuffer(row[0], np.int64).reshape(-1, 2) if row else None


def _text_refs(db: sqlite3.Connection, keys: list[bytes]) -> np.ndarray:
    """(block, row) per key, (-1, -1) where the key is not stored; a repeated key is looked up once."""
    position: dict[bytes, int] = {}
    index = [position.setdefault(key, len(position)) for key in keys]
    unique = list(position)
    refs = np.full((len(unique), 2), -1, np.int64)
    for start in range(0, len(unique), _IN_LIST):
        chunk = unique[start:start + _IN_LIST]
        query = f"SELECT key, block, row FROM texts WHERE key IN ({','.join('?' * len(chunk))})"
        for key, block, row in db.execute(query, chunk):
            refs[position[key]] = block, row
    return refs if len(unique) == len(keys) else refs[index]


def _gather(db: sqlite3.Connection, refs: np.ndarray) -> np.ndarray | None:
    """The rows that `refs` point at, or None if their blocks are gone or of mixed widths."""
    blocks, which = np.unique(refs[:, 0], return_inverse=True)
    found: dict[int, tuple[int, bytes]] = {}
    for start in range(0, len(blocks), _IN_LIST):
        chunk = blocks[start:start + _IN_LIST].tolist()
        query = f"SELECT id, dims, data FROM blocks WHERE id IN ({','.join('?' * len(chunk))})"
        found.update((block, (dims, data)) for block, dims, data in db.execute(query, chunk))
    widths = {dims for dims, _ in found.values()}
    if len(found) < len(blocks) or len(widths) != 1:
        return None
    dims = widths.pop()
    out = np.empty((len(refs), dims), np.float32)
    order = np.argsort(which, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(which, minlength=len(blocks)))])
    for i, block in enumerate(blocks.tolist()):
        rows_of_block = np.frombuffer(found[block][1], np.float32).reshape(-1, dims)
        at, rows = order[bounds[i]:bounds[i + 1]], refs[order[bounds[i]:bounds[i + 1]], 1]
        if _is_run(at) and _is_run(rows):  # the common case: a block read back in the order it was written
            out[at[0]:at[-1] + 1] = rows_of_block[rows[0]:rows[-1] + 1]
        else:
            out[at] = rows_of_block[rows]
    return out


def _is_run(values: np.ndarray) -> bool:
    """True when `values` counts up by one."""
    return bool(values[-1] - values[0] == len(values) - 1 and (np.diff(values) == 1).all())
