"""ipywidgets panels: manage indexes and metadata indexes, upsert a frame, explore queries.

Needs the widgets extra: pip install 'vectorize-nb[widgets]'. Each panel calls the library's public
functions only, so everything a panel does can be done in a cell too.
"""

from __future__ import annotations

try:
    import ipywidgets as _ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("the panels need ipywidgets: pip install 'vectorize-nb[widgets]'") from exc

from .index_manager import IndexManager
from .metadata_panel import MetadataIndexPanel
from .query_explorer import QueryExplorer
from .tabs import panel
from .upsert_panel import UpsertPanel

__all__ = ["IndexManager", "MetadataIndexPanel", "QueryExplorer", "UpsertPanel", "panel"]
