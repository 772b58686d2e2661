"""connect() and Client: the account-level API over any backend.

    vz.connect()                                  embedded engine in ./.vectorize (or $VECTORIZE_NB_PATH)
    vz.connect("memory")                          embedded, in memory
    vz.connect("cloudflare")                      CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN
    vz.connect("http://127.0.0.1:8787/client/v4", account_id="local")   any Vectorize-compatible server

With no argument, connect() reads VECTORIZE_NB_TARGET, so one environment variable moves a whole
notebook from the embedded engine to Cloudflare.
"""

from __future__ import annotations

import difflib
import os
import re
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import numpy as np
import pandas as pd

from . import results
from .contract import arguments, errors, validation
from .contract.backend import Backend
from .contract.errors import ConfigurationError
from .contract.limits import DEFAULT_LIMITS, Limits, limits_given
from .contract.models import PRESETS, IndexConfig, IndexDescription
from .contract.embedding_models import get_model, known_model, model_records
from .embedder import Embedder
from .environment import ENGINE_TARGETS, TARGET_ENV, engine_folder, is_target
from .index import Index
from .mutation_log import MutationLog
from .rest_options import REST_DEFAULTS as REST
from .secret import Secret, shown_url

__all__ = ["connect", "Client", "embedding_models", "api_base", "TARGET_ENV", "API_PATH"]

API_PATH = "/client/v4"


def connect(target: str | None = None, *, path: str | os.PathLike[str] | None = None, apply_delay: float = 0.0,
            limits: Limits = DEFAULT_LIMITS, account_id: str | None = None, api_token: str | None = None,
            timeout: float = REST.timeout, concurrency: int = REST.concurrency, max_retries: int = REST.max_retries,
            requests_per_window: int | None = REST.requests_per_window,
            window_seconds: float | None = REST.window_seconds, total_timeout: float = REST.total_timeout) -> Client:
    """Open a client on the embedded engine (the default), in memory, on Cloudflare, or on any Vectorize server.

    Parameters
    ----------
    target : str, optional
        "local" (the embedded engine, kept in a folder), "memory", "cloudflare", or a base URL such as
        "http://127.0.0.1:8787" (completed to ".../client/v4"). By default `$VECTORIZE_NB_TARGET`, else "local".
    path : path, optional
        The embedded engine's folder (default `$VECTORIZE_NB_PATH`, else ./.vectorize).
    apply_delay : float, default 0
        Seconds the embedded engine waits before applying a write, as Vectorize does.
    limits : Limits, optional
        The rules to enforce and to size requests by (Cloudflare's published limits by default).
    account_id, api_token : str, optional
        Cloudflare's account id and API token (default `$CLOUDFLARE_ACCOUNT_ID`, `$CLOUDFLARE_API_TOKEN`);
        the token needs the account permission "Vectorize Edit" ("Vectorize Read" for reading only), and
        "Workers AI Read" to embed text on Workers AI. It never appears in a repr, an error or a log.
    timeout, total_timeout : float, default 30 and 120
        Over REST, the most seconds one attempt of a request may take, and all its attempts with the
        waits between them (both grow by a second per megabyte of request body), however slowly the
        server answers.
    concurrency : int, default 4
        Requests in flight at once over REST.
    max_retries : int, default 5
        Retries of a request that failed on a rate limit, a server error or the network (a connection
        refused: one retry at most, none on this machine, where no wait starts a server).
    requests_per_window, window_seconds : int or None, float or None
        A client-side rate limit: by default Cloudflare's (1200 requests per 300 seconds) there, none elsewhere.

    Raises
    ------
    ConfigurationError
        An unknown target, a URL that is not a server's API root, "cloudflare" without an account id and token
        or with an account id not of 32 hex characters, `window_seconds` alone off Cloudflare, or
        (`FolderUnusable`) an engine folder that is a file, damaged, or in a layout this version does not read.

    Examples
    --------
    >>> client = vz.connect()                      # the embedded engine in ./.vectorize
    >>> client = vz.connect("cloudflare")          # CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN  # doctest: +SKIP
    """
    token, api_token = Secret.of(api_token), None  # only the Secret stays in the locals a traceback may show
    chosen = target if target is not None and target != "" else os.environ.get(TARGET_ENV) or "local"
    if not is_target(chosen):
        raise _unknown(chosen, given=bool(target))
    if chosen in ENGINE_TARGETS:
        return _embedded(None if chosen == "memory" else engine_folder(path), limits, apply_delay)
    from .rest import connect_rest

    url = chosen if chosen == "cloudflare" else api_base(chosen)
    backend, label = connect_rest(url, account_id=account_id, api_token=token, timeout=timeout,
                                  concurrency=concurrency, max_retries=max_retries,
                                  requests_per_window=requests_per_window, window_seconds=window_seconds,
                                  limits=limits, total_timeout=total_timeout)
    return Client(backend, label)


