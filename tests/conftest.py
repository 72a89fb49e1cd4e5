"""Shared fixtures: location of ../shared reference data (tests needing it skip when absent), an
embedded Ray per module; and the grouping of tests over pytest-xdist workers (``-n``, pyproject's
addopts): one worker runs every test that starts Ray (one Ray at a time on the machine), each test
directory with a conftest of its own stays on one worker (its session fixtures are made once), every
other module on one worker (its module fixtures are made once)."""

import os
from pathlib import Path

import pytest

# Ray 2.60 writes an auth token under ~/.ray unless told not to (REFERENCE.md)
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

TESTS = Path(__file__).resolve().parent
SHARED = TESTS.parents[1] / "shared"
REFERENCE_DATA = SHARED / "reference-data"


#: modules that start Ray (in the test process or in a `ctasim run` subprocess)
RAY_MODULES = {"test_restart.py", "test_cluster.py", "test_onsite_chain.py", "test_resume.py", "test_dl1_backend.py"}


def xdist_group(path: Path) -> str:
    """The pytest-xdist group of a test module (see the module docstring)."""
    if path.name in RAY_MODULES:
        return "ray"
    if path.parent != TESTS and (path.parent / "conftest.py").is_file():
        return path.parent.name
    return path.relative_to(TESTS).as_posix()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(Path(str(item.path)))))


@pytest.fixture(scope="session")
def reference_data() -> Path:
    if not REFERENCE_DATA.is_dir():
        pytest.skip("../shared/reference-data not available")
    return REFERENCE_DATA


@pytest.fixture(scope="module")
def ray_session():
    """An embedded Ray on 2 CPUs for one test module."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()
