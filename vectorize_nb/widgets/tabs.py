"""`panel(client)`: the panels together, as tabs, on the index chosen at the top."""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from ..client import Client
from ..contract.errors import IndexNotFound, VectorizeError
from ..index import Index
from .base import Panel, close_all, expect
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
    selected in the IndexManager. Made by `panel`.

    The tabs are rebuilt when the selection changes, and when a Refresh, or an error in a tab, finds their
    index deleted (they then show the index chosen now) or created again elsewhere (other dimensions, say).

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
        # the tabs after the first: kept, only what they hold changes (replaced, they made the browser's tab bar
        # show another tab than the one the user was on, and send that back)
        self._boxes = [w.VBox() for _ in _TITLES[1:]]
        self._shown: Index | None = None  # the index of the tabs after the first
        self._lost = False  # a tab found its index gone: the tabs are made again, whatever the listing says
        self.manager.on_show(self._follow)
        self.tabs.observe(lambda _: self._catch_up(), names="selected_index")
        super().__init__([w.HTML(_TAB_CSS), self.tabs])
        self.add_class("vectorize-nb-workbench")
        self._follow()

    def _follow(self) -> None:
        """The tabs of the index chosen, unless they show it already as it is now."""
        chosen, shown, lost = self.manager.chosen, self._shown, self._lost
        self._lost = False
        if self.tabs.children and chosen is not None and shown is not None and not lost and _same(chosen, shown):
            return
        self._show_tabs(chosen)
        if shown is None:  # the first tabs
            return
        if chosen is None:  # none but the Indexes tab; its Delete says so itself, after this
            self.manager.say(f"index {shown.name!r} was deleted elsewhere: no index is left; create one below", "note")
            return
        if chosen.name == shown.name:
            self._say_in_tabs(f"index {chosen.name!r} was deleted and created again elsewhere: these tabs show it as "
                              f"it is now ({chosen.dimensions} dimensions, {chosen.metric})")
        elif shown.name not in self.manager.selected.options:
            self._say_in_tabs(f"index {shown.name!r} was deleted: these tabs show {chosen.name!r} now")

    def close(self) -> None:
        """Close the Workbench, its tabs and every widget they made: it is gone from the page, and once the
        notebook drops it and the client, so is the client's engine (its files and thread)."""
        close_all(self)

    @property
    def panels(self) -> list[Panel]:
        """The panel in each tab, in order: the IndexManager, then (with an index chosen) the
        MetadataIndexPanel, the UpsertPanel (a note without a frame) and the QueryExplorer."""
        return [self.manager, *(box.children[0] for box in self.tabs.children[1:])]

    def _show_tabs(self, index: Index | None) -> None:
        panels: list[Panel] = []
        if index is not None:
            panels = [MetadataIndexPanel(index),
                      UpsertPanel(self.frame, index) if self.frame is not None
                      else _note("give panel(client, frame) a DataFrame to upsert it from here"),
                      QueryExplorer(index, self.frame)]
        replaced = [tab for box in self._boxes for tab in box.children]
        for box, tab in zip(self._boxes, panels):
            tab.on_recover(self._on_tab_error)
            box.children = [tab]
        for box in self._boxes[len(panels):]:
            box.children = []
        self._shown = index
        self.tabs.children = [self.manager, *self._boxes[:len(panels)]]
        for position, title in enumerate(_TITLES[:len(panels) + 1]):
            self.tabs.set_title(position, title if index is None or position == 0 else f"{title}: {index.name}")
        close_all(*replaced)  # else ipywidgets keeps them, and their index, for the whole kernel

    def _say_in_tabs(self, text: str) -> None:
        for tab in self.panels[1:]:
            if not tab.message.value:
                tab.say(text, "note")

    def _on_tab_error(self, error: VectorizeError) -> None:
        """A tab found its index gone (deleted, maybe created again): the list and the tabs follow."""
        if isinstance(error, IndexNotFound):
            self._lost = True
            self.manager.attempt(self.manager.refresh)

    def _catch_up(self) -> None:
        """The tab shown catches up with what the other tabs wrote: the Indexes tab's facts, the Query tab's
        question box (texts written)."""
        shown = self.panels[self.tabs.selected_index] if self.tabs.selected_index is not None else None
        if shown is self.manager:
            self.manager.attempt(self.manager.catch_up)
        elif isinstance(shown, QueryExplorer):
            shown.attempt(shown.refresh)


def _same(one: Index, other: Index) -> bool:
    """Whether two handles name the same index: its name, configuration and creation (not a later change to it)."""
    first, second = one.description, other.description
    return (first.name, first.config, first.created_on) == (second.name, second.config, second.created_on)


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
        `bench.manager` is the IndexManager; `bench.tabs` the tabs; `bench.panels` the panel in each tab.
        `bench.close()` frees it: until then ipywidgets keeps its widgets, and through them the client's engine
        (open files, a thread), even once the notebook drops `bench` and the client.

    Examples
    --------
    >>> bench = vz.panel(client, digits)
    >>> bench.manager.selected.value = "digits"     # the other tabs follow
    >>> bench
    Workbench(...)
    """
    return Workbench(client, frame)
