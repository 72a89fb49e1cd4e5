"""PSF table: probability per solid angle of theta, known answers."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.errors import CtasimError
from ctasim.irf.psf import psf_table
from ctasim.spectra import cone_solid_angle


def test_psf_density_per_steradian():
    table = QTable({"true_energy": [1.0] * 4 * u.TeV, "true_source_fov_offset": [0.1] * 4 * u.deg,
                    "theta": [0.05, 0.05, 0.15, 0.5] * u.deg})
    rad = [0.0, 0.1, 0.2, 0.3] * u.deg
    psf = psf_table(table, [0.5, 2.0] * u.TeV, [0.0, 1.0] * u.deg, rad)
    assert psf.unit == 1 / u.sr and psf.shape == (1, 1, 3)
    omega = np.diff(cone_solid_angle(rad.value))
    # the event at 0.5 deg lies beyond the table: the integral over solid angle is 3 / 4
    assert psf[0, 0].value == pytest.approx([0.5 / omega[0], 0.25 / omega[1], 0.0])
    assert np.sum(psf[0, 0].value * omega) == pytest.approx(0.75)


def test_empty_selection():
    empty = QTable({"true_energy": [] * u.TeV, "true_source_fov_offset": [] * u.deg, "theta": [] * u.deg})
    with pytest.raises(CtasimError, match="empty selection"):
        psf_table(empty, [0.5, 2.0] * u.TeV, [0.0, 1.0] * u.deg, [0, 0.1] * u.deg)
