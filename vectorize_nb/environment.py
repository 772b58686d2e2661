"""The project's environment variables, read where they apply: which target `connect()` opens, the
embedded engine's folder when none is named (`connect()`, `serve()` and `vectorize-nb serve` alike),
and the token of a served engine (required by `vectorize-nb serve`, sent by a client to a server that
is not Cloudflare's). Cloudflare's own variables are the REST backend's (`rest/__init__.py`)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["TARGET_ENV", "PATH_ENV", "DEFAULT_PATH", "SERVE_TOKEN_ENV", "SERVE_PORT", "SERVED_ACCOUNT_ID",
           "ENGINE_TARGETS", "engine_folder", "folder_path", "is_target"]

TARGET_ENV = "VECTORIZE_NB_TARGET"
PATH_ENV = "VECTORIZE_NB_PATH"
DEFAULT_PATH = ".vectorize"
SERVE_TOKEN_ENV = "VECTORIZE_NB_SERVE_TOKEN"
SERVE_PORT = 8787
"""The port a served engine listens on by default (wrangler's own dev port)."""
ENGINE_TARGETS = ("local", "memory")
"""The targets `connect()` opens the embedded engine for: in its folder, or in memory."""
SERVED_ACCOUNT_ID = "local"
"""The account id a served engine gives (any is taken), and a client sends one when none is named."""


def engine_folder(path: str | os.PathLike[str] | None = None) -> Path:
    """The embedded engine's folder: `path` where one is named, else $VECTORIZE_NB_PATH, else ./.vectorize; read
    by `folder_path`."""
    return folder_path(path or os.environ.get(PATH_ENV) or DEFAULT_PATH)


def folder_path(path: str | os.PathLike[str]) -> Path:
    """A folder as named (an argument, the environment, the command line), once and for all: a leading `~` is the
    user's home (as pandas reads file paths; no shell expands it in `--path=~/x` or a .env file), and a relative
    path is taken from the working folder now, so a later `os.chdir` (a notebook's `%cd`) leaves it where it was.
    Symlinks are kept, as named."""
    return Path(path).expanduser().absolute()


def is_target(target: object) -> bool:
    """Whether `connect(target)` reads `target` as a target: the engine's, "cloudflare" or a server's URL (anything
    else it refuses; a folder is `path=`)."""
    return isinstance(target, str) and (target in (*ENGINE_TARGETS, "cloudflare")
                                        or target.lower().startswith(("http://", "https://")))