def _unknown(target: Any, given: bool) -> ConfigurationError:
    if not isinstance(target, str):  # a Path: a folder given where the target goes
        folder = f"; for an engine folder, vz.connect(path={str(target)!r})" if isinstance(target, os.PathLike) else ""
        return ConfigurationError(f"connect's first argument is a target ('local', 'memory', 'cloudflare' or a "
                                  f"server's URL), got {type(target).__name__} {str(target)[:80]!r}{folder}")
    return ConfigurationError(
        f"unknown target {shown_url(target)!r}: use 'local', 'memory', 'cloudflare' or a server's URL with its "
        f"scheme, such as {_server_url(target)!r} (/client/v4 is added){_folder_hint(target)} (given "
        f"{'as an argument' if given else 'in ' + TARGET_ENV})")


def _folder_hint(target: str) -> str:
    """How to open `target` as the engine's folder, where it reads as a path rather than a server or a word."""
    looks_like_path = ("/" in target or os.sep in target or target.startswith((".", "~"))) and ":" not in target
    return f"; for an engine folder, vz.connect(path={target!r})" if looks_like_path or Path(target).is_dir() else ""


def _server_url(target: str) -> str:
    """The URL a target such as "localhost:8787" (a host and a port, no scheme) most likely meant."""
    return f"http://{target}" if re.fullmatch(r"[\w.-]+:\d+", target) else "http://127.0.0.1:8787"


def _embedded(folder: Path | None, limits: Limits, apply_delay: float) -> Client:
    from .local import LocalEngine

    engine = LocalEngine(folder, limits=limits_given(limits), apply_delay=apply_delay)
    return Client(engine, "memory" if folder is None else f"local:{folder}")


def _port_fits(parts: SplitResult) -> bool:
    """Whether the URL's port, if any, is one a connection can be made to."""
    try:
        return parts.port != 0
    except ValueError:  # not a number, or past 65535
        return False


def api_base(url: str) -> str:
    """A server's API base URL, which ends in /client/v4 (Cloudflare's form): a bare host
    ("http://127.0.0.1:8787") is completed; any other path is refused, naming the form expected."""
    parts = urlsplit(url)
    queried = bool(parts.query or parts.fragment or url.rstrip().endswith(("?", "#")))
    shown = shown_url(url)
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"the base URL {shown!r} holds a user name or password: it would show in reprs, errors "
            f"and logs; give the server's URL without it, and the API token as api_token=")
    if queried:
        raise ConfigurationError(
            f"the base URL {shown!r} holds a query or a fragment: every request would carry it, and a "
            f"secret in it would show in reprs, errors and logs; give the server's API root alone, and the API "
            f"token as api_token=")
    if not _port_fits(parts):
        raise ConfigurationError(f"the base URL {shown!r} has the port {parts.netloc.rpartition(':')[2]!r}: a port "
                                 "is a whole number from 1 to 65535")
    path = parts.path.rstrip("/")
    if path.endswith(API_PATH):
        return urlunsplit(parts._replace(path=path))
    if path == "":
        return urlunsplit(parts._replace(path=API_PATH))
    raise ConfigurationError(
        f"the base URL {url!r} does not end in {API_PATH}: give the server's API root, e.g. "
        f"{urlunsplit(parts._replace(path=API_PATH, query='', fragment=''))!r} (Cloudflare's is "
        f"https://api.cloudflare.com{API_PATH}; `vectorize-nb serve` prints its own)")


