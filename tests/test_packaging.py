"""CI's second run is on the oldest versions pyproject.toml allows, the build's setuptools included."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _floors(requirements: list[str]) -> dict[str, Version]:
    found = {}
    for text in requirements:
        requirement = Requirement(text)
        lowest = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
        if lowest:
            found[requirement.name] = lowest[0]
    return found


def test_the_floor_run_pins_the_lowest_version_of_each_core_server_and_build_requirement():
    """The floor named setuptools 69, which cannot read the SPDX `license`; isolated builds hid it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    floors = {**_floors(project["build-system"]["requires"]), **_floors(project["project"]["dependencies"]),
              **_floors(project["project"]["optional-dependencies"]["server"]),
              "pyarrow": _floors(project["project"]["optional-dependencies"]["notebooks"])["pyarrow"]}
    _assert_pinned(floors)
    assert "--no-build-isolation" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_floor_run_pins_the_lowest_version_of_plotly_and_umap_learn():
    """plotly 5.24, kaleido 1.2 and umap-learn 0.5.7 were allowed and failed, unseen: the floor run resolved every
    extra to its newest version. kaleido's floor conflicts with the core's orjson (see .ci/run)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    _assert_pinned({**_floors(extras["viz"]), **_floors(extras["umap"])})


def _assert_pinned(floors: dict[str, Version]) -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pins = {name: Version(version) for name, version in re.findall(r"\b([\w-]+)==([\d.]+)", run)}
    for name, floor in floors.items():
        assert name in pins, f"{name} (>={floor}) is not pinned in CI's floor run"
        assert pins[name].release[:len(floor.release)] == floor.release, f"{name}: pinned {pins[name]}, floor {floor}"


def test_the_sdist_ships_no_tests():
    """setuptools' default put the top-level tests/test*.py in the sdist without conftest.py, helpers.py or the
    subfolders: 14 errors at collection. The suite needs the repository (notebooks, .ci), as the wheel has none."""
    lines = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    assert "prune tests" in [line.strip() for line in lines]


def test_the_only_operating_system_claimed_is_the_one_ci_runs_on():
    """macOS and Windows are expected to work, untested (the README says how far): no classifier claims them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    systems = [c for c in project["project"]["classifiers"] if c.startswith("Operating System")]
    assert systems == ["Operating System :: POSIX :: Linux"]
    assert "Linux is the only system CI runs on" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_version_is_written_once_and_said_by_the_command_and_the_rest_client(capsys):
    import vectorize_nb
    from vectorize_nb.cli import main
    from vectorize_nb.version import __version__

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vectorize_nb.version.__version__"}
    assert vectorize_nb.__version__ == __version__ and Version(__version__)
    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert capsys.readouterr().out.strip() == f"vectorize-nb {__version__}"
    with vectorize_nb.connect("cloudflare", account_id="0" * 32, api_token="token") as client:
        assert client.backend.transport.session.headers["User-Agent"] == f"vectorize-nb/{__version__}"
