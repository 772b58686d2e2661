"""What an answer to a query leaves unsaid, told once as a `VectorizeWarning`: query vectors of zeros under
cosine, an index that holds nothing (or not yet: a write not applied), a namespace that holds nothing, and an
answer (or a read by id, an export) that may predate this client's last write. Vectorize answers each of these
with matches in id order, none at all, or old ones, and no word. What a metadata index leaves unsaid: the vectors
written before it, and that one just made is not applied yet. And what a query's error leaves unsaid, added to
its message: the write not applied yet of a missing id; and what a refused vector's width leaves unsaid: the
index deleted and made again since the `Index` was."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .contract import errors
from .contract.backend import Backend
from .contract.filters import FilterMiss
from .contract.models import IndexDescription, IndexInfo, Match, QueryOptions
from .mutation_log import MutationLog, adds_pending, not_applied, writes_pending
from .write_result import WriteIncomplete

__all__ = ["zero_queries", "answered", "read_back", "written_before", "unapplied_indexes", "missing_id", "remade"]

_DELAY = "Vectorize applies writes a few seconds after acknowledging them"


def zero_queries(backend: Backend, name: str, metric: str, queries: np.ndarray) -> None:
    """Warn that all-zero query vectors (one, or the rows of a matrix) rank nothing under cosine (every score
    is 0, the order is by id)."""
    if metric != "cosine" or queries.size == 0 or queries.ndim > 2:
        return
    if queries.ndim == 1 and np.count_nonzero(queries):  # a single query: one cheap pass, the usual case
        return
    rows = np.atleast_2d(queries)
    zero = np.flatnonzero(~rows.any(axis=1))
    if len(zero) == 0:
        return
    which = "the query vector is" if len(rows) == 1 else f"{len(zero)} of the {len(rows)} query vectors are"
    errors.warn_once(backend, (name, "zero query"),
                     f"{which} all zeros: under cosine a zero vector has no direction, so every score is 0 and "
                     f"the {name!r} matches come in id order, not by similarity")


def answered(backend: Backend, log: MutationLog, name: str, answers: Sequence[list[Match]],
             options: QueryOptions) -> None:
    """Warn of what an answer leaves unsaid: nothing found (`_nothing_found`), or, at the first query after
    each of this client's mutations of the index, that an upsert or insert is not applied yet, so the answer may
    not show it (an updated vector's old metadata, a filter on its new value matching nothing): once a write. At
    most one look at `info`, none once both are said; a look that fails costs only the warning."""
    cause = (name, "nothing stored" if options.namespace is None else f"namespace {options.namespace}")
    empty = not options.filter and not any(answers) and not errors.warned(backend, cause)
    fresh = log.first_look(name)
    if not empty and fresh is None:
        return
    try:
        info = backend.index_info(name)
    except errors.VectorizeError:  # the query was answered; only the warning is lost
        return
    if empty and _nothing_found(backend, log, name, info, options.namespace, cause):
        return
    if fresh is not None:
        _write_pending(backend, log, name, fresh, info.processed_up_to_mutation, "this answer", "querying")


def read_back(backend: Backend, log: MutationLog, name: str) -> None:
    """Warn, at the first read by id or export after each of this client's mutations of the index, that an upsert
    or insert is not applied yet, so the frame may not show it (a vector missing, its old values or metadata): once
    a write, reads and queries together. One look at `info`; a look that fails costs only the warning."""
    fresh = log.first_look(name)
    if fresh is None:
        return
    try:
        processed = backend.index_info(name).processed_up_to_mutation
    except errors.VectorizeError:
        return
    _write_pending(backend, log, name, fresh, processed, "this frame", "reading")


def _write_pending(backend: Backend, log: MutationLog, name: str, fresh: str, processed: str | None, what: str,
                   doing: str) -> None:
    if adds_pending(backend, log, name, processed):
        errors.warn_once(backend, (name, "write pending", fresh),
                         f"this client's last upsert or insert to index {name!r} is not applied yet ({_DELAY}), so "
                         f"{what} may not show it: wait for it before {doing}: index.wait(), or write with wait=True")


def _nothing_found(backend: Backend, log: MutationLog, name: str, info: IndexInfo, namespace: str | None,
                   cause: tuple[str, str]) -> bool:
    """Warn, and say so, that no query matched anything because nothing was ever stored (the query cell run
    before the write cell), or nothing yet (this client's upsert or insert not applied: the query run right after
    the write; another kernel's write), or nothing in the namespace asked for (a misspelt name; namespaces are
    case-sensitive). A pending delete or metadata index leaves the empty index unexplained."""
    stored, processed = info.vector_count, info.processed_up_to_mutation
    if stored and namespace is None:
        return False
    where = "holds no vectors" if not stored else f"has no vector in the namespace {namespace!r}"
    if adds_pending(backend, log, name, processed):
        errors.warn_once(backend, (name, "write pending", log.last(name)), _pending(log, name, processed, where))
    elif stored:
        errors.warn_once(backend, cause,
                         f"index {name!r} {where}, so no query there matches anything (the index holds {stored:,} "
                         "vectors); namespaces are case-sensitive: check the name, or leave namespace out to search "
                         "them all")
    elif log.added(name) and writes_pending(backend, log, name, processed) is False and processed is not None \
            and log.find(name, processed) is None:
        errors.warn_once(backend, (name, "nothing stored"),
                         f"index {name!r} holds no vectors: this client's writes to it are applied, and another "
                         "writer's (another kernel or process) came after them, which may have removed the vectors")
    elif not writes_pending(backend, log, name, processed):
        errors.warn_once(backend, (name, "nothing stored"),
                         f"index {name!r} holds no vectors, so no query matches anything: write vectors first "
                         f"(upsert or insert, then wait); a write from another kernel or process is applied a few "
                         "seconds after it was acknowledged: query again then")
    else:
        return False
    return True


def written_before(backend: Backend, log: MutationLog, name: str, property_name: str) -> None:
    """Warn, once a metadata index is made over REST, of the vectors written to the index before it: Vectorize
    leaves them out of it, so no filter on the property matches them, and never says so."""
    try:
        info = backend.index_info(name)
    except errors.VectorizeError:  # the metadata index was made; only the warning is lost
        return
    pending = adds_pending(backend, log, name, info.processed_up_to_mutation)
    if not info.vector_count and not pending:
        return
    held = f"{info.vector_count:,} stored" + (", more not applied yet" if pending else "")
    errors.warn_once(backend, (name, "written before", property_name),
                     f'the vectors written to index {name!r} before its metadata index on "{property_name}" ({held}) '
                     f'are not in it, so no filter on "{property_name}" matches them (as on Vectorize) until they are '
                     "written again: index.wait(), then index.rewrite()")


def unapplied_indexes(backend: Backend, log: MutationLog, name: str, misses: list[FilterMiss], *,
                      recalled: bool = True) -> list[FilterMiss]:
    """`misses`, where a clause's property has no metadata index because the one this client made on it is not
    applied yet, worded so (the usual words would tell the user to make the one just made). One look at `info`
    for a property not said so yet; with `recalled` (a query's misses), one said so is said so again without a look
    (and without a warning: said once), as a REST client's listing of metadata indexes, cached a few seconds, may
    predate its applying."""
    made = {m.property: found for m in misses if m.reason == "no index" and (found := log.creation(name, m.property))}
    said = {prop for prop in made if recalled and errors.warned(backend, (name, prop, "not applied"))}
    processed = None
    if set(made) - said:
        try:
            processed = backend.index_info(name).processed_up_to_mutation
        except errors.VectorizeError:
            return misses
    return [FilterMiss(m.property, "not applied", (
        f'filter on "{m.property}": the metadata index on "{m.property}" this client made on index {name!r} is not '
        f"applied yet ({_DELAY}), so this clause matches nothing yet: index.wait(), then query"))
        if m.property in made and (m.property in said or (processed not in log.since(name, made[m.property].id)
                                                          and not_applied(backend, name, [made[m.property].id])))
        else m for m in misses]


def _pending(log: MutationLog, name: str, processed: str | None, where: str) -> str:
    """Why the answer is empty while this client's write that adds vectors is not known applied."""
    if processed is not None and log.find(name, processed) is None:  # another writer's came last
        return (f"index {name!r} {where}: this client's last write to it may not be applied yet ({_DELAY}), "
                "or another writer removed its vectors since; if the first, query again in a few seconds")
    return (f"index {name!r} {where} yet: this client's last write to it is not applied ({_DELAY}); wait for it "
            "before querying: index.wait(), or write with wait=True")


def missing_id(backend: Backend, log: MutationLog, name: str, error: errors.VectorNotFound) -> None:
    """Add to `query_by_id`'s VectorNotFound that this client's write adding vectors is not applied yet, when so
    (the query run right after the write); a failed look at `info` adds nothing."""
    try:
        processed = backend.index_info(name).processed_up_to_mutation
    except errors.VectorizeError:
        return
    if adds_pending(backend, log, name, processed):
        error.message += (f"; this client's last write to index {name!r} is not applied yet ({_DELAY}): if it holds "
                          "that id, wait for it: index.wait(), or write with wait=True")


class remade:
    """Add to a dimension mismatch raised inside (the handle's own check of a vector's width against
    `description`; with `backends` any the backend raised; the first failure of a write's `WriteIncomplete`) that
    the index was deleted and made again since (by another client or process), with its dimensions now, or raise
    the index's absence instead, where it was deleted. One look at the index, only then; a failed look adds
    nothing. A class, not a `contextmanager`, as `errors.during`: a query enters it."""

    __slots__ = ("backend", "description", "backends")

    def __init__(self, backend: Backend, description: IndexDescription, *, backends: bool = False) -> None:
        self.backend, self.description, self.backends = backend, description, backends

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        mismatch = exc.__cause__ if type(exc) is WriteIncomplete else exc
        if not isinstance(mismatch, (errors.QueryDimensionMismatch, errors.VectorDimensionMismatch)):
            return
        if mismatch is exc and mismatch.width is None and not self.backends:  # a shape refused here: no look
            return
        try:
            now = self.backend.get_index(self.description.name)
        except errors.IndexNotFound as gone:  # deleted (this handle retired, or by another): beside it a width
            if mismatch is exc:               # says nothing; a write's partial result stays told
                if exc.operation is not None:   # what the refusal said of the call, as an outer layer would
                    gone.with_operation(exc.operation)
                gone.nothing_written = exc.nothing_written
                raise gone from None
            return
        except errors.VectorizeError:
            return
        name = self.description.name
        if now.created_on != self.description.created_on:
            mismatch.message += (f"; index {name!r} was deleted and made again since this Index was made (by "
                                 f"another client or process), with {now.dimensions} dimensions: "
                                 f"client.get_index({name!r}) gives the new one")
            if isinstance(exc, WriteIncomplete):  # its message quotes the first failure as it was
                exc.message = WriteIncomplete(exc.result).message
