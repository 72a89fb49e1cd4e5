"""Cuts per reconstructed-energy bin: percentiles, clipping, fill values, RAD_MAX, optimisation."""

import itertools
import operator

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.errors import CtasimError
from ctasim.irf import cuts
from ctasim.irf.sensitivity import differential_sensitivity

BINS = [0.1, 1.0, 10.0, 100.0] * u.TeV


def test_percentile_cut_is_numpys_percentile_per_bin():
    rng = np.random.default_rng(1)
    energy = 10 ** rng.uniform(-1, 1.5, 5000) * u.TeV
    values = rng.normal(size=5000)
    table = cuts.percentile_cut(values, energy, BINS, [20.0, 68.0], fill_value=-99.0, min_events=10)
    for b, (lo, hi) in enumerate(itertools.pairwise(BINS)):
        in_bin = (energy >= lo) & (energy < hi)
        assert table["n_events"][b] == in_bin.sum()
        assert table["cut"][b] == pytest.approx(np.percentile(values[in_bin], [20.0, 68.0]), rel=1e-12)
    assert table["valid"].all()
    assert table["center"][0].to_value(u.TeV) == pytest.approx(np.sqrt(0.1))


def test_theta_cut_is_clipped_and_filled():
    # bin 1: theta 0.01 deg (clipped up to the minimum); bin 2: 0.6 deg (clipped down); bin 3: empty
    events = QTable({"theta": np.repeat([0.01, 0.6], 20) * u.deg, "reco_energy": np.repeat([0.5, 5.0], 20) * u.TeV})
    table = cuts.theta_cut(events, BINS, containment=68.0, min_value=0.05 * u.deg, max_value=0.3 * u.deg)
    assert table["cut"].to_value(u.deg).tolist() == pytest.approx([0.05, 0.3, 0.3])
    assert table["valid"].tolist() == [True, True, False]
    assert cuts.rad_max(table, [0, 1, 2] * u.deg).shape == (3, 2)


def test_gammaness_cut_keeps_the_efficiency_and_nothing_where_unknown():
    rng = np.random.default_rng(2)
    events = QTable({"gammaness": rng.random(10_000), "reco_energy": 10 ** rng.uniform(-1, 1, 10_000) * u.TeV})
    table = cuts.gammaness_cut(events, BINS, efficiency=0.7)
    keep = cuts.evaluate_cut(events["gammaness"], events["reco_energy"], table, operator.ge)
    assert keep.mean() == pytest.approx(0.7, abs=1e-3)
    assert np.isinf(table["cut"][2]) and not table["valid"][2]
    outside = cuts.evaluate_cut([1.0], [500.0] * u.TeV, table, operator.ge)
    assert not outside.any()


def test_bad_cut_inputs():
    empty = QTable({"gammaness": [], "reco_energy": [] * u.TeV})
    with pytest.raises(CtasimError, match="empty selection"):
        cuts.gammaness_cut(empty, BINS, 0.5)
    with pytest.raises(CtasimError, match="efficiency"):
        cuts.gammaness_cut(QTable({"gammaness": [0.5], "reco_energy": [1.0] * u.TeV}), BINS, 1.5)
    with pytest.raises(CtasimError, match="lacks column"):
        cuts.theta_cut(empty, BINS)


@pytest.fixture()
def scan(toy):
    """Toy gammas and protons, five energy bins, their 68 % theta cuts, three gamma efficiencies."""
    signal = toy["gamma"][3]
    bins = np.geomspace(0.1, 10.0, 6) * u.TeV
    return signal, toy["proton"][3], bins, cuts.theta_cut(signal, bins), np.array([0.3, 0.6, 0.9])


