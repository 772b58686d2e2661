"""A figure rendered to PNG by kaleido and a real Chromium is a picture, not a blank page.

Skips, with the reason, when kaleido or a Chromium is missing; fails instead when
VECTORIZE_NB_REQUIRE_BROWSER=1 (CI sets it, so CI cannot go green without the browser).
"""

import struct
import zlib

import numpy as np
import pytest

from vectorize_nb.viz import plot_neighbourhood, to_png
from vectorize_nb.viz.export import find_browser
from vectorize_nb.extras import available, install_command

from ..helpers import REQUIRE_BROWSER, browser_unavailable

REQUIRE = REQUIRE_BROWSER


def browser_or_skip() -> None:
    missing = []
    if not available("kaleido"):
        missing.append(f"kaleido is not installed ({install_command('export')})")
    if find_browser() is None:
        missing.append("no Chrome or Chromium found (apt-get install chromium, or set BROWSER_PATH)")
    if not missing:
        return
    browser_unavailable("; ".join(missing))


def test_the_browser_check_skips_or_fails_as_asked(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    monkeypatch.delenv(REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chrome or Chromium found"):
        browser_or_skip()
    monkeypatch.setenv(REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE}=1 but no Chrome or Chromium found"):
        browser_or_skip()


@pytest.mark.slow
def test_a_neighbourhood_renders_to_a_png_with_a_picture_in_it(index, tmp_path):
    browser_or_skip()
    fig = plot_neighbourhood(index, [5.0, 5.0], top_k=12, filter={"genre": "drama"})
    png = to_png(fig, tmp_path / "neighbourhood.png", width=480, height=360)
    assert (tmp_path / "neighbourhood.png").read_bytes() == png
    pixels = decode_png(png)
    assert pixels.shape[:2] == (360, 480)
    grey = pixels[..., :3].mean(axis=2)
    assert grey.std() > 10  # not one flat colour
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50
    red, green, blue = (pixels[..., i].astype(int) for i in range(3))
    assert ((red > 180) & (green < 90) & (blue < 90)).sum() > 100  # the matches' red is drawn


@pytest.mark.slow
def test_a_png_grows_to_fit_a_long_legend_unless_given_a_height():
    """A map coloured by 30 categories cut its legend's last entries off a 600-pixel picture."""
    browser_or_skip()
    import plotly.graph_objects as go
    fig = go.Figure([go.Scatter(x=[i], y=[i], name=f"category-{i}", mode="markers") for i in range(30)])
    fig.add_scatter(x=[0], y=[0], name="role", legend="legend2")  # another legend's entry does not count
    assert decode_png(to_png(fig)).shape[:2] == (600 + 19 * 10, 900)
    assert decode_png(to_png(fig.to_dict())).shape[:2] == (790, 900)
    assert decode_png(to_png(fig, height=500)).shape[:2] == (500, 900)
    assert decode_png(to_png(go.Figure(fig.data[:5]))).shape[:2] == (600, 900)


# --- a small PNG decoder (8-bit, non-interlaced), so the test needs no imaging library ------------

def decode_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, {}
    idat = []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IDAT":
            idat.append(body)
        else:
            chunks[kind] = body
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0, (depth, interlace)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous, channels)
        rows.append(row)
        previous = row
    pixels = np.frombuffer(b"".join(rows), np.uint8).reshape(height, width, channels)
    return np.repeat(pixels, 3, axis=2) if channels == 1 else pixels


def _unfilter(kind: int, row: bytearray, up: bytearray, bpp: int) -> bytearray:
    if kind == 0:
        return row
    if kind == 2:
        return bytearray(((np.frombuffer(row, np.uint8).astype(np.uint16) + np.frombuffer(up, np.uint8)) & 255)
                         .astype(np.uint8).tobytes())
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        corner = up[i - bpp] if i >= bpp else 0
        if kind == 1:
            guess = left
        elif kind == 3:
            guess = (left + up[i]) >> 1
        else:
            guess = _paeth(left, up[i], corner)
        row[i] = (row[i] + guess) & 255
    return row


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c
