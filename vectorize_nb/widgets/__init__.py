"""ipywidgets panels: manage indexes and metadata indexes, upsert a frame, explore queries.

Needs the widgets extra: pip install 'vectorize-nb[widgets]'. Each panel calls the library's public
functions only, so everything a panel does can be done in a cell too.

`close()` frees a panel (or the Workbench of `panel()`): ipywidgets keeps every widget until it is closed, and
with a panel its client's engine (open files, a thread). A cell that makes a client and a panel again, run many
times, should close the panel it replaces first: `bench.close()`.
"""

from __future__ import annotations

from ..extras import require

# before the panels import it, so a missing extra says how to install it
require("ipywidgets", "vectorize_nb.widgets (the panels)")

from .index_manager import IndexManager  # noqa: E402
from .metadata_panel import MetadataIndexPanel  # noqa: E402
from .query_explorer import QueryExplorer  # noqa: E402
from .tabs import panel  # noqa: E402
from .upsert_panel import UpsertPanel  # noqa: E402

__all__ = ["IndexManager", "MetadataIndexPanel", "QueryExplorer", "UpsertPanel", "panel"]
