"""MetadataIndexPanel: list, create and delete an index's metadata indexes; warn when vectors already in
the index predate a new one (filters miss them) and offer to write them again."""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd

from ..index import Index
from ..contract import errors
from ..contract.errors import InvalidFilter, MetadataIndexNotFound, VectorizeError
from ..contract.models import INDEX_TYPES
from .base import Panel, expect
from .tables import table_html

__all__ = ["MetadataIndexPanel"]


class MetadataIndexPanel(Panel):
    """List, create and delete an index's metadata indexes (only their properties can filter).

    Each action is one call of `index`: `create_metadata_index`, `delete_metadata_index`,
    `list_metadata_indexes`. When vectors already stored predate a new metadata index (filters miss
    them), the panel says how many and offers to write them again (`index.rewrite()`).

    Parameters
    ----------
    index : Index

    Examples
    --------
    >>> vz.MetadataIndexPanel(client.get_index("films"))
    MetadataIndexPanel(...)
    """

    def __init__(self, index: Index) -> None:
        expect("MetadataIndexPanel(index)", ("index", index, Index))
        self.index = index
        self.table = w.HTML()
        self.table.add_class("vectorize-nb-metadata-table")
        self.property = w.Text(description="Property", placeholder="genre, or nested.key")
        self.property.add_class("vectorize-nb-property")
        self.kind = w.Dropdown(description="Type", options=list(INDEX_TYPES), value="string")
        self.existing = w.Dropdown(description="Existing", options=[])
        self.offer = w.HBox()
        self._created: str | None = None  # the property the last Create indexed, until a new one is typed
        self._deleted: str | None = None  # the property the last Delete unindexed, until another is chosen
        self.property.observe(lambda change: self._forget(change, "_created"), names="value")
        self.existing.observe(lambda change: self._forget(change, "_deleted"), names="value")
        create = self.button("Create", self._on_create_click, style="primary", icon="plus")
        delete = self.button("Delete", self._on_delete_click, style="danger", icon="trash")
        refresh = self.button("Refresh", self.refresh, icon="refresh")
        super().__init__([
            w.HTML(f"<b>Metadata indexes</b> of <code>{index.name}</code>: only these properties can filter"),
            refresh, self.table, w.HBox([self.property, self.kind, create]), w.HBox([self.existing, delete]),
            self.offer,
        ])
        self.attempt(self.refresh)

    def recover(self, error: VectorizeError) -> None:
        """A metadata index deleted elsewhere leaves the table and the menu: reload them."""
        if isinstance(error, MetadataIndexNotFound):
            self.refresh()

    def _forget(self, change: dict[str, Any], done: str) -> None:
        if change["new"]:  # typed or chosen: a click on Create or Delete is no longer a double click's second
            setattr(self, done, None)

    def refresh(self) -> None:
        """Reload the table of metadata indexes (the Refresh button)."""
        indexes = self.index.list_metadata_indexes()
        self.table.value = table_html(indexes, "no metadata index: filters match nothing until one exists")
        self.existing.options = indexes["property_name"].tolist()

    def _on_create_click(self) -> None:
        name = self.property.value.strip()
        if not name:
            self.unnamed("type the property to index first")
            return
        existing = self.index.list_metadata_indexes()
        if [name, self.kind.value] in existing[["property_name", "index_type"]].values.tolist():
            # Vectorize accepts it and does nothing: no vector predates it, none needs writing again
            self.say(f"{name!r} already has a {self.kind.value} metadata index: nothing to create", "note")
            return
        with errors.heard_warnings():  # dropped: the panel says the same below in its own words (the vectors
            # that predate it, a name no filter can use)
            self.index.create_metadata_index(name, self.kind.value)
        self.index.wait()
        self.property.value = ""
        self._created = name
        self.refresh()
        try:
            predating = self._predating(name)
        except InvalidFilter as exc:  # created, but no filter can name it (a key over the filter limit)
            self.say(f"created a {self.kind.value} index on {name!r}, but a filter cannot use it: {exc}: delete it "
                     "and index a name a filter can use", "note")
            return
        if predating:
            self.say(f"created a {self.kind.value} index on {name!r}; {predating} vectors already in the index "
                     "predate it and will not match filters on it until written again", "note")
            self.withdraw()
            offer = self.decision(f"Write the {predating} vectors again", self._rewrite, style="warning",
                                  css="vectorize-nb-rewrite")
            offer.layout.width = "auto"  # ipywidgets' 148px cut it to "Write the 40 vect…"
            self.offer.children = [offer]
        else:
            self.say(f"created a {self.kind.value} index on {name!r}", "ok")
            self._withdraw_offer()

    def _predating(self, name: str) -> int:
        """Vectors that predate the metadata index: counted by the local engine, else every stored vector."""
        explained = self.index.explain_filter({name: {"$ne": None}})
        counted = explained["vectors_predating_index"].iloc[0]
        return self.index.info().vector_count if pd.isna(counted) else int(counted)

    def _rewrite(self) -> None:
        result = self.index.rewrite(progress=False)
        self.index.wait(result)
        self._withdraw_offer()
        self.say(f"wrote {result.written} vectors again: filters on every metadata index now see them", "ok")

    def _withdraw_offer(self) -> None:
        self.offer.children = []
        self.withdraw()

    def _on_delete_click(self) -> None:
        name = self.existing.value
        if not name:
            if self._deleted is None:  # else the second click of a double click
                self.say("choose a metadata index to delete first", "note")
            return
        self.index.delete_metadata_index(name)
        self._withdraw_offer()  # it offered to write the vectors again for the metadata index now deleted
        self.index.wait()
        self.refresh()
        self.existing.value = None  # not the next one: a second click would delete it too
        self._deleted = name
        self.say(f"deleted the metadata index on {name!r}", "ok")
