"""Shared samples of the on-site component tests: the tiny scenario's layout and one library-only run."""

from __future__ import annotations

import pytest
from chain_helpers import run_library_chain, tiny_scenario

from ctasim.instrument.config import load_subarray


@pytest.fixture(scope="session")
def north():
    return load_subarray("north_alpha")


@pytest.fixture(scope="session")
def library_run(tmp_path_factory, north):
    """The tiny scenario through the ctasim.onsite components alone: (scenario, files, monitor)."""
    scenario = tiny_scenario(tmp_path_factory.mktemp("library_run"))
    files, monitor = run_library_chain(scenario, north)
    return scenario, files, monitor
