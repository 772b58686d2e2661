"""QueryExplorer: ask an index a question and look at the answer: a results table beside the query's
neighbourhood; a click on a point shows that vector's metadata; a lasso selection is `explorer.selection`."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from ..contract.filters import MEMBERSHIP, SYMBOLS, Clause
from ..filter_builder import Condition
from ..index import Index
from ..contract.models import METADATA_MODES
from .base import Panel, likely_column, table_html

__all__ = ["QueryExplorer", "FilterRow"]

ROW, STORED, PASTED = "a row of the frame", "a stored id", "a vector"
_OPERATORS = {symbol: op for op, symbol in SYMBOLS.items()}
_DROPDOWN_ROWS = 2000


class FilterRow(w.HBox):
    """One clause: a property with a metadata index, an operator, a value (typed as the index's type)."""

    def __init__(self, types: dict[str, str], remove: Any) -> None:
        self.types = types
        self.property = w.Dropdown(options=list(types), layout=w.Layout(width="160px"))
        self.operator = w.Dropdown(options=list(_OPERATORS), layout=w.Layout(width="80px"))
        self.value = w.Text(placeholder="value (in: a, b, c)", layout=w.Layout(width="200px"))
        drop = w.Button(icon="times", tooltip="remove this condition", layout=w.Layout(width="36px"))
        drop.on_click(lambda _: remove(self))
        super().__init__([self.property, self.operator, self.value, drop])

    def condition(self) -> Condition:
        kind = self.types[self.property.value]
        op = _OPERATORS[self.operator.value]
        text = str(self.value.value)
        operand = ([_typed(part.strip(), kind) for part in text.split(",") if part.strip()] if op in MEMBERSHIP
                   else _typed(text.strip(), kind))
        return Condition([Clause(self.property.value, op, operand)])


def _typed(text: str, kind: str) -> Any:
    if text.lower() in ("null", "none"):
        return None
    if kind == "number":
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"a boolean is true or false, got {text!r}")
        return text.lower() == "true"
    return text


