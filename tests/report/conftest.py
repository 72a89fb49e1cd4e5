"""Fixtures of the report tests: the hand-made run of ``handmade_run.py`` and its summary."""

import copy

import pytest
from handmade_run import RATE_HZ, SCENARIO, handmade_accounting, handmade_rates

from ctasim.instrument.config import load_subarray
from ctasim.rates import BudgetAssumptions


@pytest.fixture(scope="session")
def subarray():
    return load_subarray("north_alpha")


@pytest.fixture(scope="session")
def summary_base(subarray):
    """The hand-made run's summary, built once; tests that change it use ``summary``."""
    from ctasim.report.summary import build_summary

    return build_summary(
        SCENARIO,
        handmade_accounting(),
        handmade_rates(),
        {"camera": 1.5, "archiver": 0.5},
        n_blocks=4,
        files=["dl0/a.dl0.h5"],
        wall_seconds=10.0,
        backend="local",
        subarray=subarray,
        assumptions=BudgetAssumptions(array_trigger_rate_hz=RATE_HZ),
    )


@pytest.fixture
def summary(summary_base):
    return copy.deepcopy(summary_base)
