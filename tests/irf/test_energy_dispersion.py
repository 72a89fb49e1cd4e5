"""Energy dispersion: a normalised probability density in migration, known answers."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.errors import CtasimError
from ctasim.irf.energy_dispersion import energy_dispersion

E_BINS = [0.1, 1.0, 10.0] * u.TeV
MIGRA = np.array([0.5, 0.9, 1.0, 1.1, 2.0])
OFFSET = [0.0, 1.0, 2.0] * u.deg


def events(true, reco, offset):
    return QTable({"true_energy": np.asarray(true) * u.TeV, "reco_energy": np.asarray(reco) * u.TeV,
                   "true_source_fov_offset": np.asarray(offset) * u.deg})


def test_migration_density_of_known_events():
    # bin (0.1-1 TeV, 0-1 deg): 3 events at mu = 1.05, 1 at mu = 0.95
    table = events([0.5] * 4 + [5.0], [0.525] * 3 + [0.475] + [5.0], [0.2] * 4 + [1.5])
    edisp = energy_dispersion(table, E_BINS, MIGRA, OFFSET)
    assert edisp.shape == (2, 4, 2)
    assert edisp[0, :, 0] == pytest.approx([0.0, 0.25 / 0.1, 0.75 / 0.1, 0.0])
    assert edisp[1, :, 1] == pytest.approx([0.0, 0.0, 1.0 / 0.1, 0.0])  # mu = 1 sits in [1.0, 1.1)
    assert edisp[0, :, 1].sum() == 0.0 and edisp[1, :, 0].sum() == 0.0
    assert np.sum(edisp[0, :, 0] * np.diff(MIGRA)) == pytest.approx(1.0)


def test_events_migrating_out_of_the_range_lower_the_integral():
    table = events([0.5] * 4, [0.525, 0.525, 0.525, 5.0], [0.2] * 4)
    edisp = energy_dispersion(table, E_BINS, MIGRA, OFFSET)
    assert np.sum(edisp[0, :, 0] * np.diff(MIGRA)) == pytest.approx(0.75)


def test_bad_input():
    with pytest.raises(CtasimError, match="empty selection"):
        energy_dispersion(events([], [], []), E_BINS, MIGRA, OFFSET)
    with pytest.raises(CtasimError, match="migration bins"):
        energy_dispersion(events([1.0], [1.0], [0.1]), E_BINS, MIGRA[::-1], OFFSET)
