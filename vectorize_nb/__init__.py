"""vectorize-nb: a Jupyter-first toolkit for Cloudflare Vectorize, with a faithful embedded engine.

    import vectorize_nb as vz
    client = vz.connect()                        # embedded engine in ./.vectorize
    idx = client.create_index("docs", dimensions=384, exist_ok=True)   # a second run reopens it
    idx.upsert(ids, X, metadata=rows, wait=True)  # wait: Vectorize applies writes seconds later
    idx.query(X[0], top_k=5)                     # a DataFrame
    df.vectorize.upsert(idx, id="id", vector="embedding", metadata="all", wait=True)
"""

from typing import TYPE_CHECKING

from . import accessor as _accessor  # registers df.vectorize
from . import errors
from .client import Client, connect, embedding_models
from .contract.embedding_models import SHIPPED_MODEL
from .filter_builder import F, Condition
from .index import Index
from .contract.limits import DEFAULT_LIMITS, Limits
from .contract.models import Match, Mutation, QueryOptions, VectorRecord, Vectors
from .vector_array import VectorArray, VectorDtype
from .version import __version__ as __version__
from .writes import WriteIncomplete, WriteInterrupted, WriteResult

__all__ = [
    "F", "Condition", "connect", "Client", "embedding_models", "SHIPPED_MODEL", "Index", "Limits", "DEFAULT_LIMITS",
    "Vectors", "VectorRecord", "Match", "Mutation", "QueryOptions", "WriteResult", "WriteIncomplete", "errors",
    "WriteInterrupted", "VectorArray", "VectorDtype",
    "serve", "IndexManager", "MetadataIndexPanel", "QueryExplorer", "UpsertPanel", "panel", "plot_neighbourhood",
    "plot_index", "plot_scores", "compare", "plot_comparison", "project",
]
del _accessor

if TYPE_CHECKING:  # imported when first asked for (below); typed as they are
    from . import datasets as datasets, viz as viz, widgets as widgets
    from .local.server import serve
    from .viz import plot_index, plot_neighbourhood, plot_scores, project
    from .viz.compare import compare, plot_comparison
    from .widgets import IndexManager, MetadataIndexPanel, QueryExplorer, UpsertPanel, panel


_LAZY = {
    "serve": "local.server", "IndexManager": "widgets", "MetadataIndexPanel": "widgets", "QueryExplorer": "widgets",
    "UpsertPanel": "widgets", "panel": "widgets", "plot_neighbourhood": "viz", "plot_index": "viz",
    "plot_scores": "viz", "compare": "viz", "plot_comparison": "viz", "project": "viz",
}


_SUBPACKAGES = ("viz", "widgets", "datasets")
_NEEDS = {"local.server": ("waitress", "werkzeug"), "widgets": ("ipywidgets",)}
"""What a module imported when first asked for cannot be imported without (its extra's packages)."""


def __getattr__(name: str) -> object:
    """The server, the panels and the views need extras: they (and `vz.viz`, `vz.widgets`, `vz.datasets`)
    are imported only when first asked for."""
    if name not in _LAZY and name not in _SUBPACKAGES:
        raise AttributeError(f"module 'vectorize_nb' has no attribute {name!r}")
    from importlib import import_module

    from .extras import require

    if name in _SUBPACKAGES:
        return import_module(f".{name}", __name__)
    if _LAZY[name] == "local.server":  # the panels' own import names their extra
        for module in _NEEDS["local.server"]:
            require(module, f"vz.{name}()")
    return getattr(import_module(f".{_LAZY[name]}", __name__), name)


def __dir__() -> list[str]:
    """The public names and the module's own (what tab completion offers): a name imported when first asked for
    only where the extra it needs is installed, so that help(vz) and inspect.getmembers can read each."""
    from .extras import available

    shown = {*__all__, *_SUBPACKAGES, *(name for name in globals() if name.startswith("__"))}
    return sorted(name for name in shown if all(map(available, _NEEDS.get(_LAZY.get(name, name), ()))))
