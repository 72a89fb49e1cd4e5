"""Shared fixtures: location of ../shared reference data (tests needing it skip when absent)."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE_DATA = SHARED / "reference-data"


@pytest.fixture(scope="session")
def reference_data() -> Path:
    if not REFERENCE_DATA.is_dir():
        pytest.skip("../shared/reference-data not available")
    return REFERENCE_DATA