class Client:
    """Account-level operations over one backend: create, open, list and delete indexes.

    Get one from `connect()`. `Client(backend, target)` wraps a backend you built yourself.

    Over REST any call (here or on an `Index`) may also raise `AuthenticationError` (a token refused),
    `RateLimited`, `ServerError` or `TransportError` (once the retries are spent); after `close()`, every
    call raises `ClientClosed`.

    Parameters
    ----------
    backend : Backend
        The embedded engine (`LocalEngine`) or a `RestBackend`.
    target : str
        A label of where the data lives, shown in reprs and results; it must hold no secret.
    """

    def __init__(self, backend: Backend, target: str) -> None:
        self.backend = backend
        self.target = target
        self.log = MutationLog()
        """The mutations this client issued, per index (what `Index.wait()` waits for)."""
        self.embedder = Embedder(backend, target=target)
        """Turns texts into vectors for this client (`embed`), with its cache."""
        self._handles: weakref.WeakSet[Index] = weakref.WeakSet()  # retired when their index is deleted

    def __repr__(self) -> str:
        return f"Client(target={self.target!r})"

    def close(self) -> None:
        """Close the backend (the engine writes its warm-start files; REST closes its connections). Closing
        again does nothing; any later call on the client or its indexes raises `errors.ClientClosed`."""
        self.embedder.close()
        self.backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def limits(self) -> Limits:
        """The rules the backend enforces (Cloudflare's published limits by default)."""
        return self.backend.limits

    def _index(self, description: IndexDescription) -> Index:
        index = Index(self.backend, description, target=self.target, log=self.log, embedder=self.embedder)
        self._handles.add(index)
        return index

    def create_index(self, name: str, dimensions: int | None = None, metric: str | None = None, *,
                     preset: str | None = None, description: str | None = "", exist_ok: bool = False) -> Index:
        """Create an index and return it (or, with `exist_ok`, the index of that name if it has this
        configuration).

        Parameters
        ----------
        name : str
            Lower-case letters, digits, "-" and "_", starting with a letter and ending with a letter or a
            digit (so at least 2 characters); at most 64 bytes.
        dimensions : int, optional
            The width of its vectors (32 to 1536).
        metric : {"cosine", "euclidean", "dot-product"}, optional
            How vectors are compared; cosine when `dimensions` is given without one.
        preset : str, optional
            Instead of dimensions and metric: the name of an embedding model Vectorize has a preset for, e.g.
            "@cf/baai/bge-small-en-v1.5"; an index for another model takes its dimensions and metric.
        description : str, optional
            Free text kept with the index (None: none, as "").
        exist_ok : bool, default False
            Return the existing index of that name when its dimensions, metric (and preset and
            description, when given) are these; a notebook can then run twice.

        Raises
        ------
        DuplicateIndexName
            An index of that name exists (3002); with `exist_ok`, one with another configuration (the
            message names the difference).
        InvalidIndexConfig
            Neither dimensions nor a known preset, dimensions out of range, or an unknown metric.
        InvalidIndexName
            A name that breaks the rule above.
        MalformedRequest
            An argument of the wrong type (e.g. dimensions="32").
        """
        with errors.during(f"create_index {name!r}"):
            name, dimensions, metric, preset, description = _create_arguments(name, dimensions, metric, preset,
                                                                              description, self.limits)
            exist_ok = arguments.flag("exist_ok", exist_ok)
            try:
                created = self.backend.create_index(name, dimensions=dimensions, metric=metric, preset=preset,
                                                    description=description)
            except errors.InvalidIndexConfig as exc:
                exc.message += _model_not_preset(name, preset) + self._fewer_dimensions(dimensions)
                raise
            except errors.DuplicateIndexName as exc:
                if not exist_ok:
                    raise
                created = self.backend.get_index(name)
                _same_config(exc, created, validation.index_config(dimensions, metric, preset, self.limits),
                             description)
        return self._index(created)

    def _fewer_dimensions(self, dimensions: Any) -> str:
        """How the embedded engine takes fewer dimensions than Vectorize, to teach with small vectors."""
        if (self.target.split(":")[0] not in ENGINE_TARGETS or not isinstance(dimensions, int)
                or not 0 < dimensions < self.limits.min_dimensions):
            return ""
        return (f"; on the embedded engine, vz.connect(..., limits=vz.Limits(min_dimensions={dimensions})) allows "
                "it, to teach with small vectors (Vectorize does not)")

    def embed(self, texts: str | Iterable[str], model: str, pooling: str | None = None, *, cache: bool = True,
              locally: bool = False, progress: bool | None = None) -> np.ndarray:
        """Text to vectors: one float32 row of unit length per text, in order.

        Parameters
        ----------
        texts : str or sequence of str
            The texts (a single str is one text). Each must be a non-empty str; an error names the row.
        model : str
            A model of `vz.embedding_models()`. A Workers AI model ("@cf/baai/bge-small-en-v1.5") runs on
            Workers AI when this client targets Cloudflare, and on this machine from the same open weights
            when it targets the embedded engine; a model that only runs here always does.
        pooling : {"mean", "cls"}, optional
            How token vectors become one vector, for the models that offer a choice; by default Workers
            AI's (mean for the bge models).
        cache : bool, default True
            Keep the vectors on disk, keyed by model, pooling and text, so the same texts are never
            embedded twice (`embedder.report` says how many came from the cache).
        locally : bool, default False
            Run a Workers AI model on this machine even when the client targets Cloudflare.
        progress : bool, optional
            A progress bar for jobs of several parts: Workers AI requests, or 512 texts each embedded here
            (by default from 4 parts).

        Returns
        -------
        ndarray of shape (len(texts), dimensions), float32

        Raises
        ------
        BadEmbeddingInput
            A text that is empty (`EmptyText`), not a str (`TextNotString`) or over the model's token limit
            (`TextTooLong`), the message naming its row; or a `pooling` the model lacks (`UnsupportedPooling`).
        UnknownModel
            A model `vz.embedding_models()` does not list.
        ModelNotAvailable
            A model that cannot run here: Workers AI's only, or its weights not cached and not downloadable.

        Examples
        --------
        >>> client.embed(["read a CSV file", "parse JSON"], model="wordllama/l2-supercat-256").shape
        (2, 256)
        """
        with errors.during(f"embed with {model!r}"):
            return self.embedder.embed(texts, model, pooling, cache=cache, locally=locally, progress=progress)

    def get_index(self, name: str) -> Index:
        """The index called `name`.

        Raises
        ------
        IndexNotFound
            No index of that name (3000).
        """
        with errors.during(f"get_index {name!r}"):
            try:
                return self._index(self.backend.get_index(_asked_name(name)))
            except errors.IndexNotFound as exc:
                exc.message += self._what_is_there(name)
                raise

    def _what_is_there(self, name: str) -> str:
        """Beside "no index `name`": the close name it most likely meant (a typo, another case), else the indexes
        this target holds, or that it holds none (a notebook run from another folder opens another engine)."""
        try:
            names = [description.name for description in self.backend.list_indexes()]
        except errors.VectorizeError:  # the listing too failed: the error asked for is the one to raise
            return ""
        close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.75)
        if close:
            return f"; did you mean {close[0]!r}?"
        if names:
            return f"; {self.target} holds {', '.join(map(repr, names[:5]))}{' ...' if len(names) > 5 else ''}"
        another = " (vz.connect(path=...) opens another folder)" if self.backend.folder is not None else ""
        return f"; {self.target} holds no index{another}"

    def list_indexes(self) -> pd.DataFrame:
        """Every index: name, dimensions, metric, description, created_on, modified_on."""
        return results.indexes_frame(self.backend.list_indexes(), {"operation": "list_indexes",
                                                                   "target": self.target})

    def indexes(self) -> list[Index]:
        """Every index, as `Index` handles."""
        return [self._index(description) for description in self.backend.list_indexes()]

    def delete_index(self, name: str) -> None:
        """Delete the index called `name` and every vector in it.

        Raises
        ------
        IndexNotFound
            No index of that name (3000).
        """
        with errors.during(f"delete_index {name!r}"):
            name = _asked_name(name)
            self.log.delete(name, lambda: self.backend.delete_index(name))
        for index in [index for index in self._handles if index.name == name]:
            index._retire()


