"""QueryExplorer: ask an index a question and look at the answer: a results table beside the query's
neighbourhood; a click on a point shows that vector's metadata; a lasso selection is `explorer.selection`."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from ..contract.errors import UnknownModel, VectorNotFound
from ..contract.filters import MEMBERSHIP, SYMBOLS, Clause
from ..filter_builder import Condition
from ..frames import matrix_of
from ..index import Index
from ..contract.models import METADATA_MODES
from .base import Panel, close_all, expect, labelled, weakly
from ..mutation_log import writes_pending
from .columns import stored_properties, vector_columns
from .tables import table_html

__all__ = ["QueryExplorer", "FilterRow", "NO_COLOR"]

QUESTION, ROW, STORED, PASTED = "a question", "a row of the frame", "a stored id", "a vector"
NO_COLOR = "(one colour)"
_OPERATORS = {symbol: op for op, symbol in SYMBOLS.items()}
_DROPDOWN_ROWS = 2000
_APPLYING = ("writes sent to it are still being applied (Vectorize applies them a few seconds after accepting "
             "them): Run again in a few seconds, or call index.wait() in a cell first")


class FilterRow(w.HBox):
    """One condition of the explorer's filter: a property with a metadata index, an operator, a value.

    Parameters
    ----------
    types : dict of str to str
        Each property with a metadata index and its type ("string", "number" or "boolean"): the value
        typed is read as that type (`null` is null, and text in double quotes is that text as typed: `"null"`,
        `""`; `in` and `not in` take values separated by commas). An empty value is refused.
    remove : callable
        Called with this row when its remove button is clicked.
    """

    def __init__(self, types: dict[str, str], remove: Any) -> None:
        self.types = types
        self.property = w.Dropdown(options=list(types), layout=w.Layout(width="160px"))
        w.dlink((self.property, "value"), (self.property, "tooltip"))  # a long name is cut in the menu
        self.operator = w.Dropdown(options=list(_OPERATORS), layout=w.Layout(width="80px"))
        self.value = w.Text(placeholder="value (in: a, b, c)", layout=w.Layout(width="200px"))
        drop = w.Button(icon="times", tooltip="remove this condition", layout=w.Layout(width="36px"))
        drop.on_click(lambda _: remove(self))
        super().__init__([self.property, self.operator, self.value, drop])

    def condition(self) -> Condition:
        """The condition as typed, e.g. `F("year") >= 2000`.

        Raises
        ------
        ValueError
            No value typed, or one that is not of the metadata index's type.
        """
        name = self.property.value
        kind = self.types[name]
        op = _OPERATORS[self.operator.value]
        text = str(self.value.value)
        typed = [_typed(part.strip(), kind, name) for part in (text.split(",") if op in MEMBERSHIP else [text])
                 if part.strip()]
        if not typed:
            several = "values separated by commas, " if op in MEMBERSHIP else ""
            empty = ', "" for the empty text' if kind == "string" else ""
            raise ValueError(f"type a value for {name!r} first ({several}null for a missing value{empty})")
        return Condition([Clause(name, op, typed if op in MEMBERSHIP else typed[0])])


def _typed(text: str, kind: str, name: str) -> Any:
    if text.lower() == "null":
        return None
    if kind == "string" and len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{name!r} has a number index: {text!r} is not a number (type e.g. 2000 or 0.5)") from None
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{name!r} has a boolean index: type true or false, not {text!r}")
        return text.lower() == "true"
    return text


class QueryExplorer(Panel):
    """Ask an index a question and look at the answer: a results table above the query's neighbourhood.

    Run calls `index.query` (or `index.query_by_id`) and `plot_neighbourhood`. Click a point of the
    figure to see that vector's metadata; lasso (or box-select) points and read them back as
    `explorer.selection`. The last answer is `explorer.results`, the figure `explorer.figure`.

    Parameters
    ----------
    index : Index
        The index to query.
    frame : DataFrame, optional
        Rows to take a query vector from (pick a row and its vector column).
    color : str, optional
        The metadata property to colour the figure by at first (the Colour menu changes it).
    model : str, optional
        The embedding model of the index's vectors (`vz.embedding_models()`): the panel then takes a typed
        question. An index created from a model's preset knows its model already, and so does one whose texts
        were written from this machine (`df.vectorize.upsert(index, text=...)`).

    Examples
    --------
    >>> explorer = QueryExplorer(idx, digits, color="label")
    >>> explorer                     # click Run, then lasso some points
    QueryExplorer(...)
    >>> explorer.selection           # the vectors picked, as a DataFrame (none yet)
    Empty DataFrame
    Columns: [id, namespace]
    Index: []
    >>> QueryExplorer(docs_index, model=vz.SHIPPED_MODEL)   # type a question, Run
    QueryExplorer(...)
    """

    def __init__(self, index: Index, frame: pd.DataFrame | None = None, *, color: str | None = None,
                 model: str | None = None) -> None:
        expect("QueryExplorer(index, frame)", ("index", index, Index), ("frame", frame, (pd.DataFrame, type(None))))
        if color is not None and not isinstance(color, str):
            raise TypeError(f"QueryExplorer(color=...) takes a metadata property's name, got {type(color).__name__} "
                            f"{color!r:.40}")
        self.index = index
        self.frame = frame
        self.model = _model_of(index, model)
        self._model_given = model
        self.results: pd.DataFrame = pd.DataFrame()
        self.figure: Any = None
        self._asked: tuple[Any, Condition | None] | None = None
        self._selected: dict[str, list[str]] = {}
        sources = ([QUESTION] if self.model else []) + ([ROW] if frame is not None else []) + [STORED, PASTED]
        self.source = w.ToggleButtons(options=sources, value=sources[0])
        self.row = self._row_picker(frame)
        labels = [] if frame is None else list(frame.columns)
        self.vector_column = w.Dropdown(description="Vector", options=labelled(labels),
                                        value=next(iter(vector_columns(frame) or labels), None)
                                        if frame is not None else None)
        self.stored_id = w.Text(description="Id", placeholder="id of a stored vector")
        self.typed = w.Text(description="Question", placeholder="ask in words", layout=w.Layout(width="480px"))
        self.pasted = w.Textarea(description="Vector", placeholder="numbers, separated by commas or spaces")
        self.top_k = w.IntSlider(description="top k", value=10, min=1, max=100)
        self.namespace = w.Text(description="Namespace", placeholder="all namespaces")
        self.return_metadata = w.Dropdown(description="Metadata", options=list(METADATA_MODES), value="indexed")
        self.color_by = w.Dropdown(description="Colour", options=[NO_COLOR], value=NO_COLOR)
        self.color_by.add_class("vectorize-nb-color")
        self._offer_colors(color)
        self.color_by.observe(lambda _: self._asked is not None and self.attempt(self._redraw), names="value")
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
            self.source, self.question, w.HBox([self.top_k, self.return_metadata]),
            w.HBox([self.namespace, self.color_by]),
            w.HTML("Filter (conditions are joined by AND):"), self.conditions, w.HBox([add, run]),
            self.table, self.plot, self.details,
        ])

    def refresh(self) -> None:
        """Catch up with what the index holds now: a typed question once the model of its texts is known (texts
        written since the panel was made, from another panel, say), and the properties to colour by."""
        self.model = self.model or _model_of(self.index, self._model_given)
        if self.model and QUESTION not in self.source.options:
            chosen = self.source.value
            self.source.options = [QUESTION, *self.source.options]
            self.source.value = chosen
        self._offer_colors()

    @property
    def color(self) -> str | None:
        """The metadata property the figure is coloured by (None: one colour)."""
        return None if self.color_by.value == NO_COLOR else str(self.color_by.value)

    def _offer_colors(self, wanted: str | None = None) -> None:
        """The Colour menu: the properties the index's vectors hold and their namespace (the figure's fallback
        message offers it beside them), and `wanted`, the current choice."""
        wanted = wanted if wanted is not None else self.color
        held = stored_properties(self.index)
        offered = [NO_COLOR, *dict.fromkeys(held + (["namespace"] if held else []) + ([wanted] if wanted else []))]
        if list(self.color_by.options) != offered:
            self.color_by.options = offered  # the current choice is among them: it stays, and nothing redraws
            self.color_by.value = wanted or NO_COLOR

    # --- the question --------------------------------------------------------------------------

    def _row_picker(self, frame: pd.DataFrame | None) -> w.Widget:
        if frame is None:
            return w.HTML()
        if len(frame) <= _DROPDOWN_ROWS:
            return w.Dropdown(description="Row", options=[(str(label), pos) for pos, label in enumerate(frame.index)])
        return w.BoundedIntText(description="Row #", min=0, max=len(frame) - 1, value=0)

    def _show_source(self) -> None:
        parts = {QUESTION: [self.typed], ROW: [self.row, self.vector_column], STORED: [self.stored_id],
                 PASTED: [self.pasted]}
        self.question.children = parts[self.source.value]

    def _add_condition(self) -> None:
        types = {row["property_name"]: row["index_type"] for _, row in self.index.list_metadata_indexes().iterrows()}
        if not types:
            self.say(self._unapplied() or "this index has no metadata index yet, so nothing can be filtered on: "
                     "create one in the Metadata indexes tab (index.create_metadata_index(property, type)), then "
                     "write the vectors again", "note")
            return
        self.conditions.children = [*self.conditions.children, FilterRow(types, self._remove_condition)]

    def _unapplied(self) -> str | None:
        """That a metadata index this client made on the index is not applied yet, if one is not (a listing
        without it would otherwise say to make the one just made)."""
        pending = list(self.index._unapplied_notes(list(self.index.log.creations(self.index.name))))
        return (f"the metadata index on {pending[-1]!r} made from this session is not applied yet (Vectorize applies "
                "it a few seconds after accepting it): Add condition again in a few seconds, or call index.wait() in "
                "a cell first") if pending else None

    def _remove_condition(self, row: FilterRow) -> None:
        self.conditions.children = [child for child in self.conditions.children if child is not row]
        close_all(row)

    def filter(self) -> Condition | None:
        """The filter the conditions make (joined by AND), or None without a condition."""
        rows = [child.condition() for child in self.conditions.children if isinstance(child, FilterRow)]
        if not rows:
            return None
        combined = rows[0]
        for row in rows[1:]:
            combined = combined & row
        return combined

    def query(self) -> np.ndarray | str:
        """The query as the panel has it: a vector (a typed question embedded with the index's model), or
        a stored id.

        Raises
        ------
        ValueError
            No question or id typed, a pasted vector that is not numbers, or a frame with no rows.
        """
        if self.source.value == QUESTION:
            if not str(self.typed.value).strip():
                raise ValueError("type a question first")
            return np.asarray(self.index.embed([str(self.typed.value).strip()], self._model_given)[0])
        if self.source.value == STORED:
            if not self.stored_id.value.strip():
                raise ValueError("type the id of a stored vector first")
            return str(self.stored_id.value).strip()
        if self.source.value == PASTED:
            return _pasted(self.pasted.value)
        assert self.frame is not None
        if len(self.frame) == 0:
            raise ValueError(f"the frame has no rows: choose {STORED!r} or {PASTED!r} to query with")
        row: np.ndarray = matrix_of(self.frame.iloc[[self.row.value]], vector=self.vector_column.value)[0]
        return row

    # --- the answer ----------------------------------------------------------------------------

    def run(self) -> None:
        """Ask the question (the Run button): fill the results table, draw the neighbourhood."""
        self._forget_answer()  # an error or a note must not stand beside the last question's answer
        query, flt = self.query(), self.filter()
        info = self.index.info()
        applying = writes_pending(self.index.backend, self.index.log, self.index.name, info.processed_up_to_mutation)
        if info.vector_count == 0:
            self.say(f"index {self.index.name!r} holds no vectors yet: " + (_APPLYING if applying else
                     "write some first (the Upsert tab, or df.vectorize.upsert(index, id=..., vector=...)), "
                     "then Run again"), "note")
            return
        options = dict(top_k=self.top_k.value, filter=flt, namespace=self.namespace.value.strip() or None,
                       return_metadata=self.return_metadata.value)
        try:
            self.results = (self.index.query_by_id(query, **options) if isinstance(query, str)
                            else self.index.query(query, **options))
        except VectorNotFound:
            if not applying:
                raise
            self.say(f"no vector {query!r} in index {self.index.name!r} yet: {_APPLYING}", "note")
            return
        self.table.value = table_html(self.results, "no match")
        self._asked = (self._drawn_query(query), flt)
        self._offer_colors()
        self._redraw()

    def _forget_answer(self) -> None:
        self._drop_figure()
        self.results, self._asked, self._selected = pd.DataFrame(), None, {}
        self.table.value = self.details.value = ""

    def _drop_figure(self) -> None:
        """Take the figure off the panel, and close it (else ipywidgets keeps it, and its callbacks this panel)."""
        figure, self.figure = self.figure, None
        self.plot.children = []
        if figure is not None:
            close_all(figure)

    def _drawn_query(self, query: np.ndarray | str) -> Any:
        """What the figure marks as the query: the frame's row (so its id names it), else the query itself."""
        if self.source.value != ROW or self.frame is None:
            return query
        return self.frame.iloc[self.row.value]

    def _redraw(self) -> None:
        """Draw the last answer's neighbourhood; a colour the vectors do not hold is said, not drawn."""
        import plotly.graph_objects as go

        from ..viz import ColumnNotFound, plot_neighbourhood

        assert self._asked is not None
        query, flt = self._asked
        options = dict(top_k=self.top_k.value, filter=flt, namespace=self.namespace.value.strip() or None,
                       results=self.results, vector=self.vector_column.value if self.source.value == ROW else None)
        found = f"{len(self.results)} match{'' if len(self.results) == 1 else 'es'}"
        try:
            figure = plot_neighbourhood(self.index, query, color=self.color, **options)
            self.say(found, "ok")
        except ColumnNotFound as exc:
            figure = plot_neighbourhood(self.index, query, **options)
            self.say(f"{found}, drawn in one colour: {exc}", "note")
        figure.update_layout(width=760, height=560)
        self._drop_figure()
        self.figure = go.FigureWidget(figure)
        for trace in self.figure.data:
            trace.on_click(weakly(self._on_point_click))
            trace.on_selection(weakly(self._on_points_selected))
        self.plot.children = [self.figure]

    def _on_point_click(self, trace: Any, points: Any, state: Any = None) -> None:
        ids = _ids(trace, points.point_inds)
        if ids:
            self.attempt(lambda: self._show_vector(ids[0]))

    def _show_vector(self, vid: str) -> None:
        stored = self.index._read_ids([vid], values=False)
        if stored.empty:
            self.details.value = f"<i>{html.escape(vid)}: no stored vector has this id</i>"
            return
        facts = stored.drop(columns=["values"], errors="ignore")
        self.details.value = f"<b>{html.escape(vid)}</b>" + table_html(facts)

    def _on_points_selected(self, trace: Any, points: Any, selector: Any = None) -> None:
        """Called once per trace for every new selection, with that trace's points (maybe none)."""
        self._selected[trace.uid or trace.name] = _ids(trace, points.point_inds)  # names are cut: two may match

    @property
    def selection(self) -> pd.DataFrame:
        """The vectors picked with the lasso (or box) in the figure, as a DataFrame (no values)."""
        ids = list(dict.fromkeys(vid for trace_ids in self._selected.values() for vid in trace_ids))
        return self.index.get_by_ids(ids, values=False)


def _model_of(index: Index, model: str | None) -> str | None:
    """The model the panel embeds questions with, picked as `Index.embed` picks it (`Embedder.for_index`): the one
    given (an unknown one, or one of other dimensions, refused now rather than at the first Run), else the
    index's preset, else the one its texts were written with; None where no model is known."""
    try:
        return index.embedder.for_index(index.description, model, None)[0].model
    except UnknownModel:
        if model is not None:
            raise
        return None  # no preset, no texts written, or a preset the package cannot embed with (OpenAI's)


def _pasted(text: str) -> np.ndarray:
    """A pasted vector: numbers separated by commas or spaces (brackets are ignored)."""
    words = text.replace(",", " ").replace("[", " ").replace("]", " ").split()
    if not words:
        raise ValueError("paste a vector first: numbers separated by commas or spaces")
    try:
        return np.array([float(word) for word in words], dtype=np.float32)
    except ValueError:
        bad = next(word for word in words if not _is_number(word))
        raise ValueError(f"the pasted vector must be numbers separated by commas or spaces; {bad!r} is not a "
                         "number") from None


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _ids(trace: Any, positions: Any) -> list[str]:
    """The vector ids of some points of a trace (a query given as a vector, and the gaps between links,
    carry none)."""
    data = trace.customdata
    if data is None:
        return []
    found = (data[i] for i in positions)
    return [str(value) for value in found if value is not None]
