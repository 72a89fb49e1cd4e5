"""Background rate: weighted counts per MeV, sr and s, known answers and bad input."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.errors import CtasimError
from ctasim.irf.background import background_2d
from ctasim.spectra import cone_solid_angle


def events(n=4):
    return QTable({"reco_energy": [2.0] * n * u.TeV, "reco_source_fov_offset": [0.5] * n * u.deg,
                   "weight": np.full(n, 2.5)})


def test_background_rate_of_known_events():
    rate = background_2d(events(), [1.0, 3.0, 10.0] * u.TeV, [0.0, 1.0, 2.0] * u.deg, 100 * u.s)
    assert rate.unit == u.Unit("1 / (s MeV sr)")
    expected = 4 * 2.5 / (2.0e6 * cone_solid_angle(1.0) * 100.0)  # 10 events, 2 TeV wide, 0-1 deg, 100 s
    assert rate[0, 0].value == pytest.approx(expected, rel=1e-12)
    assert rate.value.sum() == pytest.approx(expected)


def test_bad_input():
    bins = ([1.0, 3.0] * u.TeV, [0.0, 1.0] * u.deg)
    with pytest.raises(CtasimError, match="livetime"):
        background_2d(events(), *bins, 0 * u.s)
    with pytest.raises(CtasimError, match="empty selection"):
        background_2d(events(0), *bins, 1 * u.h)
    with pytest.raises(CtasimError, match=r"lacks column.*weight"):
        background_2d(events()["reco_energy", "reco_source_fov_offset"], *bins, 1 * u.h)
