"""Energy-dependent performance figures on inputs with known answers."""

import json

import numpy as np
import pytest

from ctasim.reco.metrics import (
    angular_resolution,
    angular_separation_deg,
    auc_per_energy_bin,
    efficiency,
    energy_bias_resolution,
    energy_bins,
)


def test_energy_bins():
    bins = energy_bins(0.01, 100.0, 5)
    assert bins.size == 21
    np.testing.assert_allclose(bins[[0, 5, -1]], [0.01, 0.1, 100.0])


def test_angular_resolution_known_offsets():
    n = 1000
    energy = np.repeat([0.5, 5.0], n)
    offset = np.concatenate([np.linspace(0, 0.2, n), np.linspace(0, 0.02, n)])
    true_alt, true_az = np.full(2 * n, 70.0), np.full(2 * n, 10.0)
    res = angular_resolution(
        energy, true_alt + offset, true_az, true_alt, true_az, np.array([0.1, 1, 10])
    )
    np.testing.assert_allclose(
        res["angular_resolution_deg"], np.quantile(offset.reshape(2, n), 0.68, axis=1), rtol=1e-6
    )
    assert res["n_events"] == [n, n]
    json.dumps(res)
    assert angular_separation_deg(0.0, 0.0, 0.0, 90.0) == pytest.approx(90.0)


def test_energy_bias_and_resolution():
    rng = np.random.default_rng(1)
    true = np.exp(rng.uniform(np.log(0.1), np.log(10), 200_000))
    reco = true * (1.1 + 0.2 * rng.normal(size=true.size))
    res = energy_bias_resolution(true, reco, energy_bins(0.1, 10, 1))
    np.testing.assert_allclose(res["energy_bias"], 0.1, atol=0.005)
    np.testing.assert_allclose(res["energy_resolution"], 0.2, atol=0.005)


def test_auc_efficiency_and_cut():
    rng = np.random.default_rng(2)
    n = 4000
    energy = np.exp(rng.uniform(np.log(0.1), np.log(10), n))
    is_gamma = rng.uniform(size=n) < 0.5
    score = np.where(is_gamma, rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.5, n))
    bins = energy_bins(0.1, 10, 1)
    assert auc_per_energy_bin(energy, score, is_gamma, bins)["roc_auc"] == [1.0, 1.0]
    assert auc_per_energy_bin(energy, 1 - score, is_gamma, bins)["roc_auc"] == [0.0, 0.0]
    kept = score[is_gamma] >= 0.65  # gamma scores uniform in [0.5, 1): 70 % kept
    eff = efficiency(kept, energy[is_gamma], bins)
    np.testing.assert_allclose(eff["efficiency"], 0.7, atol=0.01)
    empty = efficiency(np.zeros(0, bool), np.zeros(0), bins)
    assert empty["efficiency"] == [None, None] and empty["n_events"] == [0, 0]
    json.dumps(eff)
