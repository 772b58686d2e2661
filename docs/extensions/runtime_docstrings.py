"""A griffe extension for the API reference: docstrings that vectorize-nb completes when it is imported.

Functions that share parameter descriptions (the write options of `Index.upsert`, `df.vectorize.upsert`
and others) hold a `{placeholder}` line that `vectorize_nb.docstrings.fill_docstring` replaces at import
time. Reading the source alone, griffe would see the placeholder; this reads the imported docstring.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_PLACEHOLDER = re.compile(r"^ *\{\w+\}$", re.M)


class RuntimeDocstrings(griffe.Extension):
    """Replace a docstring holding a `{placeholder}` line by the imported object's own."""

    def on_function_instance(self, *, node: Any, func: griffe.Function, agent: Any, **kwargs: Any) -> None:
        if func.docstring is None or not _PLACEHOLDER.search(func.docstring.value):
            return
        found: Any = importlib.import_module(func.module.path)
        for part in func.path[len(func.module.path) + 1:].split("."):
            found = getattr(found, part)
        func.docstring.value = inspect.cleandoc(found.__doc__)
