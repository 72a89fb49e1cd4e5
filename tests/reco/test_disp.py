"""The disp direction: the source position along each image axis, its stereo side, the event mean."""

import numpy as np
import pytest

from ctasim.instrument.config import load_subarray
from ctasim.instrument.frames import altaz_to_telescope, telescope_to_altaz
from ctasim.reco.disp import DispRegressor, along_axis, disp_direction
from ctasim.reco.metrics import angular_separation_deg
from ctasim.reco.models import _truth_per_row, telescope_features
from ctasim.reco.stereo import reconstruct_stereo
from ctasim.reco.toy import toy_events


@pytest.fixture(scope="module")
def sample():
    subarray = load_subarray("north_alpha")
    table, truth = toy_events(subarray, 600, seed=5, cog_noise_deg=0.0, psi_noise_deg=0.0)
    stereo = reconstruct_stereo(table, subarray, 70.0, 0.0)
    return table, truth, stereo, telescope_features(table, stereo, subarray)


def test_along_axis_is_the_signed_projection_on_the_image_axis(sample):
    *_, features = sample
    c = features.columns
    k = np.flatnonzero(features.selected)[:5]
    psi = np.deg2rad(c["hillas_psi"][k])
    lon = c["hillas_fov_lon"][k] + 0.4 * np.cos(psi) - 0.1 * np.sin(psi)   # 0.4 along, 0.1 across
    lat = c["hillas_fov_lat"][k] + 0.4 * np.sin(psi) + 0.1 * np.cos(psi)
    alt, az = telescope_to_altaz(lon, lat, 70.0, 0.0)
    full_alt, full_az = np.zeros(features.selected.size), np.zeros(features.selected.size)
    full_alt[k], full_az[k] = alt, az
    np.testing.assert_allclose(along_axis(features, full_alt, full_az)[k], 0.4, atol=1e-3)
    back_lon, back_lat = altaz_to_telescope(alt, az, 70.0, 0.0)
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)


def test_true_disp_gives_the_true_direction(sample):
    _, truth, stereo, features = sample
    true_disp = np.abs(along_axis(features, _truth_per_row(features, truth, "true_alt"),
                                  _truth_per_row(features, truth, "true_az")))
    alt, az, signed = disp_direction(features, stereo, true_disp)
    ok = stereo.is_valid
    assert ok.mean() > 0.8 and np.isfinite(alt[ok]).all()
    rows = truth[np.searchsorted(truth["event_id"], stereo.event_id)]
    miss = angular_separation_deg(alt[ok], az[ok], rows["true_alt"][ok], rows["true_az"][ok])
    # noiseless toy images point exactly at the source: only the flat mean of telescope-frame
    # offsets (1e-4 deg at 1 deg) or a wrong side (head-tail) can miss
    assert np.median(miss) < 1e-3
    assert (miss > 0.01).mean() < 0.05
    assert np.isnan(signed[~features.selected]).all()


def test_learned_disp_explains_the_spread(sample):
    _, truth, _, features = sample
    model = DispRegressor(n_estimators=60).fit(features, truth, "toy seed 5")
    predicted = model.predict_telescope(features)
    true_disp = np.abs(along_axis(features, _truth_per_row(features, truth, "true_alt"),
                                  _truth_per_row(features, truth, "true_az")))
    sel = features.selected
    assert np.isfinite(predicted[sel]).all() and np.isnan(predicted[~sel]).all()
    # the regression explains most of the spread of |disp|
    assert np.mean((predicted[sel] - true_disp[sel]) ** 2) < 0.3 * np.var(true_disp[sel])
