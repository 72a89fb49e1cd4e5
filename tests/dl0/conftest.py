"""Shared fixtures for the DL0 tests: telescope types, the north array and synthetic R1 blocks."""

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