class QueryExplorer(Panel):
    """`QueryExplorer(index, frame=None)`: Run calls `index.query` (or `query_by_id`) and `plot_neighbourhood`."""

    def __init__(self, index: Index, frame: pd.DataFrame | None = None, *, color: str | None = None) -> None:
        self.index = index
        self.frame = frame
        self.color = color
        self.results: pd.DataFrame = pd.DataFrame()
        self.figure: Any = None
        self._selected: dict[str, list[str]] = {}
        sources = ([ROW] if frame is not None else []) + [STORED, PASTED]
        self.source = w.ToggleButtons(options=sources, value=sources[0])
        self.row = self._row_picker(frame)
        vector_columns = [] if frame is None else [str(c) for c in frame.columns]
        self.vector_column = w.Dropdown(description="Vector", options=vector_columns,
                                        value=likely_column(vector_columns, ("embedding", "vector", "values")))
        self.stored_id = w.Text(description="Id", placeholder="id of a stored vector")
        self.pasted = w.Textarea(description="Vector", placeholder="numbers, separated by commas or spaces")
        self.top_k = w.IntSlider(description="top k", value=10, min=1, max=100)
        self.namespace = w.Text(description="Namespace", placeholder="all namespaces")
        self.return_metadata = w.Dropdown(description="Metadata", options=list(METADATA_MODES), value="indexed")
        self.conditions = w.VBox()
        self.table = w.HTML()
        self.table.add_class("vectorize-nb-results")
        self.plot = w.Box()
        self.details = w.HTML()
        self.details.add_class("vectorize-nb-details")
        run = self.button("Run", self.run, style="primary", icon="search")
        add = self.button("Add condition", self._add_condition, icon="filter")
        self.question = w.VBox()
        self.source.observe(lambda _: self._show_source(), names="value")
        self._show_source()
        super().__init__([
            w.HTML(f"<b>Query</b> <code>{index.name}</code> ({index.metric}, {index.dimensions} dimensions)"),
            self.source, self.question, w.HBox([self.top_k, self.return_metadata]), self.namespace,
            w.HTML("Filter (conditions are joined by AND):"), self.conditions, w.HBox([add, run]),
            w.HBox([self.table, self.plot]), self.details,
        ])

    # --- the question --------------------------------------------------------------------------

    def _row_picker(self, frame: pd.DataFrame | None) -> w.Widget:
        if frame is None:
            return w.HTML()
        if len(frame) <= _DROPDOWN_ROWS:
            return w.Dropdown(description="Row", options=[(str(label), pos) for pos, label in enumerate(frame.index)])
        return w.BoundedIntText(description="Row #", min=0, max=len(frame) - 1, value=0)

    def _show_source(self) -> None:
        parts = {ROW: [self.row, self.vector_column], STORED: [self.stored_id], PASTED: [self.pasted]}
        self.question.children = parts[self.source.value]

    def _add_condition(self) -> None:
        types = {row["property_name"]: row["index_type"] for _, row in self.index.list_metadata_indexes().iterrows()}
        if not types:
            self.say("this index has no metadata index yet: nothing can be filtered on", "note")
            return
        self.conditions.children = [*self.conditions.children, FilterRow(types, self._remove_condition)]

    def _remove_condition(self, row: FilterRow) -> None:
        self.conditions.children = [child for child in self.conditions.children if child is not row]

    def filter(self) -> Condition | None:
        rows = [child.condition() for child in self.conditions.children if isinstance(child, FilterRow)]
        if not rows:
            return None
        combined = rows[0]
        for row in rows[1:]:
            combined = combined & row
        return combined

    def query(self) -> np.ndarray | str:
        """The query as the panel has it: a vector, or a stored id."""
        if self.source.value == STORED:
            if not self.stored_id.value.strip():
                raise ValueError("type the id of a stored vector")
            return str(self.stored_id.value).strip()
        if self.source.value == PASTED:
            numbers = self.pasted.value.replace(",", " ").replace("[", " ").replace("]", " ").split()
            return np.array([float(x) for x in numbers], dtype=np.float32)
        assert self.frame is not None
        return np.asarray(self.frame[self.vector_column.value].iloc[self.row.value], dtype=np.float32)

    # --- the answer ----------------------------------------------------------------------------

    def run(self) -> None:
        query, flt = self.query(), self.filter()
        options = dict(top_k=self.top_k.value, filter=flt, namespace=self.namespace.value.strip() or None,
                       return_metadata=self.return_metadata.value)
        if isinstance(query, str):
            self.results = self.index.query_by_id(query, **options)
        else:
            self.results = self.index.query(query, **options)
        self.table.value = table_html(self.results, "no match")
        self._draw(query, flt)
        self.say(f"{len(self.results)} matches", "ok")

    def _draw(self, query: np.ndarray | str, flt: Condition | None) -> None:
        import plotly.graph_objects as go

        from ..viz import plot_neighbourhood

        figure = plot_neighbourhood(self.index, query, top_k=self.top_k.value, filter=flt, color=self.color,
                                    namespace=self.namespace.value.strip() or None, results=self.results)
        figure.update_layout(width=760, height=560)  # beside the table, wide enough for its colour bar
        self.figure = go.FigureWidget(figure)
        for trace in self.figure.data:
            trace.on_click(self._on_point_click)
            trace.on_selection(self._on_points_selected)
        self.plot.children = [self.figure]

    def _on_point_click(self, trace: Any, points: Any, state: Any = None) -> None:
        ids = _ids(trace, points.point_inds)
        if ids:
            self.attempt(lambda: self._show_vector(ids[0]))

    def _show_vector(self, vid: str) -> None:
        stored = self.index.get_by_ids([vid], values=False)
        if stored.empty:
            self.details.value = f"<i>{html.escape(vid)}: no stored vector has this id</i>"
            return
        facts = stored.drop(columns=["values"], errors="ignore")
        self.details.value = f"<b>{html.escape(vid)}</b>" + table_html(facts)

    def _on_points_selected(self, trace: Any, points: Any, selector: Any = None) -> None:
        """Called once per trace for every new selection, with that trace's points (maybe none)."""
        self._selected[trace.name] = _ids(trace, points.point_inds)

    @property
    def selection(self) -> pd.DataFrame:
        """The vectors picked with the lasso (or box) in the figure, as a DataFrame (no values)."""
        ids = list(dict.fromkeys(vid for trace_ids in self._selected.values() for vid in trace_ids))
        return self.index.get_by_ids(ids, values=False)


def _ids(trace: Any, positions: Any) -> list[str]:
    """The vector ids of some points of a trace (a query given as a vector, and the gaps between links,
    carry none)."""
    data = trace.customdata
    if data is None:
        return []
    found = (data[i] for i in positions)
    return [str(value) for value in found if value is not None]
