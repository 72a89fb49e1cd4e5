"""Angular and energy resolution tables: known answers and flagged bins."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.errors import CtasimError
from ctasim.irf.resolution import angular_resolution, energy_resolution


def events(n=100):
    offset = np.linspace(0.01, 1.0, n)
    return QTable({"true_energy": np.full(n, 1.0) * u.TeV, "reco_energy": np.full(n, 1.1) * u.TeV,
                   "true_alt": np.full(n, 70.0) * u.deg, "true_az": np.zeros(n) * u.deg,
                   "reco_alt": (70.0 + offset) * u.deg, "reco_az": np.zeros(n) * u.deg})


def test_containment_radius_and_bias_of_known_events():
    table = angular_resolution(events(), [0.5, 2.0, 4.0] * u.TeV)
    assert table["angular_resolution"][0].to_value(u.deg) == pytest.approx(np.quantile(np.linspace(0.01, 1, 100), 0.68))
    assert table["valid"].tolist() == [True, False] and np.isnan(table["angular_resolution"][1])
    table = energy_resolution(events(), [0.5, 2.0] * u.TeV)
    assert table["bias"][0] == pytest.approx(0.1) and table["resolution"][0] == pytest.approx(0.0, abs=1e-12)
    assert angular_resolution(events(), [1.05, 2.0] * u.TeV, energy="reco")["n_events"].tolist() == [100]


def test_empty_selection_and_bad_axis():
    with pytest.raises(CtasimError, match="empty selection"):
        energy_resolution(events()[:0], [0.5, 2.0] * u.TeV)
    with pytest.raises(CtasimError, match="'true' or 'reco'"):
        angular_resolution(events(), [0.5, 2.0] * u.TeV, energy="both")
