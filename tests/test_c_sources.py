"""The compiled parts build on every compiler users have: gcc and clang (macOS) here, and MSVC (Windows)
as far as its preprocessor's view of the kernels can be checked here. setup.py makes the extensions
optional, so a compiler that rejects them would leave the slow paths in place without a word."""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "vectorize_nb" / "_packing.c", ROOT / "vectorize_nb" / "local" / "_kernels.c"]
KERNELS = SOURCES[1]


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_the_c_sources_compile_as_strict_c11_without_a_warning(compiler, source):
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    command = [compiler, "-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only",
               f"-I{sysconfig.get_paths()['include']}", str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def msvc_view(tmp_path: Path, architecture: str) -> str:
    """The kernels' own code as MSVC's preprocessor expands it (headers stubbed out: only their code is
    read), through whichever C compiler is here, with the GNU and clang macros taken away."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("no C compiler to preprocess with")
    for header in ("Python.h", "stdint.h", "string.h", "xmmintrin.h"):
        (tmp_path / header).touch()
    command = [compiler, "-E", "-P", "-nostdinc", f"-I{tmp_path}", "-U__GNUC__", "-U__clang__",
               "-D_MSC_VER=1930", f"-D{architecture}", str(KERNELS)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("architecture, prefetches", [("_M_X64", True), ("_M_ARM64", False)])
def test_msvc_sees_no_gnu_builtin_nor_c99_restrict_in_the_kernels(tmp_path, architecture, prefetches):
    code = msvc_view(tmp_path, architecture)
    assert "__builtin_" not in code and "__attribute__" not in code
    assert not re.search(r"\brestrict\b", code)  # a keyword only in MSVC's /std:c11 mode, which setuptools does not set
    assert "dot(const float *__restrict row" in code
    assert ("_mm_prefetch(" in code) is prefetches  # SSE's prefetch on x86; none elsewhere
