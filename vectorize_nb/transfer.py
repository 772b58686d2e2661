"""IndexCopier: an index copied to another target, the step from the laptop to Cloudflare. `Index` builds on it.

    cloud = vz.connect("cloudflare")
    copied = films.copy_to(cloud)                      # same name, config, metadata indexes and vectors

The target index is made by the target client's `create_index` (its `exist_ok` rules), its metadata
indexes are created and applied before any vector is written (a vector written before a metadata index
is never in it), and the vectors are one export of the source written by the target index's own
`write`: batches, pipelining, `WriteResult` and `WriteIncomplete` as for any upsert.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from .contract import errors, validation
from .contract.backend import Backend
from .contract.base_error import quoted
from .contract.embedding_models import get_model
from .contract.limits import Limits
from .contract.metadata_json import check_sizes
from .contract.models import (CheckedVectors, IndexDescription, IndexExport, IndexInfo, MetadataIndex, Mutation,
                              Vectors, WriteKind)
from .embedder import Embedder
from .environment import is_target
from .mutation_log import MutationLog, wait_until_applied
from .reader import IndexReader
from .secret import quotable
from .writes import WriteIncomplete, WriteOptions, WriteResult

__all__ = ["IndexCopier", "CopyTarget", "CopiedIndex"]

_ELSEWHERE = "pick another name=, or delete it first"
"""What a copy refused an index of another configuration can do: it takes the source's configuration."""


class CopiedIndex(Protocol):
    """What a copy writes through: an `Index` of the target client."""

    embedder: Embedder

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> IndexDescription: ...

    def create_metadata_index(self, property_name: str, index_type: str) -> Mutation: ...

    def write(self, kind: WriteKind, vectors: Any, options: WriteOptions | None = None) -> WriteResult: ...

    def wait(self, mutation: Mutation | str | WriteResult | None = None, *, timeout: float = 60.0,
             interval: float = 0.25) -> IndexInfo: ...


IndexT = TypeVar("IndexT", bound=CopiedIndex, covariant=True)


class CopyTarget(Protocol[IndexT]):
    """Where a copy goes: a `Client` (`vz.connect(...)`)."""

    target: str

    @property
    def backend(self) -> Backend: ...

    def create_index(self, name: str, dimensions: int | None = None, metric: str | None = None, *,
                     preset: str | None = None, description: str | None = "", exist_ok: bool = False) -> IndexT: ...


