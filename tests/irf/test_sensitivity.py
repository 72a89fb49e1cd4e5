"""Li & Ma significance and the differential sensitivity: each criterion in isolation."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.errors import CtasimError
from ctasim.irf.sensitivity import CRAB, differential_sensitivity, li_ma_significance, relative_sensitivity

BINS = [0.5, 2.0, 8.0] * u.TeV


def test_li_ma_known_values():
    # 100 on, 200 off, alpha 0.2: sqrt(2 (100 ln 2 + 200 ln 0.8)), worked by hand
    assert li_ma_significance(100, 200, 0.2) == pytest.approx(7.026522296720129, rel=1e-12)
    assert li_ma_significance([40, 30, 0], [200, 200, 0], 0.2).tolist() == [0.0, 0.0, 0.0]  # no excess
    # no background: sqrt(2 n_on ln((1 + alpha) / alpha))
    assert li_ma_significance(10, 0, 0.2) == pytest.approx(np.sqrt(20 * np.log(6)), rel=1e-12)


def test_relative_sensitivity_meets_each_criterion_exactly():
    # background large enough for the significance to decide, small enough for the 5% rule not to
    r = relative_sensitivity(50.0, 1000.0)
    assert li_ma_significance(r * 50 + 0.2 * 1000, 1000) == pytest.approx(5.0, rel=1e-9)
    # almost no background: 10 excess events decide
    assert relative_sensitivity(200.0, 0.1) * 200 == pytest.approx(10.0, rel=1e-12)
    # huge background: the excess must be 5% of it
    assert relative_sensitivity(1000.0, 1e8) * 1000 == pytest.approx(0.05 * 0.2 * 1e8, rel=1e-12)
    assert np.isnan(relative_sensitivity(0.0, 10.0))


def events(n_signal=100, n_background=2000):
    rng = np.random.default_rng(3)
    signal = QTable({"reco_energy": np.repeat([1.0, 4.0], n_signal // 2) * u.TeV, "weight": np.full(n_signal, 0.5)})
    background = QTable({"reco_energy": np.repeat([1.0, 4.0], n_background // 2) * u.TeV,
                         "reco_source_fov_offset": rng.uniform(0, 1.5, n_background) * u.deg,
                         "weight": np.full(n_background, 3.0)})
    theta = QTable({"low": BINS[:-1], "high": BINS[1:], "cut": [0.2, 0.1] * u.deg})
    return signal, background, theta


def test_differential_sensitivity_of_known_counts():
    signal, background, theta = events()
    table = differential_sensitivity(signal, background, BINS, theta)
    assert table["n_signal_weighted"].tolist() == [25.0, 25.0]
    in_ring = background["reco_source_fov_offset"] < 1 * u.deg
    ring = 2 * np.pi * (1 - np.cos(np.deg2rad(1.0)))
    on = 2 * np.pi * (1 - np.cos(np.deg2rad([0.2, 0.1])))
    n_ring = [np.sum(in_ring & (background["reco_energy"] == e * u.TeV)) for e in (1.0, 4.0)]
    assert table["n_background"].tolist() == n_ring
    expected_off = 3.0 * np.array(n_ring) * on / ring / 0.2
    assert np.asarray(table["n_background_weighted"]) == pytest.approx(expected_off, rel=1e-12)
    relative = relative_sensitivity(25.0, expected_off)
    assert np.asarray(table["relative_sensitivity"]) == pytest.approx(relative, rel=1e-12)
    assert np.all(np.asarray(table["significance"]) >= 5.0 - 1e-9)
    center = np.sqrt(BINS[:-1] * BINS[1:])
    e2f = (relative * CRAB(center.value) * CRAB.unit * center**2).to_value(u.erg / u.cm**2 / u.s)
    assert table["energy_flux_sensitivity"].to_value(u.erg / u.cm**2 / u.s) == pytest.approx(e2f, rel=1e-12)
    assert table["valid"].all()


def test_bins_without_signal_are_flagged_and_empty_selections_refused():
    signal, background, theta = events()
    table = differential_sensitivity(signal[:50], background, BINS, theta)
    assert table["valid"].tolist() == [True, False] and np.isnan(table["relative_sensitivity"][1])
    with pytest.raises(CtasimError, match="no signal events"):
        differential_sensitivity(signal[:0], background, BINS, theta)
    with pytest.raises(CtasimError, match="no background events"):
        differential_sensitivity(signal, background[:0], BINS, theta)
    with pytest.raises(CtasimError, match="do not cover"):
        differential_sensitivity(signal, background, [0.5, 2.0, 8.0, 20.0] * u.TeV, theta)
