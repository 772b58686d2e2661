"""What an answer to a query leaves unsaid, told once as a `VectorizeWarning`: query vectors of zeros under
cosine, an index that holds nothing (or not yet: a write not applied), and a namespace that holds nothing.
Vectorize answers each of these with matches in id order or none at all, and no word. And what a query's
error leaves unsaid, added to its message: the write not applied yet of a missing id, the index deleted and
made again since the `Index` was."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .contract import errors
from .contract.backend import Backend
from .contract.models import IndexDescription, Match, QueryOptions
from .mutation_log import MutationLog, writes_pending

__all__ = ["zero_queries", "nothing_found", "missing_id", "remade"]

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


def nothing_found(backend: Backend, log: MutationLog, name: str, answers: Sequence[list[Match]],
                  options: QueryOptions) -> None:
    """Warn that no query matched anything because nothing was ever stored (the query cell run before the write
    cell), or nothing yet (this client's upsert or insert not applied: the query run right after the write), or
    nothing in the namespace asked for (a misspelt name; namespaces are case-sensitive). An empty answer with
    a filter is not that, and costs no look at `info`; nor one once said. A look that fails costs only the
    warning; a pending delete or metadata index leaves the empty index unexplained."""
    cause = (name, "nothing stored" if options.namespace is None else f"namespace {options.namespace}")
    if options.filter or any(answers) or errors.warned(backend, cause):
        return
    try:
        info = backend.index_info(name)
    except errors.VectorizeError:  # the query was answered; only the warning is lost
        return
    stored, processed, namespace = info.vector_count, info.processed_up_to_mutation, options.namespace
    if stored and namespace is None:
        return
    where = "holds no vectors" if not stored else f"has no vector in the namespace {namespace!r}"
    if log.adds_pending(name, processed):
        errors.warn_once(backend, (name, "write pending"), _pending(log, name, processed, where))
    elif stored:
        errors.warn_once(backend, cause,
                         f"index {name!r} {where}, so no query there matches anything (the index holds {stored:,} "
                         "vectors); namespaces are case-sensitive: check the name, or leave namespace out to search "
                         "them all")
    elif not writes_pending(log, name, processed):
        errors.warn_once(backend, (name, "nothing stored"),
                         f"index {name!r} holds no vectors, so no query matches anything: write vectors first "
                         "(upsert or insert, then wait)")


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
    if log.adds_pending(name, processed):
        error.message += (f"; this client's last write to index {name!r} is not applied yet ({_DELAY}): if it holds "
                          "that id, wait for it: index.wait(), or write with wait=True")


def remade(backend: Backend, description: IndexDescription, error: errors.QueryDimensionMismatch) -> None:
    """Add to a dimension mismatch the backend found, after the handle's own check against `description` passed,
    that the index was deleted and made again since (by another client or process); a failed look adds nothing."""
    try:
        now = backend.get_index(description.name)
    except errors.VectorizeError:
        return
    if now.created_on != description.created_on:
        error.message += (f"; index {description.name!r} was deleted and made again since this Index was made (by "
                          f"another client or process), with {now.dimensions} dimensions: "
                          f"client.get_index({description.name!r}) gives the new one")
