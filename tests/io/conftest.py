"""Fixtures for the I/O tests: a small real subarray (north_alpha: 4 LST + 9 MST)."""

import pytest

from ctasim.instrument.config import load_subarray


@pytest.fixture(scope="session")
def subarray():
    return load_subarray("north_alpha")