def _scanned_sensitivity(signal, background, bins, theta, efficiencies) -> np.ndarray:
    """Relative sensitivity (efficiency, bin) of each fixed-efficiency gammaness cut."""
    in_theta = cuts.evaluate_cut(signal["theta"], signal["reco_energy"], theta, operator.le)
    scanned = []
    for efficiency in efficiencies:
        gh = cuts.gammaness_cut(signal, bins, efficiency)
        s_pass = in_theta & cuts.evaluate_cut(signal["gammaness"], signal["reco_energy"], gh, operator.ge)
        b_pass = cuts.evaluate_cut(background["gammaness"], background["reco_energy"], gh, operator.ge)
        table = differential_sensitivity(signal[s_pass], background[b_pass], bins, theta)
        scanned.append(table["relative_sensitivity"])
    return np.array(scanned)


def test_optimised_cut_is_the_best_of_the_scanned_efficiencies(scan):
    signal, background, bins, theta, efficiencies = scan
    best, sensitivity = cuts.optimise_gammaness_cut(signal, background, bins, theta, efficiencies)
    assert best["valid"].all()
    scanned = _scanned_sensitivity(signal, background, bins, theta, efficiencies)
    assert np.asarray(sensitivity["relative_sensitivity"]) == pytest.approx(scanned.min(axis=0), rel=1e-9)
    assert best["efficiency"].tolist() == efficiencies[scanned.argmin(axis=0)].tolist()


def test_optimisation_needs_background_events_behind_the_cut(scan):
    signal, background, bins, theta, efficiencies = scan
    free, _ = cuts.optimise_gammaness_cut(signal, background, bins, theta, efficiencies)
    # the raw background events left in the ring by each scanned cut, per bin
    in_ring = background["reco_source_fov_offset"] < 1.0 * u.deg
    idx = np.searchsorted(bins.to_value(u.TeV), background["reco_energy"].to_value(u.TeV)) - 1
    raw = []
    for efficiency in efficiencies:
        gh = cuts.gammaness_cut(signal, bins, efficiency)
        keep = in_ring & cuts.evaluate_cut(background["gammaness"], background["reco_energy"], gh, operator.ge)
        raw.append(np.bincount(idx[keep & (idx >= 0) & (idx < 5)], minlength=5))
    raw = np.array(raw).T                                   # (bin, efficiency)
    need = int(np.median(raw)) + 1                          # some cuts in some bins fall below it
    guarded, _ = cuts.optimise_gammaness_cut(signal, background, bins, theta, efficiencies,
                                             min_background_events=need)
    for b in range(5):
        chosen = list(efficiencies).index(guarded["efficiency"][b])
        if (raw[b] >= need).any():
            assert raw[b, chosen] >= need                    # only cuts with enough events compete
        else:
            assert guarded["efficiency"][b] == efficiencies.max()   # else the loosest
    assert (raw < need).any()                                # the guard had something to refuse
    for b in range(5):   # where the free choice had enough events behind it, the guard keeps it
        if raw[b, list(efficiencies).index(free["efficiency"][b])] >= need:
            assert guarded["efficiency"][b] == free["efficiency"][b]


def test_smoothed_optimisation_follows_the_neighbouring_bins(scan):
    signal, background, bins, theta, _ = scan
    efficiencies = np.round(np.arange(0.3, 0.95, 0.1), 2)
    scanned = _scanned_sensitivity(signal, background, bins, theta, efficiencies).T   # (bin, efficiency)
    log_rel = np.log(scanned / scanned.min(axis=1, keepdims=True))
    expected = [efficiencies[log_rel[max(0, b - 1) : b + 2].mean(axis=0).argmin()] for b in range(5)]
    smoothed, _ = cuts.optimise_gammaness_cut(signal, background, bins, theta, efficiencies, smoothing_bins=1)
    free, _ = cuts.optimise_gammaness_cut(signal, background, bins, theta, efficiencies)
    assert smoothed["efficiency"].tolist() == expected
    assert free["efficiency"].tolist() == efficiencies[log_rel.argmin(axis=1)].tolist()
    assert smoothed["efficiency"].tolist() != free["efficiency"].tolist()   # the smoothing changed a choice
    with pytest.raises(CtasimError, match="smoothing_bins"):
        cuts.optimise_gammaness_cut(signal, background, bins, theta, efficiencies, smoothing_bins=-1)