class IndexCopier(IndexReader):
    """`copy_to`: what `Index` adds to reading for copying an index to another target."""

    embedder: Embedder
    log: MutationLog

    def copy_to(self, target: CopyTarget[IndexT], name: str | None = None, *, exist_ok: bool = False,
                batch_size: int | None = None, wait: bool = False, progress: bool | None = None) -> IndexT:
        """Copy this index to another target (or under another name): its configuration, metadata
        indexes and every vector (ids, float32 values bit for bit, metadata, namespaces).

        This client's writes to this index are waited for (applied), so that the copy holds them. The
        metadata indexes are created, and applied, before any vector is written: Vectorize leaves
        a vector written before a metadata index out of it. The vectors are one export of this index,
        upserted in batches by the target's own write; which model embedded the texts this client
        wrote here goes with them, so text queries of the copy get the same warnings.

        Parameters
        ----------
        target : Client
            Where to copy: a client (`vz.connect("cloudflare")`, a URL, "memory", `path=`), or this one.
        name : str, optional
            The copy's name (by default this index's).
        exist_ok : bool, default False
            Copy into an index of that name that exists already, when its dimensions and metric are
            these (its missing metadata indexes are created first); vectors of the same ids are replaced.
            Running a copy that stopped half-way again this way completes it.
        batch_size, wait, progress
            As for `upsert`.

        Returns
        -------
        Index
            The copy, on `target`.

        Raises
        ------
        InvalidRequest
            The copy would be this index itself (the same target and name); nothing is done.
        InvalidIndexName
            `name` breaks the rules of index names (an engine target says so before reading this index).
        DuplicateIndexName
            An index of that name exists on the target (without `exist_ok`, or with other dimensions or
            metric); nothing is written.
        InvalidMetadataIndex
            The target index has a metadata index of another type on a property this one indexes.
        TooManyMetadataIndexes
            The target index would have more metadata indexes than its limit; none is made there.
        MetadataTooLarge, IdTooLong, NamespaceTooLong
            A vector breaks the target's limits (a client made with other `limits=`); nothing is made there.
        WaitTimeout
            This client's writes to this index were not applied within 60 s (nothing is made on the target), or
            the target did not apply the copy's metadata indexes within 60 s (no vector is written there).
        WriteIncomplete
            A batch failed: the message says how many vectors were copied, and `copy_to(...,
            exist_ok=True)` again (or `.result.retry()`) copies the rest.

        Examples
        --------
        >>> films.copy_to(vz.connect("memory"), name="films-copy", wait=True)
        Index('films-copy', dimensions=32, metric='cosine', target='memory')
        >>> copied = films.copy_to(vz.connect("cloudflare"), wait=True)  # your account  # doctest: +SKIP
        """
        name = self.name if name is None else name
        self._not_itself(target, name)
        return self._copy(target, name, exist_ok, WriteOptions(batch_size, wait, progress))

    def _own_writes_applied(self) -> None:
        """Wait until this client's writes to the index are applied, so that what is read next holds them. Where
        another writer's mutation is the last applied and the backend cannot tell of this client's (REST), no wait
        could: say so and go on."""
        if not (pending := [m for m in self.log.latest(self.name) if m]):
            return
        processed = self.backend.index_info(self.name).processed_up_to_mutation
        if processed is not None and processed not in pending and self.log.find(self.name, processed) is None \
                and all(self.backend.mutation_state(self.name, m) is None for m in pending):
            errors.warn_once(self.backend, (self.name, "unsure", processed),
                             f"another writer's mutation ({processed}) is the last index {self.name!r} applied, so "
                             "this client cannot tell whether its own writes there are applied (Vectorize reports "
                             "only the last one): what is read now may not hold them")
            return
        wait_until_applied(self.backend, self.name, self.log, pending)

    def _copy(self, target: CopyTarget[IndexT], name: str, exist_ok: bool, options: WriteOptions) -> IndexT:
        self._taken(target, name, exist_ok)  # before the source is read, which may take long
        with self._during("copy_to"):
            self._own_writes_applied()  # this client's writes are in the copy
            export = self.backend.export(self.name, metadata_json=True)
            indexes = self.backend.list_metadata_indexes(self.name)
        vectors = self._checked(export, target.backend.limits)  # refused before anything is made there
        with errors.during(f"copy_to from index {self.name!r}", nothing_written=True):
            self._room(name, target, 0, indexes)
        copied = self._created(target, name, exist_ok)
        self._embedded(copied, target)
        self._metadata_indexes(copied, indexes, target)
        try:
            copied.write("upsert", vectors, options)
        except WriteIncomplete as incomplete:
            cause = incomplete.__cause__
            again = "Running" if getattr(cause, "retryable", False) else "Once the cause is fixed, running"
            incomplete.message = (f"copy of {self.name!r} to {name!r} on {target.target} stopped: "
                                  f"{incomplete.result.written} of {len(export)} vectors copied. {again} "
                                  f"copy_to(..., exist_ok=True) again copies them all (vectors already copied are "
                                  f"written again, unchanged); {incomplete.message}")
            raise
        return copied

    def _not_itself(self, target: CopyTarget[Any], name: str) -> None:
        """Refuse a copy onto this very index: the same backend (or the same folder or server) and name; and a
        target that is not a client (a target's name, as `vz.connect` takes it)."""
        if not hasattr(target, "create_index"):
            how = "'cloudflare' or a server's URL" if not isinstance(target, str) else \
                repr(quotable(target)) if is_target(target) else f"path={quotable(target)!r}"
            raise TypeError(f"copy_to takes a client, vz.connect({how}), got {quotable(target)!r:.80}")
        theirs, mine = target.backend.folder, self.backend.folder
        same = (target.backend is self.backend or (target.target == self.target and self.target != "memory")
                or (theirs is not None and mine is not None and theirs.resolve() == mine.resolve()))
        if same and name == self.name:
            raise errors.InvalidRequest(f"copy_to would copy index {self.name!r} onto itself: pass name= for a copy "
                                        "beside it, or another client as the target", operation="copy_to")

    def _created(self, target: CopyTarget[IndexT], name: str, exist_ok: bool) -> IndexT:
        """The target index, made with this index's configuration (from its preset, when it has one); with
        `exist_ok`, the index of that name when its dimensions and metric are these."""
        config, description = self.description.config, self.description.description
        try:
            try:
                if config.preset is not None:
                    return target.create_index(name, preset=config.preset, description=description)
                return target.create_index(name, config.dimensions, config.metric, description=description)
            except errors.DuplicateIndexName:
                if not exist_ok:
                    raise
            return target.create_index(name, config.dimensions, config.metric, exist_ok=True)
        except errors.DuplicateIndexName as exc:
            raise _taken_hint(exc, exist_ok) from None

    def _taken(self, target: CopyTarget[Any], name: str, exist_ok: bool) -> None:
        """Refuse an index of that name on the target that the copy could not write into, or a name it would refuse,
        as `_created` would."""
        if target.backend.embedded_engine:
            with errors.during(f"copy_to from index {self.name!r}", nothing_written=True):
                validation.index_name(name, target.backend.limits)
        try:
            there = target.backend.get_index(name)
        except errors.IndexNotFound:  # deleted too
            return
        taken = errors.DuplicateIndexName(f'vectorize.index.duplicate_name - Index name "{name}"')
        differences = [(field, have, want) for field, have, want in (
            ("dimensions", there.dimensions, self.dimensions), ("metric", there.metric, self.metric)) if have != want]
        if exist_ok and differences:
            taken.configured_otherwise(differences, _ELSEWHERE)
        elif exist_ok:
            return
        with errors.during(f"copy_to from index {self.name!r}", nothing_written=True):
            raise _taken_hint(taken, exist_ok)

    def _metadata_indexes(self, copied: CopiedIndex, indexes: list[MetadataIndex], target: CopyTarget[Any]) -> None:
        """Create the metadata indexes the copy lacks, and wait until they are applied: mutations apply in
        order, but whether a write queued behind a metadata index's creation is in it is not documented, and
        a vector left out of it is silently never matched by a filter."""
        with errors.during(f"copy_to on index {copied.name!r}", nothing_written=True):
            existing = {m.property_name: m.index_type for m in target.backend.list_metadata_indexes(copied.name)}
            for index in indexes:
                if existing.get(index.property_name, index.index_type) != index.index_type:
                    raise errors.InvalidMetadataIndex(
                        f"index {copied.name!r} on {target.target} indexes {quoted(index.property_name)} as "
                        f"{existing[index.property_name]}, but {self.name!r} as {index.index_type}; delete that "
                        "metadata index there, or copy under another name")
            missing = [m for m in indexes if m.property_name not in existing]
            self._room(copied.name, target, len(existing), missing)
        for index in missing:
            copied.create_metadata_index(index.property_name, index.index_type)
        if missing:
            try:
                copied.wait()
            except errors.WaitTimeout as exc:
                exc.message = (f"the copy's metadata indexes on index {copied.name!r} on {target.target} were not "
                               f"applied in time, so no vector was written there; {exc.message}")
                exc.hint = "Run copy_to(..., exist_ok=True) again once the target has applied them"
                raise

    def _room(self, name: str, target: CopyTarget[Any], existing: int, missing: list[MetadataIndex]) -> None:
        """Refuse `missing` metadata indexes past the target's most per index, `existing` being there already."""
        if existing + len(missing) <= (most := target.backend.limits.max_metadata_indexes):
            return
        names = ", ".join(quoted(m.property_name) for m in missing)
        needs = (f"index {name!r} on {target.target} has {existing} metadata indexes and the copy needs "
                 f"{len(missing)} more ({names})" if existing else
                 f"the copy of {self.name!r} on {target.target} needs {len(missing)} metadata indexes ({names})")
        raise errors.TooManyMetadataIndexes(f"{needs}; max is {most} per index")

    def _embedded(self, copied: CopiedIndex, target: CopyTarget[Any]) -> None:
        """Tell the target client which model and pooling embedded the texts this client wrote here; warn when
        that model cannot run there. Texts written there otherwise refuse the copy: their vectors do not compare."""
        written = self.embedder.written(self.description)
        if written is None:
            return
        model, pooling = written
        there = copied.embedder.written(copied.description)
        if there is not None and there != written:
            with errors.during(f"copy_to from index {self.name!r}", nothing_written=True):
                raise errors.InvalidRequest(
                    f"index {copied.name!r} on {target.target} holds texts embedded with {there[0]} and {there[1]} "
                    f"pooling, and {self.name!r} texts embedded with {model} and {pooling} pooling, whose vectors do "
                    "not compare with theirs: copy under another name=")
        spec = get_model(model)
        copied.embedder.wrote(copied.description, model, None if pooling == spec.pooling else pooling)  # as asked
        if spec.runtime is None and target.backend.embedding_source == "local":
            errors.warn_once(target.backend, (copied.name, "model cannot run", model),
                             f"the texts of index {self.name!r} were embedded with {model}, which runs on Workers AI "
                             f"only: text queries of the copy on {target.target} raise ModelNotAvailable; embed the "
                             "questions there (Cloudflare) and query the copy with their vectors")

    def _checked(self, export: IndexExport, limits: Limits) -> CheckedVectors:
        """The export as one checked batch for the target's rules, its metadata JSON written as it is."""
        with errors.during(f"copy_to from index {self.name!r}", nothing_written=True):
            assert export.values is not None  # exported with its values
            vectors = Vectors(export.ids, export.values, None, export.namespaces)
            metadata = export.metadata_json or [None] * len(export)
            check_sizes(metadata, export.ids, limits)
            return validation.check_vectors(vectors, "upsert", self.dimensions, limits, metadata_json=metadata)


def _taken_hint(refused: errors.DuplicateIndexName, exist_ok: bool) -> errors.DuplicateIndexName:
    """A target index of the copy's name, refused with what to do: with `exist_ok`, its configuration is another."""
    refused.hint = (errors.DuplicateIndexName.reopen_hint(_ELSEWHERE)
                    if exist_ok else "Copy into it with copy_to(..., exist_ok=True) (vectors of the same ids are "
                    "replaced; its dimensions and metric must be these), pick another name=, or delete it first")
    refused.nothing_written = True
    return refused
