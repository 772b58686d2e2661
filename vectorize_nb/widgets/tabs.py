"""`panel(client)`: the panels together, as tabs, on the index chosen at the top."""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from ..client import Client
from .base import Panel, expect
from .index_manager import IndexManager
from .metadata_panel import MetadataIndexPanel
from .query_explorer import QueryExplorer
from .upsert_panel import UpsertPanel

__all__ = ["panel", "Workbench"]

_TITLES = ["Indexes", "Metadata indexes", "Upsert", "Query"]
# ipywidgets gives every tab 144px, which cuts "Metadata indexes: films"; here a tab is as wide as its title, up
# to 240px (a longer index name ends in an ellipsis; each panel names its index in full in its first line).
_TAB = ".vectorize-nb-workbench .jupyter-widgets.widget-tab > .{0}-TabBar .{0}-TabBar-tab"
_TAB_CSS = ("<style>" + ",".join(_TAB.format(p) for p in ("lm", "p")) + "{flex:0 1 auto;max-width:240px}"
            + ",".join(_TAB.format(p) + ":first-child" for p in ("lm", "p")) + "{flex-shrink:0}"
            + ",".join(_TAB.format(p) + "Label" for p in ("lm", "p"))
            + "{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}</style>")


class Workbench(w.VBox):
    """Tabs: the IndexManager, and the MetadataIndexPanel, UpsertPanel and QueryExplorer of the index
    selected in the IndexManager (rebuilt when the selection changes). Made by `panel`.

    Parameters
    ----------
    client : Client
    frame : DataFrame, optional
        The rows the Upsert tab writes and the Query tab takes queries from.
    """

    def __init__(self, client: Client, frame: pd.DataFrame | None = None) -> None:
        expect("panel(client, frame)", ("client", client, Client), ("frame", frame, (pd.DataFrame, type(None))))
        self.client = client
        self.frame = frame
        self.manager = IndexManager(client)
        self.tabs = w.Tab()
        self.manager.selected.observe(lambda _: self._follow(), names="value")
        self.tabs.observe(lambda _: self._refresh_query(), names="selected_index")
        super().__init__([w.HTML(_TAB_CSS), self.tabs])
        self.add_class("vectorize-nb-workbench")
        self._follow()

    def _follow(self) -> None:
        """The tabs of the index chosen; an error (the index was deleted elsewhere) is said in the manager."""
        self.manager.attempt(self._show_tabs)

    def _show_tabs(self) -> None:
        name = self.manager.selected.value
        children: list[w.Widget] = [self.manager]
        if name:
            index = self.client.get_index(name)
            children.append(MetadataIndexPanel(index))
            children.append(UpsertPanel(self.frame, index) if self.frame is not None
                            else _note("give panel(client, frame) a DataFrame to upsert it from here"))
            children.append(QueryExplorer(index, self.frame))
        self.tabs.children = children
        for position, title in enumerate(_TITLES[:len(children)]):
            self.tabs.set_title(position, title if position == 0 else f"{title}: {name}")


    def _refresh_query(self) -> None:
        """The Query tab, when shown, catches up with what the other tabs wrote (texts: a question box)."""
        shown = self.tabs.children[self.tabs.selected_index] if self.tabs.selected_index is not None else None
        if isinstance(shown, QueryExplorer):
            shown.attempt(shown.refresh)


def _note(text: str) -> Panel:
    note = Panel()
    note.say(text, "note")
    return note


def panel(client: Client, frame: pd.DataFrame | None = None) -> Workbench:
    """Every panel as tabs, on the index chosen in the first one.

    Parameters
    ----------
    client : Client
        From `vz.connect()`.
    frame : DataFrame, optional
        With it, the Upsert tab writes it and the Query tab takes queries from its rows.

    Returns
    -------
    Workbench
        `bench.manager` is the IndexManager; `bench.tabs` the tabs.

    Examples
    --------
    >>> bench = vz.panel(client, digits)
    >>> bench.manager.selected.value = "digits"     # the other tabs follow
    >>> bench
    Workbench(...)
    """
    return Workbench(client, frame)
