"""The project's environment variables, read where they apply: which target `connect()` opens, the
embedded engine's folder when none is named (`connect()`, `serve()` and `vectorize-nb serve` alike),
and the token of a served engine (required by `vectorize-nb serve`, sent by a client to a server that
is not Cloudflare's). Cloudflare's own variables are the REST backend's (`rest/__init__.py`)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["TARGET_ENV", "PATH_ENV", "DEFAULT_PATH", "SERVE_TOKEN_ENV", "default_folder"]

TARGET_ENV = "VECTORIZE_NB_TARGET"
PATH_ENV = "VECTORIZE_NB_PATH"
DEFAULT_PATH = ".vectorize"
SERVE_TOKEN_ENV = "VECTORIZE_NB_SERVE_TOKEN"


def default_folder() -> Path:
    return Path(os.environ.get(PATH_ENV) or DEFAULT_PATH)
