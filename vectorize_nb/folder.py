"""Where the embedded engine keeps its data when no folder is named: `$VECTORIZE_NB_PATH`, else
./.vectorize. `connect()`, `serve()` and `vectorize-nb serve` all start from here."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PATH_ENV", "DEFAULT_PATH", "default_folder"]

PATH_ENV = "VECTORIZE_NB_PATH"
DEFAULT_PATH = ".vectorize"


def default_folder() -> Path:
    return Path(os.environ.get(PATH_ENV) or DEFAULT_PATH)
