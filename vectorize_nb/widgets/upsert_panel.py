"""UpsertPanel: pick a frame's id, vector, metadata and namespace columns and upsert it, with a progress
bar and the write's summary."""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
from IPython.display import display

from ..index import Index
from .base import Panel, likely_column

__all__ = ["UpsertPanel"]

_NONE = "(none)"
_LITERAL = "(one name for every row)"


class UpsertPanel(Panel):
    """`UpsertPanel(frame, index)`: the button calls `frame.vectorize.upsert(index, ...)`."""

    def __init__(self, frame: pd.DataFrame, index: Index) -> None:
        self.frame = frame
        self.index = index
        columns = [str(c) for c in frame.columns]
        self.id = w.Dropdown(description="Id", options=columns, value=likely_column(columns, ("id", "doc_id", "key")))
        self.vector = w.Dropdown(description="Vector", options=columns,
                                 value=likely_column(columns, ("embedding", "vector", "values")))
        self.metadata = w.SelectMultiple(description="Metadata", options=columns, rows=min(8, len(columns)))
        self.namespace = w.Dropdown(description="Namespace", options=[_NONE, _LITERAL, *columns], value=_NONE)
        self.literal = w.Text(description="Name", placeholder="namespace for every row")
        self.progress = w.Output()
        self.summary = w.HTML()
        self.summary.add_class("vectorize-nb-upsert-summary")
        upsert = self.button("Upsert", self._on_upsert_click, style="primary", icon="upload")
        super().__init__([
            w.HTML(f"<b>Upsert</b> {len(frame):,} rows into <code>{index.name}</code> "
                   f"({index.dimensions} dimensions)"),
            self.id, self.vector, self.metadata, w.HBox([self.namespace, self.literal]), upsert, self.progress,
            self.summary,
        ])

    def _namespace(self) -> str | None:
        if self.namespace.value == _NONE:
            return None
        if self.namespace.value == _LITERAL:
            return str(self.literal.value).strip() or None
        return str(self.namespace.value)

    def _on_upsert_click(self) -> None:
        self.progress.clear_output()
        with self.progress:  # tqdm.auto draws its bar here, as a widget
            result = self.frame.vectorize.upsert(
                self.index, id=self.id.value, vector=self.vector.value, metadata=list(self.metadata.value) or None,
                namespace=self._namespace(), progress=True, wait=True, on_error="report")
        self.progress.clear_output()
        with self.progress:
            display(w.HTML(result._repr_html_()))
        self.summary.value = f"{result.written:,} of {result.rows:,} rows written"
        if result.ok:
            self.say(f"upserted {result.written:,} vectors into {self.index.name!r}", "ok")
        else:
            self.say(f"{result.rows - result.written:,} rows were not written: {result.failures[0].error}", "error")
