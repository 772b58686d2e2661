"""connect() and Client: the account-level API over any backend.

    vz.connect()                                  embedded engine in ./.vectorize (or $VECTORIZE_NB_PATH)
    vz.connect("memory")                          embedded, in memory
    vz.connect("cloudflare")                      CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN
    vz.connect("http://127.0.0.1:8787/client/v4", account_id="local")   any Vectorize-compatible server

With no argument, connect() reads VECTORIZE_NB_TARGET, so one environment variable moves a whole
notebook from the embedded engine to Cloudflare.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
import pandas as pd

from . import tables
from .backend import Backend
from .errors import ConfigurationError, VectorizeError
from .index import Index
from .limits import DEFAULT_LIMITS, Limits

__all__ = ["connect", "Client", "TARGET_ENV", "PATH_ENV", "DEFAULT_PATH"]

TARGET_ENV = "VECTORIZE_NB_TARGET"
PATH_ENV = "VECTORIZE_NB_PATH"
DEFAULT_PATH = ".vectorize"
_REMEMBERED_MUTATIONS = 10_000


def connect(target: str | None = None, *, path: str | os.PathLike[str] | None = None, apply_delay: float = 0.0,
            limits: Limits = DEFAULT_LIMITS, account_id: str | None = None, api_token: str | None = None,
            timeout: float = 30.0, concurrency: int = 4, max_retries: int = 5,
            requests_per_window: int = 1200, window_seconds: float = 300.0, total_timeout: float = 120.0) -> Client:
    """Open a client on the embedded engine (default), in memory, on Cloudflare, or on a URL.

    `path`, `apply_delay` and `limits` configure the embedded engine; `account_id`, `api_token`,
    `timeout`, `total_timeout`, `concurrency`, `max_retries` and the rate limit configure the REST
    backend. `timeout` is the most seconds one attempt of a request may take, `total_timeout` the
    most all its attempts and the waits between them may take (both grow by a second per megabyte
    of request body), however slowly the server answers.
    """
    chosen = target or os.environ.get(TARGET_ENV) or "local"
    if chosen in ("local", "memory"):
        from .local import LocalEngine

        folder = None if chosen == "memory" else Path(path or os.environ.get(PATH_ENV) or DEFAULT_PATH)
        engine = LocalEngine(folder, limits=limits, apply_delay=apply_delay)
        return Client(engine, "memory" if folder is None else f"local:{folder}")
    if chosen == "cloudflare" or chosen.startswith(("http://", "https://")):
        from .rest import connect_rest

        backend, label = connect_rest(chosen, account_id=account_id, api_token=api_token, timeout=timeout,
                                      concurrency=concurrency, max_retries=max_retries,
                                      requests_per_window=requests_per_window, window_seconds=window_seconds,
                                      limits=limits, total_timeout=total_timeout)
        return Client(backend, label)
    raise ConfigurationError(
        f"unknown target {chosen!r}: use 'local', 'memory', 'cloudflare' or an http(s) base URL ending in "
        f"/client/v4 (given {'as an argument' if target else 'in ' + TARGET_ENV})")


class Client:
    """Account-level operations, and the mutations this client has issued (for `Index.wait`)."""

    def __init__(self, backend: Backend, target: str) -> None:
        self.backend = backend
        self.target = target
        self._mutations: dict[str, deque[str]] = {}

    def __repr__(self) -> str:
        return f"Client(target={self.target!r})"

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def limits(self) -> Limits:
        return self.backend.limits

    def create_index(self, name: str, dimensions: int | None = None, metric: str | None = None, *,
                     preset: str | None = None, description: str = "") -> Index:
        """Create an index from dimensions and a metric (cosine when not given) or from a preset."""
        if preset is None and dimensions is not None and metric is None:
            metric = "cosine"
        try:
            created = self.backend.create_index(name, dimensions=dimensions, metric=metric, preset=preset,
                                                description=description)
        except VectorizeError as exc:
            raise exc.with_operation(f"create_index {name!r}") from None
        return Index(self, created)

    def get_index(self, name: str) -> Index:
        try:
            return Index(self, self.backend.get_index(name))
        except VectorizeError as exc:
            raise exc.with_operation(f"get_index {name!r}") from None

    def list_indexes(self) -> pd.DataFrame:
        """Every index: name, dimensions, metric, description, created_on, modified_on."""
        return tables.indexes_frame(self.backend.list_indexes(), {"operation": "list_indexes", "target": self.target})

    def indexes(self) -> list[Index]:
        return [Index(self, description) for description in self.backend.list_indexes()]

    def delete_index(self, name: str) -> None:
        try:
            self.backend.delete_index(name)
        except VectorizeError as exc:
            raise exc.with_operation(f"delete_index {name!r}") from None
        self._mutations.pop(name, None)

    # --- mutations this client issued ----------------------------------------------------------

    def record_mutation(self, index: str, mutation_id: str) -> None:
        self._mutations.setdefault(index, deque(maxlen=_REMEMBERED_MUTATIONS)).append(mutation_id)

    def last_mutation(self, index: str) -> str | None:
        issued = self._mutations.get(index)
        return issued[-1] if issued else None

    def mutations_after(self, index: str, mutation_id: str) -> set[str]:
        """`mutation_id` and every mutation this client issued on the index after it.

        Mutations apply in order, so once the index reports any of these as processed, `mutation_id` is.
        """
        issued = list(self._mutations.get(index, ()))
        if mutation_id not in issued:
            return {mutation_id}
        return set(issued[issued.index(mutation_id):])