def _asked_name(name: Any) -> str:
    """The name of an index asked for, refused alike on every target: not a string by its type, "" as no index (over
    REST it would name the route of the listing)."""
    if not arguments.text("name", name):
        raise validation.index_not_found(name)
    return str(name)


def _create_arguments(name: Any, dimensions: Any, metric: Any, preset: Any, description: Any,
                      limits: Limits) -> tuple[str, Any, Any, Any, str]:
    """create_index's arguments checked for their type, and dimensions that are no whole number, as every target
    takes them; cosine when dimensions come without a metric, "" for a description of None."""
    if preset is None and dimensions is not None and metric is None:
        metric = "cosine"
    checked = (arguments.text("name", name), arguments.whole("dimensions", dimensions),
               arguments.text("metric", metric, optional=True), arguments.text("preset", preset, optional=True),
               arguments.text("description", "" if description is None else description))
    if checked[3] in PRESETS:  # refused on every target: Cloudflare is sent the preset alone
        validation.preset_config(checked[3], checked[1], checked[2])
    elif checked[3] is None and checked[1] is not None and not arguments.is_whole(checked[1]):
        validation.index_config(checked[1], checked[2], None, limits)  # NaN would go out as null: refused here
    return checked


def _model_not_preset(name: str, preset: str | None) -> str:
    """How to make an index for a model of the package's that Vectorize has no preset for."""
    if preset is None or preset in PRESETS or not known_model(preset):
        return ""
    dimensions = get_model(preset).dimensions
    return (f"; {preset} is not among Vectorize's presets: create_index({name!r}, dimensions={dimensions}, "
            f"metric='cosine') makes an index for it")


def _same_config(refused: errors.DuplicateIndexName, existing: IndexDescription, wanted: IndexConfig,
                 description: str) -> None:
    """Raise `refused` again, naming the differences, unless the existing index is the one asked for."""
    differences = [(field, have, want) for field, have, want in (
        ("dimensions", existing.dimensions, wanted.dimensions), ("metric", existing.metric, wanted.metric),
        ("preset", existing.config.preset, wanted.preset) if wanted.preset else ("", None, None),
        ("description", existing.description, description) if description else ("", None, None),
    ) if field and have != want]
    if differences:
        theirs = ", ".join(f"{field} {have!r}" for field, have, _ in differences if have is not None)
        raise refused.configured_otherwise(differences, f"ask for the existing one's {theirs}, or delete it with "
                                                        f"client.delete_index({existing.name!r}) to make it anew")


def embedding_models() -> pd.DataFrame:
    """The embedding models the package knows, one row each: model, dimensions, max_texts (per Workers AI
    request), max_tokens (per text), pooling (the default) and poolings (the choices), offline (runs here
    with nothing downloaded), runs (where: "workers-ai", "local" from open weights fetched once, "shipped"
    inside an installed package), weights and download_mb."""
    return pd.DataFrame(model_records())
