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
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        if len(source.splitlines()) > 500:
            too_long.append(f"{name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 60:
                    too_long.append(f"{name}: {node.name}() is {length} lines")
    assert too_long == []


def _unencoded_text_files(tree):
    """Lines of calls that read or write a text file in the system's encoding (no `encoding=`)."""
    import ast

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or "encoding" in {keyword.arg for keyword in node.keywords}:
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("read_text", "write_text"):
            yield node.lineno
        elif (isinstance(func, ast.Name) and func.id == "open") or (
                isinstance(func, ast.Attribute) and func.attr == "fdopen"):
            mode = node.args[1] if len(node.args) > 1 else next(
                (keyword.value for keyword in node.keywords if keyword.arg == "mode"), None)
            if not (isinstance(mode, ast.Constant) and "b" in str(mode.value)):
                yield node.lineno


def test_text_files_are_read_and_written_as_utf8():
    """Without `encoding=` a text file is in the system's encoding: cp1252 on most Windows machines,
    which corrupts non-ASCII metadata, names and paths, or cannot read what Linux wrote."""
    import ast

    found = [f"{path.relative_to(ROOT)}:{line}"
             for folder in ("vectorize_nb", "tools", "examples", "benchmarks", "tests")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for line in _unencoded_text_files(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == []
