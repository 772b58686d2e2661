"""Static checks that run with the tests: ruff (pyflakes, pycodestyle, bugbear, pyupgrade rules)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.fail("ruff is missing: install the test extras (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", "--output-format", "concise", "."], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "vectorize_nb"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_public_surface_is_what_all_says():
    import vectorize_nb

    import types

    public = {name for name in dir(vectorize_nb) if not name.startswith("_")
              and not isinstance(getattr(vectorize_nb, name), types.ModuleType)}
    lazy = set(vectorize_nb._LAZY)
    assert public | lazy | {"errors"} == set(vectorize_nb.__all__)
    assert all(callable(getattr(vectorize_nb, name)) for name in lazy)  # extras load only when asked for


def test_modules_and_functions_stay_small():
    """No module over 500 lines, no function over 60 (docstring included): a reader sees one idea at a time."""
    import ast

    too_long = []
    for path in sorted((ROOT / "vectorize_nb").rglob("*.py")):
        source = path.read_text()
        name = str(path.relative_to(ROOT))
        if len(source.splitlines()) > 500:
            too_long.append(f"{name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 60:
                    too_long.append(f"{name}: {node.name}() is {length} lines")
    assert too_long == []
