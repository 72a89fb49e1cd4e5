"""The house rules, read from the imports of every module (``ast``, nothing is imported):
processing never depends on the simulator, and the library never on Ray or the actor layer."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "ctasim"
#: packages that process data: they speak the data model and never see how it was simulated
PROCESSING = ("dl0", "image", "reco", "offline", "irf", "science", "datamodel", "io")
#: the command-line entry point starts the actor graph; nothing else in the library may
ENTRY_POINTS = {LIBRARY / "cli.py"}


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute names of every module ``path`` (below ``root``) imports, relative ones resolved."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_imports_are_resolved_to_absolute_names():
    names = imported_modules(LIBRARY / "offline" / "dl1.py")
    assert "ctasim.datamodel.paths" in names or "ctasim.datamodel" in names
    assert "ctasim.io.archive" in names


@pytest.mark.parametrize("package", PROCESSING)
def test_processing_never_imports_the_simulator(package):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(LIBRARY / package)
        for name in imported_modules(path)
        if name == "ctasim.sim" or name.startswith("ctasim.sim.")
    ]
    assert not offenders, "; ".join(offenders)


def test_library_never_imports_ray_or_actors():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(LIBRARY)
        if path not in ENTRY_POINTS
        for name in imported_modules(path)
        if name.split(".")[0] in ("ray", "actors")
    ]
    assert not offenders, "; ".join(offenders)


def test_the_rules_catch_a_violation(tmp_path):
    bad = tmp_path / "ctasim" / "image" / "probe.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from ..sim.blocks import ShowerBlock\nfrom . import cleaning\nimport ray.util\n")
    names = imported_modules(bad, tmp_path)
    assert {"ctasim.sim.blocks", "ctasim.image.cleaning", "ray.util"} <= names


def test_the_real_time_analysis_never_imports_the_simulator():
    """The real-time analysis, its fast DL2 and the hadron pre-rejection see DL0 only."""
    for module in ("realtime.py", "fast_reco.py", "prerejection.py"):
        names = imported_modules(LIBRARY / "onsite" / module)
        assert not [n for n in names if n == "ctasim.sim" or n.startswith("ctasim.sim.")], module
    names = imported_modules(LIBRARY / "onsite" / "fast_reco.py")
    assert "ctasim.image" in names or any(n.startswith("ctasim.image") for n in names)
