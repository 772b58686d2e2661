"""What every panel shares: a message line for errors and results, and buttons that are disabled while
a call runs. Panels hold no business logic: each button calls one public function of the library."""

from __future__ import annotations

import html
import logging
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import ipywidgets as w

from ..contract import errors
from ..contract.errors import VectorizeError
from .tables import table_html

__all__ = ["Panel", "table_html", "likely_column", "labelled", "expect", "inside", "close_all", "weakly"]

log = logging.getLogger("vectorize_nb.widgets")
T = TypeVar("T")

_STYLES = {"error": "#b00020", "ok": "#1b5e20", "note": "#6d4c41", "info": "#37474f"}


_ORDINALS = ("first", "second", "third")
_HOW_TO_GET = {"Client": "vz.connect()", "Index": "client.get_index(name)"}


def expect(call: str, *arguments: tuple[str, Any, type | tuple[type, ...]]) -> None:
    """Refuse an argument that is not of its type, saying what the call expects and what it was given.

    Parameters
    ----------
    call : str
        The call as written, e.g. "UpsertPanel(frame, index)".
    *arguments : (name, value, type)
        Each positional argument in order; a tuple of types where several do (`(DataFrame, NoneType)`).

    Raises
    ------
    TypeError
        Naming the argument, the type expected and the one given, and asking whether two were swapped.
    """
    for position, (name, value, kind) in enumerate(arguments):
        if isinstance(value, kind):
            continue
        wanted = kind[0] if isinstance(kind, tuple) else kind
        swapped = any(isinstance(value, other) for _, _, other in arguments[:position] + arguments[position + 1:])
        how = _HOW_TO_GET.get(wanted.__name__)
        raise TypeError(f"{call}: the {_ORDINALS[position]} argument, {name}, is {_a(wanted.__name__)}"
                        f"{f' (from {how})' if how else ''}, got {_a(type(value).__name__)}"
                        f"{': did you swap them?' if swapped else ''}")


def _a(noun: str) -> str:
    return f"{'an' if noun[0].lower() in 'aeiou' else 'a'} {noun}"


def likely_column(columns: Sequence[Hashable], likely: Sequence[str]) -> Hashable | None:
    """The column a menu starts on: the first of `likely` that is a column, else the first column.

    Parameters
    ----------
    columns : sequence of labels
        The frame's columns.
    likely : sequence of str
        Usual names, most likely first (e.g. "id", "doc_id", "key").
    """
    return next((name for name in likely if name in columns), columns[0] if columns else None)


def labelled(columns: Iterable[Hashable]) -> list[tuple[str, Hashable]]:
    """A menu's options for a frame's columns: each shown as text, its value the column's own label
    (a column labelled 2020 or 0 is not the column "2020" or "0").

    Parameters
    ----------
    columns : iterable of labels
    """
    return [(str(label), label) for label in columns]


def inside(output: w.Output, call: Callable[[], T]) -> T:
    """`call()`, with what it displays (a progress bar) going to `output`, and its error raised here.

    Under IPython, `Output.__exit__` shows an exception as a traceback in the output and swallows it,
    so the caller would never see the error; it is caught inside and raised again outside.

    Parameters
    ----------
    output : ipywidgets.Output
    call : callable
        Takes no argument.
    """
    failure: BaseException
    with output:
        try:
            return call()
        except BaseException as exc:  # raised again below, outside the Output
            failure = exc
    raise failure


def close_all(*roots: w.Widget) -> None:
    """Close each root and every widget it holds: its children and theirs, layouts, styles, and the widgets kept in
    its attributes though not shown. ipywidgets keeps every widget until it is closed, and with it whatever its
    callbacks reach (a panel, its index, the client's engine and its open files)."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        held = [getattr(widget, name, None) for name in widget.keys] + list(vars(widget).values())
        for value in held:
            items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else [value]
            stack.extend(item for item in items if isinstance(item, w.Widget))
        w.Widget.close(widget)


def weakly(method: Callable[..., Any]) -> Callable[..., None]:
    """A bound method as a callback that does not keep its object alive (it does nothing once that is gone): for
    plotly's FigureWidget, which anywidget keeps for the whole kernel, closed or not (manzt/anywidget#929)."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(*args)

    return call


