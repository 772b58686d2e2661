"""UpsertPanel: pick a frame's id, vector (or text and model), metadata and namespace columns and upsert it,
with a progress bar and the write's summary."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import ipywidgets as w
import pandas as pd
from IPython.display import display

from ..embedder import model_for_index
from ..index import Index
from .base import Panel, expect, inside, labelled, likely_column
from .columns import indexed_properties, scalar_columns, stored_properties, text_columns, vector_columns

__all__ = ["UpsertPanel"]

_NONE = "(none)"
_LITERAL = "(one name for every row)"
_ID_COLUMNS = ("id", "doc_id", "key")
_VECTORS, _TEXTS = "vectors", "texts"
_NO_ROWS = "the frame has no rows: nothing to upsert"


class UpsertPanel(Panel):
    """Upsert a DataFrame into an index: the Upsert button calls `frame.vectorize.upsert(index, ...)`, with
    `vector=` the column, or with "texts" chosen, `text=` the column and `model=` the model that embeds it.

    Metadata starts with the frame columns the index's vectors already hold as metadata (or have a
    metadata index for), since an upsert replaces each vector whole and would drop what is left out;
    into an empty index, every column that can be metadata as it is (numbers, booleans, short texts).

    Parameters
    ----------
    frame : DataFrame
        The rows to write: an id column, a vector column, metadata columns.
    index : Index
        The index to write them into.
    model : str, optional
        The embedding model for a column of texts (`vz.embedding_models()`; those of the index's dimensions
        are offered); the panel then starts on "texts". By default the index's preset, else the model its
        texts were written with.

    Examples
    --------
    >>> UpsertPanel(digits, client.get_index("digits"))     # then pick columns and click Upsert
    UpsertPanel(...)
    """

    def __init__(self, frame: pd.DataFrame, index: Index, *, model: str | None = None) -> None:
        expect("UpsertPanel(frame, index)", ("frame", frame, pd.DataFrame), ("index", index, Index))
        self.frame = frame
        self.index = index
        columns = labelled(frame.columns)  # the frame's own labels (2020, 0) are what the upsert is given
        labels = list(frame.columns)
        self.id = w.Dropdown(description="Id", options=columns, value=likely_column(labels, _ID_COLUMNS))
        self.vector = w.Dropdown(description="Vector", options=columns, value=self._source_column(texts=False))
        models = _models(index, model)
        self.model = w.Dropdown(description="Model", options=models, value=models[0] if models else None,
                                layout=w.Layout(display="none"))
        self.model.add_class("vectorize-nb-model")
        self.source = w.ToggleButtons(options=[_VECTORS, _TEXTS] if models else [_VECTORS],
                                      value=_TEXTS if models and self._texts_first(model) else _VECTORS,
                                      tooltips=["the column holds vectors", "the column holds texts to embed"],
                                      layout=w.Layout(display=None if models else "none"))
        self.source.add_class("vectorize-nb-source")
        self.source.observe(self._on_source_change, names="value")
        self.metadata = w.SelectMultiple(description="Metadata", options=columns, rows=min(8, len(columns)),
                                         tooltip="\n".join(text for text, _ in columns))  # long names are cut
        self.metadata.add_class("vectorize-nb-metadata-columns")
        self.namespace = w.Dropdown(description="Namespace", options=[(_NONE, _NONE), (_LITERAL, _LITERAL), *columns],
                                    value=_NONE)
        self.literal = w.Text(description="Name", placeholder="namespace for every row",
                              layout=w.Layout(display="none"))  # shown for "(one name for every row)" only
        self.namespace.observe(self._on_namespace_change, names="value")
        self.progress = w.Output()
        self.summary = w.HTML()
        self.summary.add_class("vectorize-nb-upsert-summary")
        upsert = self.button("Upsert", self._on_upsert_click, style="primary", icon="upload")
        self.metadata.value = tuple(self._likely_metadata())
        for choice in (self.id, self.vector):
            choice.observe(self._on_key_change, names="value")
        super().__init__([
            w.HTML(f"<b>Upsert</b> {len(frame):,} rows into <code>{index.name}</code> "
                   f"({index.dimensions} dimensions)"),
            self.source, self.id, self.vector, self.model, self.metadata,
            w.HTML("<small>An upsert replaces each vector whole: metadata left unselected is removed from "
                   "vectors already stored. Ctrl- or Cmd-click to select several.</small>"),
            w.HBox([self.namespace, self.literal]), upsert, self.progress, self.summary,
        ])
        self._on_source_change({"new": self.source.value})
        if len(frame) == 0:
            self.say(_NO_ROWS, "note")

    def _on_source_change(self, change: dict[str, Any]) -> None:
        """Texts: the column menu names the text column, and the model menu shows."""
        texts = change["new"] == _TEXTS
        self.vector.description = "Text" if texts else "Vector"
        self.model.layout.display = None if texts else "none"
        self.vector.value = self._source_column(texts)

    def _source_column(self, texts: bool) -> Hashable:
        """The column the Vector (or Text) menu starts on: the first that holds vectors (texts), else the first."""
        fitting = text_columns(self.frame, exclude=[self.id.value]) if texts else vector_columns(self.frame)
        return next(iter(fitting or self.frame.columns), None)

    def _texts_first(self, model: str | None) -> bool:
        """Whether the panel starts on texts: a model was given, or the frame has texts and no vectors."""
        return model is not None or (not vector_columns(self.frame) and bool(text_columns(self.frame, [self.id.value])))

    def _likely_metadata(self) -> list[Hashable]:
        """The columns the index's vectors hold as metadata; every scalar column for an empty index."""
        if len(self.frame) == 0:
            return []  # every column of no rows looks like metadata, the vectors' too
        candidates = scalar_columns(self.frame, exclude=(self.id.value, self.vector.value))
        known = stored_properties(self.index)
        if not known:
            return candidates
        held = set(known) | set(indexed_properties(self.index))
        return [label for label in candidates if str(label) in held]

    def _on_key_change(self, change: dict[str, Any]) -> None:
        """A column chosen as the id or the vector is not metadata too."""
        self.metadata.value = tuple(name for name in self.metadata.value if name != change["new"])

    def _on_namespace_change(self, change: dict[str, Any]) -> None:
        self.literal.layout.display = None if change["new"] == _LITERAL else "none"

    def _namespace(self) -> Hashable | None:
        """The upsert's namespace=: None, the name typed for every row, or a column.

        Raises
        ------
        ValueError
            "(one name for every row)" chosen and no name typed.
        """
        if self.namespace.value == _NONE:
            return None
        if self.namespace.value == _LITERAL:
            if not str(self.literal.value).strip():
                raise ValueError("type the namespace for every row in the Name box first")
            return str(self.literal.value).strip()
        return self.namespace.value  # type: ignore[no-any-return]

    def _where(self) -> str:
        """The namespace written, for the success message."""
        if self.namespace.value == _NONE:
            return ""
        if self.namespace.value == _LITERAL:
            return f", in namespace {str(self.literal.value).strip()!r}"
        return f", in the namespaces of column {self.namespace.value!r}"

    def _on_upsert_click(self) -> None:
        self.progress.clear_output()
        self.summary.value = ""  # the last upsert's summary must not stand beside this one's error
        if len(self.frame) == 0:
            self.say(_NO_ROWS, "note")
            return
        namespace = self._namespace()
        try:
            column = ({"text": self.vector.value, "model": self.model.value} if self.source.value == _TEXTS
                      else {"vector": self.vector.value})
            result = inside(self.progress, lambda: self.frame.vectorize.upsert(  # tqdm.auto draws its bar there
                self.index, id=self.id.value, metadata=list(self.metadata.value) or None, **column,
                namespace=namespace, progress=True, wait=True, on_error="report"))
        finally:
            self.progress.clear_output()  # a bar left half drawn by an error too
        with self.progress:
            display(w.HTML(result._repr_html_()))
        self.summary.value = f"{result.written:,} of {result.rows:,} rows written"
        if result.ok:
            stored = ", ".join(map(repr, self.metadata.value)) or "no metadata"
            self.say(f"upserted {result.written:,} vectors into {self.index.name!r} with {stored}{self._where()}",
                     "ok")
        else:
            self.say(f"{result.tally()}: {result.failures[0].error}", "error")


def _models(index: Index, model: str | None) -> list[str]:
    """The models offered for a column of texts: `model` first (refused now if unknown or of other dimensions),
    then those that can embed texts for `index` (`Embedder.models_for`)."""
    given = [] if model is None else [model_for_index(model, index.description).model]
    return list(dict.fromkeys([*given, *index.embedder.models_for(index.description)]))
