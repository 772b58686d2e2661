"""The optional dependencies of the views, imported when a function first needs them."""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from types import ModuleType

__all__ = ["require", "available", "INSTALL"]

INSTALL = {
    "viz": "pip install 'vectorize-nb[viz]'",
    "umap": "pip install 'vectorize-nb[umap]'",
    "export": "pip install 'vectorize-nb[export]'",
}
"""Extra -> the command that installs it."""

_EXTRA_OF = {"plotly": "viz", "umap": "umap", "kaleido": "export"}


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` (e.g. "plotly.graph_objects"), or raise an ImportError that says how to install it."""
    top = module.split(".")[0]
    try:
        with warnings.catch_warnings():
            # umap warns at import that its optional ParametricUMAP lacks TensorFlow; we never use it
            warnings.simplefilter("ignore", ImportWarning)
            return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRA_OF.get(top)
        command = INSTALL[extra] if extra else f"pip install {top}"
        raise ImportError(f"{purpose} needs {top}, which is not installed: {command}") from exc


def available(module: str) -> bool:
    """Whether `module` could be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules
        return False
