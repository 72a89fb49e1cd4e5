"""Helium by the superposition model: a nucleus of energy E is four proton-like cascades of E/4.

Expectation: the electromagnetic share of a hadron's energy grows with energy (Heitler-Matthews,
``proton_em_fraction``), so a helium nucleus of E, whose nucleons carry E/4 each, emits less
Cherenkov light than a proton of E (about f_EM(E/4) / f_EM(E) = 0.72 at 1 TeV) and about as much
as four protons of E/4 (the same cascades; only where they start differs). Its first interaction
is shallower than a proton's, its mean X_max that of a proton of E/4.
"""

from __future__ import annotations

import numpy as np
import pytest

from ctasim.datamodel.ids import PRIMARY_IDS
from ctasim.scenario import validate_scenario
from ctasim.sim.atmosphere import vertical_depth
from ctasim.sim.shower import (
    HELIUM_INTERACTION_G_CM2,
    PROTON_INTERACTION_G_CM2,
    proton_em_fraction,
    simulate_showers,
)
from ctasim.sim.source import ShowerSource

OBS_LEVEL_M = 2158.0
ALT_DEG = 70.0


def _showers(particle, energy_tev, n, seed):
    """n showers of one energy at alt 70 deg, cores at the array centre: total photons emitted per
    shower, muons per shower, first-interaction height (m), X_max (g/cm^2)."""
    rng = np.random.default_rng(seed)
    e = np.full(n, energy_tev)
    emission, muons, h_first, x_max = simulate_showers(rng, particle, e, np.full(n, ALT_DEG), np.zeros(n),
                                                       np.zeros(n), np.zeros(n), OBS_LEVEL_M)
    assert emission.offsets.size == n + 1 and muons.offsets.size == n + 1
    owner = np.repeat(np.arange(n), np.diff(emission.offsets))
    photons = np.bincount(owner, emission.photons, n)
    return photons, np.diff(muons.offsets), h_first, x_max


def _mean(x):
    return x.mean(), x.std(ddof=1) / np.sqrt(x.size)


def test_helium_gives_less_light_than_a_proton_and_as_much_as_four_protons_of_a_quarter():
    e, n = 1.0, 300
    he, he_mu, he_h, he_x = _showers("helium", e, n, 1)
    p, p_mu, p_h, p_x = _showers("proton", e, n, 2)
    quarter, q_mu, _, q_x = _showers("proton", e / 4, 4 * n, 3)
    four = quarter.reshape(n, 4).sum(axis=1)     # four protons of E/4 per "nucleus"
    (m_he, s_he), (m_p, s_p), (m_4, _) = _mean(he), _mean(p), _mean(four)
    assert m_he < m_p - 5 * np.hypot(s_he, s_p)
    assert m_he / m_p == pytest.approx(proton_em_fraction(e / 4) / proton_em_fraction(e), rel=0.1)
    assert m_he / m_4 == pytest.approx(1.0, abs=0.25)
    # more muons than a proton of E (N_mu ~ A (E/A)^0.9), as many as four protons of E/4
    assert he_mu.mean() > p_mu.mean()
    assert he_mu.mean() == pytest.approx(4 * q_mu.mean(), rel=0.15)
    # the nucleus interacts first higher up; its mean X_max is a proton's of E/4
    assert np.median(he_h) > np.median(p_h)
    assert he_x.mean() == pytest.approx(q_x.mean(), abs=15.0)
    assert he_x.mean() < p_x.mean() - 20.0


def test_helium_first_interaction_depth_has_the_helium_air_length():
    n = 4000
    _, _, h_first, _ = _showers("helium", 0.5, n, 4)
    _, _, h_proton, _ = _showers("proton", 0.5, n, 5)
    cos_z = np.sin(np.deg2rad(ALT_DEG))
    x_he = vertical_depth(h_first + OBS_LEVEL_M) / cos_z
    x_p = vertical_depth(h_proton + OBS_LEVEL_M) / cos_z
    assert x_he.mean() == pytest.approx(HELIUM_INTERACTION_G_CM2, rel=0.06)
    assert x_p.mean() == pytest.approx(PROTON_INTERACTION_G_CM2, rel=0.06)


def test_a_helium_population_runs_through_the_shower_source(north):
    sc = validate_scenario({"name": "he", "seed": 1, "particles": [
        {"name": "helium", "particle": "helium", "spectrum": {"type": "cosmic_helium"}, "n_showers": 40,
         "energy_min_tev": 0.5, "energy_max_tev": 20.0, "max_scatter_m": 500.0, "viewcone_deg": 3.0,
         "rate_from_flux": True}]})
    (pop,) = sc.populations()
    block = ShowerSource(pop, north, 70.0, 0.0, 1, 40).block(0)
    assert PRIMARY_IDS["helium"] == 402 and (block.showers["true_shower_primary_id"] == 402).all()
    assert block.emission.offsets.size == block.muons.offsets.size == 41
    assert block.t_stop - block.t_start == pytest.approx(40 / pop.rate_hz)
