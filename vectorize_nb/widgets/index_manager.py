"""IndexManager: the indexes of a client in a table; create, delete (after a confirmation), inspect."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w
import pandas as pd

from ..client import Client
from ..index import Index
from ..contract.errors import IndexNotFound, VectorizeError
from ..contract.models import METRICS, PRESETS
from .base import Panel, close_all, expect
from ..mutation_log import writes_pending
from .tables import table_html

__all__ = ["IndexManager"]

_BY_SIZE = "dimensions & metric"
_BY_PRESET = "preset"
_WHEN = "%Y-%m-%d %H:%M:%S %Z"  # a creation and an applying alike: "2026-11-29 10:39:59 UTC"


class IndexManager(Panel):
    """The indexes of a client in a table; create one, delete one (after a confirmation), inspect one.

    Every action is one call of `client`: `create_index`, `delete_index`, `list_indexes`, `info`.
    The index chosen in its menu is `manager.selected.value`.

    Parameters
    ----------
    client : Client
        From `vz.connect()`.

    Examples
    --------
    >>> vz.IndexManager(vz.connect())
    IndexManager(...)
    """

    def __init__(self, client: Client) -> None:
        expect("IndexManager(client)", ("client", client, Client))
        self.client = client
        self.table = w.HTML()
        self.table.add_class("vectorize-nb-index-table")
        self.selected = w.Dropdown(description="Index", options=[])
        self.info = w.HTML()
        self.info.add_class("vectorize-nb-index-info")
        self.name = w.Text(description="Name", placeholder="lower-case-name")
        self.name.add_class("vectorize-nb-new-name")
        self.how = w.ToggleButtons(options=[_BY_SIZE, _BY_PRESET], value=_BY_SIZE,
                                   style={"button_width": "auto"})  # each as wide as its label
        self.dimensions = w.IntText(description="Dimensions", value=384)  # the library says the limits
        self.metric = w.Dropdown(description="Metric", options=list(METRICS), value="cosine")
        self.preset = w.Dropdown(description="Preset", options=list(PRESETS))
        self.description = w.Text(description="Description", placeholder="optional")
        self.confirmation = w.HBox()
        self.chosen: Index | None = None  # the index whose facts are shown, as `client.get_index` gave it
        self._facts_after: str | None = None  # the client's last write to it when its facts were loaded
        self._listeners: list[Callable[[], None]] = []
        self._created: str | None = None  # the index the last Create made, until a new name is typed
        create = self.button("Create", self._on_create_click, style="primary", icon="plus")
        refresh = self.button("Refresh", self.refresh, icon="refresh")
        delete = self.button("Delete", self._on_delete_click, style="danger", icon="trash")
        self.how.observe(self._on_how_change, names="value")
        self.name.observe(self._on_name_typed, names="value")
        self._holding = False
        self.selected.observe(lambda _: self._on_selected(), names="value")
        self.form = w.VBox([self.name, self.how, self.dimensions, self.metric, self.description, create])
        super().__init__([
            w.HTML(f"<b>Indexes</b> on <code>{client.target}</code>"), w.HBox([refresh]), self.table,
            w.HBox([self.selected, delete]), self.confirmation, self.info,
            w.HTML("<b>New index</b>"), self.form,
        ])
        self.attempt(self.refresh)

    # --- reading -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the table and the chosen index's facts (the Refresh button).

        One `list_indexes` call, whatever the number of indexes; only the chosen index's `info` is
        asked for (its vector count and pending writes), since Cloudflare allows 1200 requests per 5 minutes.
        """
        self._reload()

    def _reload(self, choose: str | None = None) -> None:
        """Reload the table and the menu, choose `choose` (else keep the choice) and load its facts once."""
        indexes = self.client.list_indexes()
        shown = indexes[["name", "dimensions", "metric", "description", "created_on"]].copy()
        shown["created_on"] = shown["created_on"].dt.strftime(_WHEN)
        self.table.value = table_html(shown, "no index yet: create one below")
        names = shown["name"].tolist()
        current = choose or self.selected.value
        with self._hold_info():
            self.selected.options = names
            self.selected.value = current if current in names else (names[0] if names else None)
        self._show_info()

    @contextmanager
    def _hold_info(self) -> Iterator[None]:
        """The chosen index's facts are not loaded while the menu changes inside (the caller loads them once)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _on_selected(self) -> None:
        if not self._holding:
            self.attempt(self._show_info)

    def recover(self, error: VectorizeError) -> None:
        """An index deleted elsewhere leaves the table and the menu: reload them."""
        if isinstance(error, IndexNotFound):
            self.refresh()

    def on_show(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the chosen index's facts are loaded (a choice, a Refresh, a Create or Delete):
        `manager.chosen` is then the index as it is now (created again elsewhere: other dimensions), or None.

        Parameters
        ----------
        callback : callable
            Takes no argument.
        """
        self._listeners.append(callback)

    def catch_up(self) -> None:
        """Reload the chosen index's facts if this client wrote to it since they were loaded (from another panel)."""
        if self.chosen is not None and self.client.log.last(self.chosen.name) != self._facts_after:
            self._show_info()

    def _show_info(self) -> None:
        name = self.selected.value
        self.chosen = self.client.get_index(name) if name else None
        self.info.value = self._facts(self.chosen) if self.chosen is not None else ""
        for callback in self._listeners:
            callback()

    def _facts(self, index: Index) -> str:
        name = index.name
        self._facts_after = self.client.log.last(name)
        info = index.info()
        facts = {"dimensions": info.dimensions, "vectors": info.vector_count,
                 "last applied mutation": info.processed_up_to_mutation or "none yet",
                 "applied at": f"{info.processed_up_to_datetime:{_WHEN}}" if info.processed_up_to_datetime else "",
                 "writes pending": _pending(self.client, name, info.processed_up_to_mutation)}
        return table_html(pd.DataFrame([facts]))

    # --- writing -------------------------------------------------------------------------------

    def _on_how_change(self, change: dict[str, Any]) -> None:
        by_preset = change["new"] == _BY_PRESET
        children = [self.name, self.how, *( [self.preset] if by_preset else [self.dimensions, self.metric]),
                    self.description, self.form.children[-1]]
        self.form.children = children

    def _on_name_typed(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._created = None

    def _on_create_click(self) -> None:
        name = self.name.value.strip()
        if not name:
            self.unnamed("type a name for the new index first")
            return
        if self.how.value == _BY_PRESET:
            self.client.create_index(name, preset=self.preset.value, description=self.description.value)
        else:
            self.client.create_index(name, self.dimensions.value, self.metric.value,
                                     description=self.description.value)
        self.name.value = ""
        self._created = name
        self._reload(choose=name)
        self.say(f"created index {name!r}", "ok")

    def _on_delete_click(self) -> None:
        name = self.selected.value
        if not name:
            self.say("choose an index to delete first", "note")
            return
        self._dismiss()
        confirm = self.decision(f"Delete {name}", lambda: self._delete(name), style="danger",
                                css="vectorize-nb-confirm-delete")
        cancel = self.decision("Cancel", self._dismiss)
        self.confirmation.children = [w.HTML(f"Delete <b>{name}</b> and all its vectors? "), confirm, cancel]

    def _dismiss(self) -> None:
        asked, self.confirmation.children = self.confirmation.children, []
        self.withdraw()
        close_all(*asked)

    def _delete(self, name: str) -> None:
        self._dismiss()
        self.client.delete_index(name)
        self.refresh()
        self.say(f"deleted index {name!r}", "ok")


def _pending(client: Client, name: str, processed: str | None) -> str:
    pending = writes_pending(client.backend, client.log, name, processed)
    return "none from this session" if pending is None else "yes" if pending else "no"
