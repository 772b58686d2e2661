"""Figures as PNG files, for reports and tests: kaleido driving a Chrome-family browser.

kaleido >= 1 starts a headless Chrome or Chromium for every image (about 2-3 s). Where there is no
internet but a package manager, install the system's browser (Debian: `apt-get install chromium`);
kaleido finds it, or set BROWSER_PATH to it. Text in Chinese, Japanese, Korean or emoji is drawn with
the system's fonts: without ones that hold it (Debian: fonts-noto-cjk, fonts-noto-color-emoji) a PNG
shows empty boxes where a notebook, with the browser's own fonts, shows the text.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..extras import require

__all__ = ["to_png", "find_browser", "BROWSERS"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
HEIGHT = 600
"""A PNG's height unless told, for a legend of up to LEGEND_FITS entries (plotly's legend rows are 19 px)."""
LEGEND_FITS = 20
LEGEND_ROW = 19


def find_browser() -> str | None:
    """The browser kaleido will use: $BROWSER_PATH, else the first of BROWSERS on the PATH.

    Returns
    -------
    str or None
        Its path, or None when there is none.
    """
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def to_png(fig: Any, path: str | os.PathLike[str] | None = None, *, width: int = 900, height: int | None = None,
           scale: float = 1.0) -> bytes:
    """A figure as PNG bytes, rendered by kaleido with the system's Chrome or Chromium.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure or dict
        Any figure (those of this package, or your own).
    path : str or PathLike, optional
        Also write the PNG there.
    width, height : int, default 900 and 600
        The size in CSS pixels. Left out, the height grows past 600 to fit a legend of more than 20 entries,
        which a browser scrolls but a picture would cut.
    scale : float, default 1.0
        Pixels per CSS pixel (2 for a sharp picture on a high-density screen).

    Returns
    -------
    bytes

    Raises
    ------
    ImportError
        kaleido is missing (install the `export` extra).
    TypeError
        `fig` is not a figure.
    RuntimeError
        No Chrome or Chromium was found.

    Examples
    --------
    >>> to_png(plot_index(idx, color="label"), "map.png", scale=2)
    b'\\x89PNG\\r\\n...'
    """
    if not isinstance(fig, (dict, require("plotly.basedatatypes", "drawing figures").BaseFigure)):
        raise TypeError(f"to_png renders a plotly figure (or its dict), got {type(fig).__name__} {fig!r:.40}")
    pio = require("plotly.io", "exporting figures to PNG")
    require("kaleido", "exporting figures to PNG")
    if find_browser() is None:
        raise RuntimeError("exporting figures to PNG needs Chrome or Chromium, and none was found: install one "
                           "(Debian/Ubuntu: apt-get install chromium) or set BROWSER_PATH to its executable")
    if height is None:
        height = HEIGHT + LEGEND_ROW * max(0, _legend_entries(fig) - LEGEND_FITS)
    png: bytes = pio.to_image(fig, format="png", width=width, height=height, scale=scale)
    if path is not None:
        Path(path).write_bytes(png)
    return png


def _legend_entries(fig: Any) -> int:
    """How many entries the figure's first legend lists (a trace's own, unless it says otherwise)."""
    traces = [trace if isinstance(trace, dict) else trace.to_plotly_json() for trace in fig["data"] or ()]
    return sum(1 for trace in traces
               if trace.get("showlegend") is not False and trace.get("legend") in (None, "legend"))
