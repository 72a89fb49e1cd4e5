"""Instrument realism of the telescope simulation: the PSF's growth off axis, the photodetector's
transit-time spread and the pixel gains left after flat-fielding."""

import dataclasses

import numpy as np
import pytest

from ctasim.instrument.config import load_telescope_types
from ctasim.sim.camera_sim import flat_field_gains, instrument_smearing

LST = load_telescope_types()["LST_LST_LSTCam"]


def test_the_psf_grows_with_the_field_angle_and_times_spread():
    n = 20_000
    focal = LST.optics.effective_focal_length
    for field_deg in (0.0, 1.0, 2.0):
        x = np.full(n, np.tan(np.deg2rad(field_deg)) * focal)
        _, cy, ct = instrument_smearing(LST, x, np.zeros(n), np.zeros(n), np.random.default_rng(1))
        # extra blur in quadrature with the on-axis PSF: psf_offaxis_deg_per_deg x field angle
        expected_deg = LST.optics.psf_offaxis_deg_per_deg * field_deg
        assert np.rad2deg(np.std(cy) / focal) == pytest.approx(expected_deg, rel=0.03, abs=1e-9)
        assert np.std(ct) == pytest.approx(LST.camera.readout.time_jitter_ns, rel=0.03)


def test_perfect_optics_and_photodetectors_change_nothing():
    optics = dataclasses.replace(LST.optics, psf_offaxis_deg_per_deg=0.0)
    readout = dataclasses.replace(LST.camera.readout, time_jitter_ns=0.0)
    tel = dataclasses.replace(LST, optics=optics, camera=dataclasses.replace(LST.camera, readout=readout))
    x, t = np.linspace(-1.0, 1.0, 100), np.linspace(0.0, 30.0, 100)
    cx, cy, ct = instrument_smearing(tel, x, x, t, np.random.default_rng(1))
    np.testing.assert_array_equal(cy, x)
    np.testing.assert_array_equal(cx, x)
    np.testing.assert_array_equal(ct, t)


def test_flat_field_residuals_are_fixed_per_telescope():
    residual = LST.camera.readout.flat_field_residual
    a, b = flat_field_gains(LST.camera, 7, 1), flat_field_gains(LST.camera, 7, 2)
    np.testing.assert_array_equal(a, flat_field_gains(LST.camera, 7, 1))   # same seed and telescope
    assert not np.array_equal(a, b)
    assert np.mean(a) == pytest.approx(1.0, abs=3 * residual / np.sqrt(a.size))
    assert np.std(a) == pytest.approx(residual, rel=0.1)
