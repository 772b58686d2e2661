"""LocalEngine: every Vectorize v2 operation, in process, durable in SQLite, searched with numpy.

    engine = LocalEngine("./.vectorize")        # or LocalEngine() for memory only
    engine.create_index("docs", dimensions=384, metric="cosine")
    engine.upsert("docs", Vectors(ids, X))
    engine.query("docs", X[0], QueryOptions(top_k=5))

Writes are mutations: each gets a UUID, is applied in order, and by default is applied before the
call returns. With `apply_delay` seconds the mutation is logged and applied only once that long
has passed (on the next call after it is due), so `info()` lags as the real service does.

Several engines, in one process or many, may open the same folder: each notices the others'
commits (SQLite's data_version) and catches up before it answers, from one committed state.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..contract import errors, validation
from ..contract.flat import MetadataColumns, collector_paused
from ..contract.filters import FilterMiss, parse_filter
from ..contract.limits import DEFAULT_LIMITS, Limits
from ..contract.backend import Backend
from ..environment import folder_path
from ..contract.models import (DEFAULT_QUERY, CheckedVectors, FilterCounts, IndexDescription, IndexExport,
                               IndexInfo, Match, MetadataIndex, Mutation, MutationState, QueryOptions, VectorPage,
                               VectorRecord, Vectors, WriteKind)
from . import snapshot
from .cursors import Cursors
from .damage import damage_met
from .deletions import deleted, deleted_meanwhile, folder_call, gone, read_meanwhile
from .mutations import (Change, MetadataIndexCreate, MetadataIndexDelete, VectorDelete, VectorWrite, from_log,
                        queued_metadata_indexes, UnreadableMutation)
from .state import IndexState
from .rows import describe, info, iso, log_entry, timestamp
from .readonly import LOCK_PATIENCE, FolderLocked
from .store import MutationRow, Store
from .matches import answers, record
from .resident import ResidentIndex

__all__ = ["LocalEngine"]


class LocalEngine(Backend):
    """The embedded Vectorize. `path=None` keeps everything in memory; a write waits up to `lock_patience`
    seconds for the write lock another process holds on the folder."""

    max_concurrency = 1
    exports_at_once = True
    embedded_engine = True

    def __init__(self, path: str | Path | None = None, *, limits: Limits = DEFAULT_LIMITS,
                 apply_delay: float = 0.0, clock: Callable[[], float] = time.time,
                 lock_patience: float = LOCK_PATIENCE) -> None:
        self.path = None if path is None else folder_path(path)
        self.limits = limits
        if isinstance(apply_delay, (bool, np.bool_)) or not isinstance(apply_delay, (int, float, np.number)) \
                or not 0 <= apply_delay < float("inf"):  # NaN included; "5" is no number of seconds
            raise errors.ConfigurationError(f"apply_delay must be 0 or more seconds, and finite: got {apply_delay!r}")
        self.apply_delay = float(apply_delay)
        self.clock = clock
        self.store = Store(self.path, lock_patience)
        self._snapshots = None if self.path is None else snapshot.opened(self.path)
        self._lock = threading.RLock()
        self._cursors = Cursors(limits.cursor_ttl_seconds, clock)
        self._states: dict[str, IndexState] = {}
        self._version = self.store.data_version()
        self._maybe_pending = True
        self._stuck: dict[int, errors.FolderUnusable] = {}
        """Per index, the damage that keeps its due mutations from being applied."""
        self._closed = False
        self._reload_catalog()

    def __repr__(self) -> str:
        return f"LocalEngine({'memory' if self.path is None else str(self.path)!r}, apply_delay={self.apply_delay:g})"

    def close(self) -> None:
        """Write snapshots of large resident indexes that changed (for a quick reopen), then close the store
        (whatever stops the snapshots). Closing again does nothing; any other call afterwards raises ClientClosed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                for state in self._states.values():
                    state.save(self._snapshots)
            finally:
                self.store.close()

    @property
    def folder(self) -> Path | None:
        """The engine's folder (None in memory)."""
        return self.path

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- keeping in step with the store and other processes ------------------------------------

    def _reload_catalog(self) -> None:
        known = self._states
        self._states = {row.name: known[row.name] if row.name in known and known[row.name].row.id == row.id
                        else IndexState(row) for row in self.store.live_indexes()}

    def _catch_up(self) -> None:
        """Take in what other connections committed since this engine last looked."""
        version = self.store.data_version()
        if version != self._version:
            self._version = version
            self._maybe_pending = True
            with self._unsure():
                self._reload_catalog()
                for state in self._states.values():
                    try:
                        state.catch_up(self.store)
                    except Exception as exc:
                        if not gone(exc):
                            raise
                        state.resident, self._version = None, -1  # deleted since the catalog was read: read it again

    @contextmanager
    def _unsure(self) -> Iterator[None]:
        """Where a change is committed, then mirrored into the resident index: one interrupted in between (the
        stop button) leaves the resident index behind the store, so the next call catches up with it."""
        try:
            yield
        except BaseException:
            self._version = -1
            raise

    def _sync(self) -> None:
        """Catch up, then apply the mutations that are due (each in its own transaction)."""
        if self._closed:
            raise errors.ClientClosed()
        self._catch_up()
        if self._maybe_pending and not self.store.read_only:  # a read-only folder's pending writes stay pending
            self._apply_due()

    def _apply_due(self) -> None:
        """Apply the due mutations, each in its own transaction; an index's whose vector file is damaged wait (its
        calls say what is wrong), and all wait for a later call while another writer holds the lock."""
        self._stuck = {}
        with self._unsure():
            for mutation in self.store.pending(due_by=self.clock()):
                if mutation.index_id in self._stuck:
                    continue
                try:
                    self._apply(mutation)
                except FolderLocked:
                    return
                except OSError as exc:  # a vector file cut short or missing: the index's later mutations wait too
                    state = self._of(mutation.index_id)
                    damage = None if state is None else self._damage(state.row.name, exc)
                    if damage is None:
                        raise
                    self._stuck[mutation.index_id] = damage
                except UnreadableMutation as exc:  # the index's later mutations wait too
                    self._stuck[mutation.index_id] = exc.unusable
        self._maybe_pending = bool(self.store.pending())

    def _apply(self, mutation: MutationRow) -> None:
        with self.store.transaction(wait=False):
            self._catch_up()  # another process may have applied the ones before, or created the index
            fresh = self.store.mutation(mutation.seq)
            if fresh is None or fresh.applied_at is not None:
                return
            state = self._of(mutation.index_id)
            change = from_log(self.store, fresh, state.row) if state else None
            mirror = change.commit(self.store, mutation.index_id, mutation.seq) if change else None
            self.store.drop_staged(mutation.seq)
            self.store.mark_applied(mutation.seq, self.clock())
        if state is not None and mirror is not None:
            state.apply(mirror, mutation.seq, self.store, self.limits.indexed_string_bytes, self._snapshots)

    def _of(self, index_id: int) -> IndexState | None:
        return next((state for state in self._states.values() if state.row.id == index_id), None)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The engine lock and a write transaction, caught up with other processes inside it."""
        with self._lock:
            self._sync()
            with self.store.transaction():
                self._catch_up()
                yield

    def _state(self, name: str) -> IndexState:
        state = self._states.get(name)
        if state is not None:
            return state
        row = self.store.latest_index(name)
        if row is not None and row.deleted_on is not None:
            raise deleted(name)
        raise errors.IndexNotFound(f'vectorize.index.not_found - Index name "{name}"')

    def _find(self, name: str) -> IndexState:
        """The state of a live index, after catching up (the start of every call on its contents)."""
        self._sync()
        return self._live(name)

    @contextmanager
    def _reading(self, name: str) -> Iterator[IndexState]:
        """`_find` for a read of the index in memory and rows of the store: caught up in a read transaction that
        lasts the read, both are of one committed state whatever others commit meanwhile."""
        self._sync()
        with self.store.reading():
            self._catch_up()
            yield self._live(name)

    def _live(self, name: str) -> IndexState:
        state = self._state(name)
        if (stuck := self._stuck.get(state.row.id)) is not None:
            raise stuck.with_traceback(None)
        return state

    def _vanished(self, name: str) -> bool:
        """Whether index `name`, known to this engine, was deleted (or made anew) since it last caught up."""
        with self._lock:
            known, latest = self._states.get(name), self.store.latest_index(name)
            self._version = -1  # no data_version: the catalog is read again on the next call
        return known is not None and (latest is None or latest.deleted_on is not None or latest.id != known.row.id)

    def _damage(self, name: str | None, exc: Exception) -> errors.FolderUnusable | None:
        """The damage to the folder that `exc`, met by a call on index `name` (None: on the folder), stands for
        (None for other errors)."""
        state = None if name is None else self._states.get(name)
        index = None if state is None else (state.row.name, partial(self.store.vector_paths, state.row.id))
        return damage_met(exc, self.path, index)

    def _resident(self, state: IndexState) -> ResidentIndex:
        return state.loaded(self.store, self.limits.indexed_string_bytes, self._snapshots)

    # --- indexes -------------------------------------------------------------------------------

    @folder_call
    def create_index(self, name: str, *, dimensions: int | None = None, metric: str | None = None,
                     preset: str | None = None, description: str = "") -> IndexDescription:
        validation.index_name(name, self.limits)
        config = validation.index_config(dimensions, metric, preset, self.limits)
        if not isinstance(description, str):
            raise errors.MalformedRequest(f"description must be a string, got {type(description).__name__}")
        with self._writing():
            if name in self._states:
                raise errors.DuplicateIndexName(f'vectorize.index.duplicate_name - Index name "{name}"')
            row = self.store.create_index(name, config.dimensions, config.metric, config.preset,
                                          description, iso(self.clock()))
        self._states[name] = IndexState(row)
        return describe(row)

    @folder_call
    def list_indexes(self) -> list[IndexDescription]:
        with self._lock:
            self._sync()
            return [describe(state.row) for state in self._states.values()]

    @deleted_meanwhile
    def get_index(self, name: str) -> IndexDescription:
        with self._lock:
            self._sync()
            return describe(self._state(name).row)  # an index whose writes wait on damage too: to delete it

    @deleted_meanwhile
    def delete_index(self, name: str) -> None:
        with self._writing():
            state = self._state(name)
            self.store.delete_index(state.row.id, iso(self.clock()))
        del self._states[name]
        if self._snapshots is not None:
            snapshot.discard(self._snapshots, state.row.id)
            shutil.rmtree(self._derived(state.row.id), ignore_errors=True)

    @deleted_meanwhile
    def index_folder(self, name: str) -> Path | None:
        with self._lock:
            row_id = self._find(name).row.id
        return None if self.path is None else self._derived(row_id)

    def _derived(self, index_id: int) -> Path:
        assert self.path is not None
        return self.path / "derived" / f"index-{index_id}"

    @read_meanwhile
    def index_info(self, name: str) -> IndexInfo:
        with self._lock, self._reading(name) as state:
            count = state.resident.count if state.resident is not None else self.store.count_vectors(state.row.id)
            return info(state.row.dimensions, count, self.store.last_applied(state.row.id))

    @read_meanwhile
    def mutation_state(self, name: str, mutation_id: str) -> MutationState:
        with self._lock:
            return self.store.mutation_state(self._find(name).row.id, mutation_id)

    # --- writes --------------------------------------------------------------------------------

    @deleted_meanwhile
    def write(self, name: str, kind: WriteKind, vectors: Vectors | CheckedVectors) -> Mutation:
        """Insert (ids already stored are left as they are) or upsert (stored rows replaced in full)."""
        with self._lock:
            state = self._find(name)
            validation.write_count(len(vectors), self.limits)
            checked = vectors if isinstance(vectors, CheckedVectors) and vectors.dimensions == state.row.dimensions \
                else validation.check_vectors(vectors, kind, state.row.dimensions, self.limits)
            namespaces: list[str | None] = checked.namespaces if checked.namespaces is not None \
                else [None] * len(checked)
            change = VectorWrite(kind, checked.ids, np.asarray(checked.values), namespaces, checked.metadata_json,
                                 checked.metadata)
            return self._mutate(state, change)

    def embed(self, texts: list[str], model: str, pooling: str) -> np.ndarray:
        """Texts to vectors on this machine, with the model's open weights (the `embeddings` extra)."""
        from ..embeddings import embed_locally

        return embed_locally(texts, model, pooling)

    @deleted_meanwhile
    def delete_by_ids(self, name: str, ids: Sequence[str]) -> Mutation:
        with self._lock:
            state = self._find(name)
            ids = list(dict.fromkeys(validation.id_list(ids, self.limits.max_delete_ids, self.limits)))
            return self._mutate(state, VectorDelete(ids))

    def _mutate(self, checked: IndexState, change: Change) -> Mutation:
        """Log a change to the index it was checked against, and apply it now, or queue it when a delay is
        set or others are queued."""
        mutation_id, now = str(uuid.uuid4()), self.clock()
        with self._unsure():
            with self._writing():
                state = self._state(checked.row.name)
                if state.row.id != checked.row.id:  # deleted and created anew by another process meanwhile
                    raise deleted(checked.row.name)
                queued = self.store.pending(state.row.id)
                due = max([now + self.apply_delay] + [m.due_at for m in queued])
                if self.apply_delay > 0 or queued:
                    seq = self.store.log_mutation(state.row.id, mutation_id, change.kind, change.count,
                                                  change.payload(), now, due, None)
                    change.stage(self.store, seq)
                    self._maybe_pending = True
                    return Mutation(mutation_id)
                seq = self.store.log_mutation(state.row.id, mutation_id, change.kind, change.count,
                                              change.payload(), now, now, now)
                mirror = change.commit(self.store, state.row.id, seq)
            state.apply(mirror, seq, self.store, self.limits.indexed_string_bytes, self._snapshots)
        return Mutation(mutation_id, applied=True)

    # --- reads ---------------------------------------------------------------------------------

    @read_meanwhile
    def query(self, name: str, vector: Any = None, options: QueryOptions = DEFAULT_QUERY, *,
              vector_id: str | None = None) -> list[Match]:
        """The best `options.top_k` matches for one vector (or for the stored vector `vector_id`)."""
        with self._lock, self._reading(name) as state:
            resident = self._resident(state)
            if (vector is None) == (vector_id is None):
                raise errors.InvalidQuery("give exactly one of vector or vectorId")
            if vector_id is not None:
                row = resident.row_of(validation.vector_id(vector_id, self.limits))
                if row is None:
                    raise errors.VectorNotFound(f'no vector with id="{vector_id}" in index "{name}"')
                query = row[None, :]
            else:
                query = validation.query_vector(vector, state.row.dimensions)[None, :]
            return self._answer(state, resident, query, options)[0]

    @read_meanwhile
    def query_many(self, name: str, vectors: np.ndarray, options: QueryOptions = DEFAULT_QUERY) -> list[list[Match]]:
        """One answer per row of `vectors`, computed in one matrix product."""
        with self._lock, self._reading(name) as state:
            resident = self._resident(state)
            queries = validation.query_matrix(vectors, state.row.dimensions)
            return self._answer(state, resident, queries, options)

    def _answer(self, state: IndexState, resident: ResidentIndex, queries: np.ndarray,
                options: QueryOptions) -> list[list[Match]]:
        options = validation.query_options(options, self.limits)
        rows = resident.candidates(options.namespace, parse_filter(options.filter, self.limits))
        if len(queries) == 0 or (rows is not None and len(rows) == 0) or resident.count == 0:
            return [[] for _ in queries]
        ranked = resident.nearest(queries, options.top_k, rows)
        return answers(self.store, state.row.id, resident, ranked, options, self.limits.indexed_string_bytes)

    @read_meanwhile
    def get_by_ids(self, name: str, ids: Sequence[str]) -> list[VectorRecord]:
        """Stored vectors in request order; unknown ids are left out."""
        with self._lock:
            state = self._find(name)
            ids = list(dict.fromkeys(validation.id_list(ids, self.limits.max_get_ids, self.limits)))
            found = self.store.fetch_vectors(state.row.id, ids)
            return [record(found[vid]) for vid in ids if vid in found]

    @read_meanwhile
    def export(self, name: str, *, values: bool = True, metadata: bool = True,
               metadata_json: bool = False) -> IndexExport:
        """Every vector at once, read straight from the store (one SQL scan and one copy of the rows)."""
        columns = MetadataColumns()
        with collector_paused():
            with self._lock:
                state = self._find(name)
                ids, namespaces, blobs, matrix = self.store.export_vectors(state.row.id, values)
            flat = metadata and not metadata_json
            columns.add_json(blobs if flat else [])
        return IndexExport(ids, namespaces, None if matrix is None else matrix.reshape(len(ids), state.row.dimensions),
                           columns.columns if flat else None, blobs if metadata_json else None)

    @read_meanwhile
    def list_vectors(self, name: str, count: int | None = None, cursor: str | None = None) -> VectorPage:
        with self._lock:
            state = self._find(name)
            size = validation.list_count(count, self.limits)
            page = self._cursors.page(state.row.id, cursor, size, lambda: self.store.list_ids(state.row.id))
            expiry = None if page.expires_at is None else timestamp(page.expires_at)
            return VectorPage(page.ids, page.total, page.next_cursor is not None, page.next_cursor, expiry)

    # --- metadata indexes ----------------------------------------------------------------------

    @deleted_meanwhile
    def create_metadata_index(self, name: str, property_name: str, index_type: str) -> Mutation:
        with self._lock:
            state = self._find(name)
            property_name, index_type = validation.metadata_index_spec(property_name, index_type)
            existing: dict[str, str | None] = {prop: kind for prop, kind, _ in
                                               self.store.metadata_indexes(state.row.id)}
            existing.update(queued_metadata_indexes(self.store, state.row.id))
            if property_name in existing and existing[property_name] != index_type:
                raise errors.InvalidMetadataIndex(
                    f'property "{property_name}" already has a metadata index of type '
                    f"{existing[property_name]}; delete it before creating one of type {index_type}")
            live = [prop for prop, kind in existing.items() if kind is not None]
            if property_name not in live and len(live) >= self.limits.max_metadata_indexes:
                raise errors.TooManyMetadataIndexes(
                    f"too many metadata indexes; max is {self.limits.max_metadata_indexes} per index, "
                    f"and \"{name}\" has {len(live)}")
            return self._mutate(state, MetadataIndexCreate(property_name, index_type))

    @read_meanwhile
    def list_metadata_indexes(self, name: str) -> list[MetadataIndex]:
        with self._lock:
            state = self._find(name)
            return [MetadataIndex(prop, kind) for prop, kind, _ in self.store.metadata_indexes(state.row.id)]

    @deleted_meanwhile
    def delete_metadata_index(self, name: str, property_name: str) -> Mutation:
        with self._lock:
            state = self._find(name)
            existing = {prop for prop, _, _ in self.store.metadata_indexes(state.row.id)}
            queued = queued_metadata_indexes(self.store, state.row.id)
            existing.update(prop for prop, kind in queued.items() if kind is not None)
            if property_name not in existing:
                raise errors.MetadataIndexNotFound(
                    f'no metadata index for property "{property_name}" in index "{name}"')
            return self._mutate(state, MetadataIndexDelete(property_name))

    # --- for the client's tools ----------------------------------------------------------------

    @read_meanwhile
    def filter_ids(self, name: str, ids: Sequence[str], filter: dict[str, Any] | None = None,
                   namespace: str | None = None) -> list[bool]:
        """For each id, whether a query with this filter and namespace could return it (False for unknown
        ids): exactly the engine's own rule, predating vectors included."""
        with self._lock:
            resident = self._resident(self._find(name))
            rows = resident.candidates(validation.namespace(namespace, self.limits), parse_filter(filter, self.limits))
            allowed = None if rows is None else set(rows.tolist())
            return [vid in resident.slots and (allowed is None or resident.slots[vid] in allowed) for vid in ids]

    @read_meanwhile
    def filter_misses(self, name: str, filter: dict[str, Any]) -> list[FilterMiss]:
        """What a filter silently leaves out: clauses on properties without a metadata index, values of
        another type, and the vectors written before a metadata index (counted once per applied write)."""
        flt = parse_filter(filter, self.limits)
        with self._lock:
            state = self._find(name)
            return state.misses(flt, self._resident(state))

    @read_meanwhile
    def explain_filter(self, name: str, filter: dict[str, Any]) -> FilterCounts:
        """Counts behind a filter: per clause, the vectors that predate its metadata index (None when the
        property has none) and the vectors the clause matches; and the vectors the whole filter matches."""
        with self._lock:
            return self._resident(self._find(name)).filter_counts(parse_filter(filter, self.limits))

    @read_meanwhile
    def mutation_log(self, name: str) -> list[dict[str, Any]]:
        """Every mutation of an index, oldest first: id, kind, count and its timestamps."""
        with self._lock:
            state = self._find(name)
            return [log_entry(m) for m in self.store.mutation_log(state.row.id)]
