"""Simulated samples shared by the simulator tests (module/session scoped: simulate once)."""

from __future__ import annotations

import pytest
from sim_helpers import LSTS, simulate

from ctasim.instrument.config import load_subarray
from ctasim.sim.source import Population


@pytest.fixture(scope="session")
def north():
    return load_subarray("north_alpha")


@pytest.fixture(scope="session")
def lst_gammas(north):
    """Point-like 0.5-2 TeV gammas at the LSTs, cores within 300 m."""
    pop = Population("gamma-1tev", "gamma", {"type": "power_law", "index": -1.0}, n_showers=400,
                     energy_min_tev=0.5, energy_max_tev=2.0, max_scatter_m=300.0)
    return simulate(north, pop, LSTS)


@pytest.fixture(scope="session")
def lst_protons(north):
    """Diffuse 1.5-6 TeV protons (3x the gamma energies: a third of the light) at the LSTs."""
    pop = Population("proton", "proton", {"type": "power_law", "index": -1.0}, n_showers=600,
                     energy_min_tev=1.5, energy_max_tev=6.0, max_scatter_m=300.0, viewcone_deg=2.0)
    return simulate(north, pop, LSTS)
