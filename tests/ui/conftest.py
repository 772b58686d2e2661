"""Real-browser tests: JupyterLab on 127.0.0.1, driven by Playwright with Debian's Chromium.

Without Chromium (or Playwright) the tests are skipped with the reason, unless
VECTORIZE_NB_REQUIRE_BROWSER=1 (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from ..helpers import browser_unavailable

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
BIN = Path(sys.executable).parent
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "ui"
KERNEL_READY = """() => { const s = window.jupyterapp?.shell?.currentWidget?.sessionContext;
  return !!(s && s.isReady && s.session?.kernel?.status === 'idle'); }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(url)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        browser_unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab server on a free port; yields (base URL, notebook folder)."""
    root = tmp_path_factory.mktemp("lab-root")
    settings = tmp_path_factory.mktemp("lab-settings")
    (settings / "overrides.json").write_text(json.dumps({
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/docmanager-extension:plugin": {"autosave": False}}), encoding="utf-8")
    port = _free_port()
    command = [str(BIN / "jupyter"), "lab", "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
               "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.app_settings_dir={settings}", f"--LabApp.workspaces_dir={settings}",
               "--LabApp.news_url=None", f"--ServerApp.root_dir={root}"]
    log = open(root.parent / "lab.log", "w", encoding="utf-8")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api", process)
        yield f"http://127.0.0.1:{port}", root
    finally:
        process.terminate()
        process.wait(30)
        log.close()


class Notebook:
    """A notebook written for one test (its code cells, or a copy of a notebook file), opened in JupyterLab
    and run top to bottom."""

    def __init__(self, browser, lab, cells: list[str] | Path, name: str) -> None:
        base, root = lab
        self.name = name
        path = root / f"{name}-{uuid.uuid4().hex[:6]}.ipynb"
        notebook = (nbformat.read(cells, as_version=4) if isinstance(cells, Path)
                    else nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells]))
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, path)
        self.page = browser.new_page(viewport={"width": 1400, "height": 1600})
        self.page.goto(f"{base}/lab/workspaces/{uuid.uuid4().hex[:8]}/tree/{path.name}?reset")
        self.page.wait_for_function(KERNEL_READY, timeout=120_000)
        self.page.evaluate("void window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.scope = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea"

    def locator(self, selector: str):
        return self.page.locator(f"{self.scope} {selector}")

    def cell(self, position: int, selector: str):
        """`selector` within the output of the notebook's cell at `position` (counting markdown cells)."""
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(position) \
            .locator(f".jp-OutputArea {selector}")

    def assert_rendered(self) -> None:
        body = self.page.inner_text("body")
        assert "Error displaying widget" not in body and "Loading widget" not in body

    def screenshot(self) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        target = OUTPUT / f"{self.name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def notebook(browser, lab, request):
    opened: list[Notebook] = []

    def open_notebook(cells: list[str] | Path) -> Notebook:
        opened.append(Notebook(browser, lab, cells, request.node.name))
        return opened[-1]

    yield open_notebook
    for page in opened:
        page.screenshot()
        page.close()