class Panel(w.VBox):
    """A VBox with a message line and a busy state; the panels build on it and lay out their own widgets.

    Parameters
    ----------
    children : sequence of Widget
        The panel's widgets; the message line goes below them.
    **kwargs
        Passed to ipywidgets.VBox.
    """

    css_class = "vectorize-nb-panel"
    _said: tuple[str, str] | None = None  # what the running action said (text, kind)
    _created: str | None = None  # what the last Create made, until a new name is typed

    def __init__(self, children: Sequence[w.Widget] = (), **kwargs: Any) -> None:
        self.message = w.HTML(value="")
        self.message.add_class("vectorize-nb-message")
        super().__init__(children=[*children, self.message], **kwargs)
        self.add_class(self.css_class)

    def close(self) -> None:
        """Close the panel and every widget it made (see `close_all`): it is gone from the page, and once the
        notebook drops the panel and its client, so is the client's engine (its files and thread)."""
        close_all(self)

    def button(self, description: str, handler: Callable[[], None], *, style: str = "", tooltip: str = "",
               icon: str = "") -> w.Button:
        """A button whose click runs `handler` inside `busy()`: errors land in the message line.

        Parameters
        ----------
        description : str
            Its label; the button also gets the CSS class "vectorize-nb-<label>" for tests and styling.
        handler : callable
            Takes no argument.
        style : str, default ""
            An ipywidgets button style: "primary", "danger", "warning", ...
        tooltip : str, default: the description
        icon : str, default ""
            A Font Awesome icon name.
        """
        button = w.Button(description=description, button_style=style, tooltip=tooltip or description, icon=icon)
        button.add_class("vectorize-nb-" + description.lower().replace(" ", "-"))
        button.on_click(lambda _: self.attempt(handler))
        self._buttons.append(button)
        return button

    def decision(self, description: str, handler: Callable[[], None], *, style: str = "", css: str = "") -> w.Button:
        """A button for one decision (confirm a delete, write vectors again): its first click acts, later
        clicks do nothing, unless the action failed. A double click reaches the kernel as two clicks, the
        second after the first has run, so disabling the button alone would not stop it.

        Parameters
        ----------
        description : str
        handler : callable
            Takes no argument.
        style : str, default ""
            An ipywidgets button style.
        css : str, default ""
            A CSS class for tests and styling.
        """
        button = w.Button(description=description, button_style=style, tooltip=description)
        if css:
            button.add_class(css)

        def once(_: w.Button) -> None:
            if button.disabled:
                return
            button.disabled = True
            button.disabled = self.attempt(handler)  # a failed action can be tried again

        button.on_click(once)
        self._decisions.append(button)
        return button

    def withdraw(self) -> None:
        """Forget and close the buttons made by `decision` (their box was emptied)."""
        close_all(*self._decisions)
        self._decisions.clear()

    @property
    def _buttons(self) -> list[w.Button]:
        # made before the VBox is (a subclass builds its buttons first, then lays them out)
        buttons: list[w.Button] = self.__dict__.setdefault("_panel_buttons", [])
        return buttons

    @property
    def _decisions(self) -> list[w.Button]:
        decisions: list[w.Button] = self.__dict__.setdefault("_panel_decisions", [])
        return decisions

    def unnamed(self, hint: str) -> None:
        """A Create clicked with its name box empty: `hint`, unless it is a double click's second click (the
        first created, then cleared the box). Only the click right after a Create can be that second."""
        if self._created is None:
            self.say(hint, "note")
        self._created = None

    def say(self, text: str, kind: str = "info") -> None:
        """Show `text` in the message line (escaped).

        Parameters
        ----------
        text : str
        kind : {"info", "ok", "note", "error"}, default "info"
            Its colour, and the CSS class "vectorize-nb-<kind>".
        """
        self._said = (text, kind)
        colour = _STYLES[kind]
        self.message.value = (f'<span class="vectorize-nb-{kind}" style="color:{colour};overflow-wrap:anywhere">'
                              f'{html.escape(text)}</span>')  # a long name wraps, not widening the panel

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Buttons disabled while a call runs (so a second click cannot start a second call)."""
        buttons = [*self._buttons, *self._decisions]
        states = [button.disabled for button in buttons]
        for button in buttons:
            button.disabled = True
        try:
            yield
        finally:
            for button, state in zip(buttons, states):
                button.disabled = state

    def attempt(self, handler: Callable[[], None]) -> bool:
        """Run a handler; show what went wrong in the panel (never a traceback in the output area).

        The library's errors and bad input (ValueError, KeyError, TypeError) are shown as their
        message; anything else as an unexpected error, with the traceback in the log. The library's
        warnings raised meanwhile (`VectorizeWarning`) are added to the message as a note.

        Parameters
        ----------
        handler : callable
            Takes no argument.

        Returns
        -------
        bool
            Whether it ran without an error.
        """
        self._said = None
        with self.busy(), errors.heard_warnings() as warned:
            ok = self._run(handler)
        if warned:
            text, kind = self._said or ("", "note")
            self.say("; ".join([text, *warned] if text else warned), "error" if kind == "error" else "note")
        return ok

    def _run(self, handler: Callable[[], None]) -> bool:
        try:
            handler()
            return True
        except VectorizeError as exc:
            self.say(str(exc), "error")
            self._recover(exc)
        except (ValueError, KeyError, TypeError) as exc:  # bad input typed into the panel: said in its terms
            self.say(_worded(exc), "error")
        except Exception as exc:  # a bug: say so here, keep the traceback for the log
            log.exception("panel action failed")
            self.say(f"unexpected {type(exc).__name__}: {exc}", "error")
        return False

    def recover(self, error: VectorizeError) -> None:
        """Called after `error` is shown: a panel whose lists it shows stale (an index deleted elsewhere)
        reloads them here.

        Parameters
        ----------
        error : VectorizeError
        """

    def on_recover(self, callback: Callable[[VectorizeError], None]) -> None:
        """Call `callback` with each error the panel shows, after its own `recover` (the Workbench follows
        an index deleted elsewhere).

        Parameters
        ----------
        callback : callable
            Takes the error.
        """
        self.__dict__.setdefault("_panel_recoverers", []).append(callback)

    def _recover(self, error: VectorizeError) -> None:
        try:
            self.recover(error)
            for callback in self.__dict__.get("_panel_recoverers", []):
                callback(error)
        except VectorizeError:  # the error shown says enough; this one is for the log
            log.debug("could not reload the panel after %s", error, exc_info=True)


def _worded(exc: Exception) -> str:
    """Bad input's message; a KeyError that holds only the missing key (`KeyError(1)`) says what it is."""
    said = exc.args[0] if len(exc.args) == 1 else str(exc)
    if isinstance(exc, KeyError) and not (isinstance(said, str) and " " in said):
        return f"{said!r} not found (KeyError)"
    return said if isinstance(said, str) else str(exc)
