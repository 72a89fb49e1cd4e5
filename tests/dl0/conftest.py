"""Shared fixtures for the DL0 tests: telescope types, the north array, synthetic and simulated R1 blocks."""

import numpy as np
import pytest

from ctasim.dl0.testing import synthetic_r1, toy_images
from ctasim.instrument.config import load_subarray, load_telescope_types


@pytest.fixture(scope="session")
def telescope_types():
    return load_telescope_types()


@pytest.fixture(scope="session")
def lst(telescope_types):
    return telescope_types["LST_LST_LSTCam"]


@pytest.fixture(scope="session")
def north():
    return load_subarray("north_alpha")


@pytest.fixture(scope="session")
def lst_block(north):
    """60 toy LST events of 50-5000 p.e. with their injected charges and times."""
    tel_id = int(north.tel_ids_of_type("LST_LST_LSTCam")[0])
    tel = north.tel(tel_id)
    rng = np.random.default_rng(11)
    charge, times = toy_images(tel, 60, rng)
    return synthetic_r1(tel, charge, times, rng, tel_id=tel_id), charge, times


@pytest.fixture(scope="session")
def simulated_events(north):
    """Simulated R1 events (TelescopeEvents) of one LST (tel 1) and one NectarCam (tel 5): 150 gamma
    showers of 0.05-50 TeV within 400 m, NSB and electronics as in a run."""
    from ctasim.sim.camera_sim import TelescopeSimulator
    from ctasim.sim.source import Population, ShowerSource

    pop = Population("gamma", "gamma", n_showers=150, energy_min_tev=0.05, energy_max_tev=50.0, max_scatter_m=400.0)
    source = ShowerSource(pop, north, 70.0, 0.0, 1, 150)
    return TelescopeSimulator(north, [1, 5], 70.0, 0.0, 1).simulate(source.block(0))
