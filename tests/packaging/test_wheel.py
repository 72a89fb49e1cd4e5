"""A wheel built from the repository works on its own: installed into a fresh venv, run from
another directory, it finds its layouts and telescope types and validates a copied scenario."""

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding the wheel (dependencies from this interpreter's site)."""
    root = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(REPO)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (root / "dist").glob("ctasim-*.whl")
    venv.create(root / "venv", system_site_packages=True, with_pip=True)
    bin_dir = root / "venv" / "bin"
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr
    return bin_dir


def run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([str(bin_dir / "ctasim"), *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_wheel_is_used_not_the_source_tree(installed, tmp_path):
    code = "import ctasim, actors; print(ctasim.__file__, actors.__file__)"
    out = subprocess.run([str(installed / "python"), "-c", code],
                         cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert str(REPO) not in out.stdout
    assert str(installed.parent) in out.stdout


def test_layouts_and_validate_from_another_directory(installed, tmp_path):
    layouts = run(installed, tmp_path, "layouts")
    assert layouts.returncode == 0, layouts.stderr
    names = [line.split()[0] for line in layouts.stdout.splitlines()]
    assert names == ["north_alpha", "north_omega", "south_alpha", "south_omega"]
    assert "13 telescopes (LST 4, MST 9)" in layouts.stdout.splitlines()[0]

    scenario = tmp_path / "my_scenario.yaml"
    shutil.copy(REPO / "scenarios" / "quickstart.yaml", scenario)
    valid = run(installed, tmp_path, "validate", scenario.name)
    assert valid.returncode == 0, valid.stderr
    assert "valid scenario 'quickstart'" in valid.stdout

    # a user's own layout file still works, next to the scenario
    shutil.copy(REPO / "configs" / "layouts" / "north_alpha.yaml", tmp_path / "mine.yaml")
    scenario.write_text(scenario.read_text().replace("layout: north_alpha", "layout: mine.yaml"))
    assert "layout: mine.yaml" in scenario.read_text()
    assert run(installed, tmp_path, "validate", scenario.name).returncode == 0
    scenario.write_text(scenario.read_text().replace("layout: mine.yaml", "layout: nowhere.yaml"))
    bad = run(installed, tmp_path, "validate", scenario.name)
    assert bad.returncode == 2
    assert "array.layout" in bad.stderr and "north_alpha" in bad.stderr
