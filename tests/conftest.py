"""Shared fixtures: location of ../shared reference data (tests needing it skip when absent)."""

import os
from pathlib import Path

import pytest

# Ray 2.60 writes an auth token under ~/.ray unless told not to (REFERENCE.md)
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE_DATA = SHARED / "reference-data"


@pytest.fixture(scope="session")
def reference_data() -> Path:
    if not REFERENCE_DATA.is_dir():
        pytest.skip("../shared/reference-data not available")
    return REFERENCE_DATA


@pytest.fixture(scope="module")
def ray_session():
    """An embedded Ray on 2 CPUs for one test module."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()
