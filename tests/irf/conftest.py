"""Fixtures of the IRF tests: the toy populations, built once per session."""

import pytest
from irf_helpers import toy_tables


@pytest.fixture(scope="session")
def toy():
    """name -> (DL2 rows, distribution row, SimulationInfo, weighted event table)."""
    return toy_tables()
