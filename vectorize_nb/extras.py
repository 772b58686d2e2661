"""The optional dependencies, imported when a function first needs them, and how to install each.

    plotly = require("plotly.graph_objects", "drawing figures")
    # ImportError: drawing figures needs plotly, which is not installed: pip install 'vectorize-nb[viz]'
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from types import ModuleType

__all__ = ["require", "available", "install_command", "EXTRAS"]

EXTRAS = {
    "plotly": "viz", "umap": "umap", "kaleido": "export", "ipywidgets": "widgets", "anywidget": "widgets",
    "waitress": "server", "werkzeug": "server", "sklearn": "datasets", "wordllama": "embeddings",
    "huggingface_hub": "embeddings", "onnxruntime": "embeddings", "tokenizers": "embeddings",
}
"""Top-level module -> the extra of vectorize-nb that installs it."""


def install_command(extra: str) -> str:
    """The command that installs an extra, e.g. `pip install 'vectorize-nb[viz]'`."""
    return f"pip install 'vectorize-nb[{extra}]'"


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` (e.g. "plotly.graph_objects"), or raise an ImportError that names `purpose` and
    says how to install what is missing. An installed package whose import fails (a dependency missing,
    or a shared library that cannot be mapped at a memory limit) is not called missing: the error says
    what failed."""
    top = module.split(".")[0]
    try:
        with warnings.catch_warnings():
            # umap warns at import that its optional ParametricUMAP lacks TensorFlow; we never use it
            warnings.simplefilter("ignore", ImportWarning)
            return importlib.import_module(module)
    except ImportError as exc:
        extra = EXTRAS.get(top)
        command = install_command(extra) if extra else f"pip install {top}"
        if _missing(exc, module):
            raise ImportError(f"{purpose} needs {top}, which is not installed: {command}") from exc
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        raise ImportError(f"{purpose} needs {top}, which is installed but failed to import ({reason}); "
                          f"the process may be out of memory (restart the kernel), or {top} may need "
                          f"reinstalling: {command}") from exc


def _missing(exc: ImportError, module: str) -> bool:
    """Whether the import failed because `module` itself (or a package above it) is not there."""
    parts = module.split(".")
    wanted = {".".join(parts[:end]) for end in range(1, len(parts) + 1)}
    return isinstance(exc, ModuleNotFoundError) and exc.name in wanted


def available(module: str) -> bool:
    """Whether `module` could be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules
        return False
