"""Flux-driven arrival rates (``rate_from_flux``): the rate is the analytic flux integral over the
simulated phase space, scales with the flux, and so does the array trigger rate of the chain."""

from __future__ import annotations

import numpy as np
import pytest

from actors.orchestrator import run_scenario
from ctasim.errors import ConfigError
from ctasim.scenario import validate_scenario
from ctasim.sim.source import Population, arrival_rate_hz
from ctasim.spectra import CRAB_HEGRA, HOERANDEL_HELIUM, IRFDOC_PROTON, spectrum_from_config

QUICKSTART_PROTON = {"name": "proton", "particle": "proton", "spectrum": {"type": "cosmic_proton"},
                     "n_showers": 10000, "energy_min_tev": 0.1, "energy_max_tev": 200.0, "max_scatter_m": 1000.0,
                     "viewcone_deg": 5.0, "rate_from_flux": True}


def _scenario(*particles, alt_deg=70.0, **extra):
    return validate_scenario({"name": "flux", "seed": 3, "array": {"pointing": {"alt_deg": alt_deg}},
                              "particles": list(particles), **extra}, "flux.yaml")


def _power_law_integral(norm, index, e_min, e_max, e0=1.0):
    """int_Emin^Emax N (E/E0)^-Gamma dE = N E0 / (Gamma - 1) [(Emin/E0)^(1-Gamma) - (Emax/E0)^(1-Gamma)]."""
    g = -index
    return norm * e0 / (g - 1.0) * ((e_min / e0) ** (1.0 - g) - (e_max / e0) ** (1.0 - g))


def test_proton_rate_is_the_analytic_flux_integral_over_the_phase_space():
    (pop,) = _scenario(QUICKSTART_PROTON).populations()  # pointing alt 70 deg: zenith 20 deg
    flux = _power_law_integral(IRFDOC_PROTON["normalization"], IRFDOC_PROTON["index"], 0.1, 200.0)  # /(cm2 s sr)
    cone = np.deg2rad(5.0)
    solid_angle = 2 * np.pi * (1 - np.cos(cone))
    # cores in a ground disk: each direction sees pi r^2 cos(theta); averaged over the cone around the
    # axis at zenith 20 deg, cos(theta) = cos(20 deg) (1 + cos 5 deg) / 2
    area_cm2 = np.pi * 1000.0**2 * 1e4 * np.cos(np.deg2rad(20.0)) * (1 + np.cos(cone)) / 2
    expected = flux * area_cm2 * solid_angle
    assert pop.rate_hz == pytest.approx(expected, rel=1e-6)
    assert pop.rate_hz == pytest.approx(1.777e5, rel=1e-3)  # the figure quoted for the quickstart
    # the same rate straight from the library function
    assert arrival_rate_hz(spectrum_from_config({"type": "cosmic_proton"}), pop, 20.0) == pytest.approx(expected,
                                                                                                         rel=1e-12)


def test_the_cone_average_of_cos_zenith_matches_a_monte_carlo():
    rng = np.random.default_rng(4)
    cone, zenith = np.deg2rad(15.0), np.deg2rad(40.0)
    psi = np.arccos(1 - rng.random(400_000) * (1 - np.cos(cone)))   # uniform in solid angle
    phi = rng.uniform(0, 2 * np.pi, psi.size)
    cos_theta = np.cos(zenith) * np.cos(psi) - np.sin(zenith) * np.sin(psi) * np.cos(phi)
    pop = Population("p", "proton", {"type": "cosmic_proton"}, energy_min_tev=1.0, energy_max_tev=10.0,
                     max_scatter_m=100.0, viewcone_deg=15.0)
    spectrum = spectrum_from_config({"type": "cosmic_proton"})
    per_cos = spectrum.integral(1.0, 10.0) * np.pi * 100.0**2 * 1e4 * 2 * np.pi * (1 - np.cos(cone))
    assert arrival_rate_hz(spectrum, pop, 40.0) / per_cos == pytest.approx(cos_theta.mean(), rel=2e-3)


def test_point_source_and_helium_rates():
    gamma = {"name": "crab", "particle": "gamma", "spectrum": {"type": "crab_hegra"}, "n_showers": 100,
             "energy_min_tev": 0.05, "energy_max_tev": 50.0, "max_scatter_m": 500.0, "source_offset_deg": 0.5,
             "rate_from_flux": True}
    helium = QUICKSTART_PROTON | {"name": "helium", "particle": "helium", "spectrum": {"type": "cosmic_helium"}}
    crab, he = _scenario(gamma, helium).populations()
    # the source 0.5 deg off-axis sideways (fov_lon) of a pointing at alt 70: cos(zenith) = cos(0.5) sin(70)
    cos_zenith = np.cos(np.deg2rad(0.5)) * np.sin(np.deg2rad(70.0))
    expected = _power_law_integral(CRAB_HEGRA["normalization"], CRAB_HEGRA["index"], 0.05, 50.0) \
        * np.pi * 500.0**2 * 1e4 * cos_zenith
    assert crab.rate_hz == pytest.approx(expected, rel=1e-6)
    he_flux = _power_law_integral(HOERANDEL_HELIUM["normalization"], HOERANDEL_HELIUM["index"], 0.1, 200.0)
    p_flux = _power_law_integral(IRFDOC_PROTON["normalization"], IRFDOC_PROTON["index"], 0.1, 200.0)
    (p,) = _scenario(QUICKSTART_PROTON).populations()
    assert he.rate_hz / p.rate_hz == pytest.approx(he_flux / p_flux, rel=1e-9)


def test_doubling_the_flux_doubles_the_arrival_rate_exactly():
    crab = {"name": "crab", "particle": "gamma", "spectrum": {"type": "crab_hegra"}, "n_showers": 100,
            "energy_min_tev": 0.1, "energy_max_tev": 30.0, "max_scatter_m": 400.0, "rate_from_flux": True}
    double = crab | {"name": "double", "spectrum": {"type": "power_law", "index": CRAB_HEGRA["index"],
                                                    "normalization": 2 * CRAB_HEGRA["normalization"]}}
    one, two = _scenario(crab, double).populations()
    assert two.rate_hz / one.rate_hz == pytest.approx(2.0, rel=1e-12)
    # a normalisation at another reference energy is the same flux
    at_3_tev = CRAB_HEGRA["normalization"] * 3.0 ** CRAB_HEGRA["index"]
    moved = crab | {"name": "moved", "spectrum": {"type": "power_law", "index": CRAB_HEGRA["index"], "e_ref": 3.0,
                                                  "normalization": at_3_tev}}
    (same,) = _scenario(moved).populations()
    assert same.rate_hz == pytest.approx(one.rate_hz, rel=1e-12)


@pytest.mark.e2e
def test_doubling_the_flux_doubles_the_array_trigger_rate(tmp_path):
    """Two Crab-like point sources, one with twice the flux, through the on-site chain in-process:
    the same number of showers spans half the simulated time, so the array trigger rate (array
    events per simulated second) doubles, within the binomial errors of the triggered fractions
    (the populations have their own random streams)."""
    n = 300
    crab = {"name": "crab", "particle": "gamma", "spectrum": {"type": "crab_hegra"}, "n_showers": n,
            "energy_min_tev": 0.3, "energy_max_tev": 30.0, "max_scatter_m": 400.0, "rate_from_flux": True}
    double = crab | {"name": "double", "spectrum": {"type": "power_law", "index": CRAB_HEGRA["index"],
                                                    "normalization": 2 * CRAB_HEGRA["normalization"]}}
    sc = _scenario(crab, double, output_dir=str(tmp_path), simulation={"block_size": 100},
                   execution={"backend": "local", "telescopes_per_actor": 13})
    summary = run_scenario(sc, backend="local").summary
    events = summary["accounting"]["stages"]["array_events"]["by_stream"]
    seconds = {k: v["seconds"] for k, v in summary["rates"]["streams"].items()}
    rates = {pop.name: pop.rate_hz for pop in sc.populations()}
    for name in ("crab", "double"):
        assert seconds[name] == pytest.approx(n / rates[name], rel=1e-9)   # simulated seconds are real seconds
    assert seconds["double"] == pytest.approx(seconds["crab"] / 2, rel=1e-9)
    trigger_rate = {k: events[k] / seconds[k] for k in ("crab", "double")}
    frac = {k: events[k] / n for k in events}
    assert 0.2 < frac["crab"] < 0.95 and 0.2 < frac["double"] < 0.95
    # ratio of the triggered fractions is 1 within statistics: 4 sigma of two binomials
    sigma = np.hypot(*(np.sqrt(f * (1 - f) / n) / f for f in frac.values()))
    assert trigger_rate["double"] / trigger_rate["crab"] == pytest.approx(2.0, rel=4 * sigma)


@pytest.mark.parametrize("edit, words", [
    ({"spectrum": {"type": "power_law", "index": -2.0}}, ["particles[0].rate_from_flux", "spectrum.normalization"]),
    ({"rate_hz": 9000.0}, ["particles[0].rate_from_flux", "not both"]),
    ({"viewcone_deg": 0.0}, ["particles[0].rate_from_flux", "viewcone_deg > 0", "diffuse"]),
    ({"spectrum": {"type": "crab_hegra"}}, ["particles[0].rate_from_flux", "viewcone_deg 0", "point-source"]),
])
def test_bad_flux_configurations_give_one_line(edit, words):
    with pytest.raises(ConfigError) as err:
        _scenario(QUICKSTART_PROTON | edit)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("flux.yaml: ")
    for w in words:
        assert w in msg, msg


def test_a_cone_below_the_horizon_and_a_missing_rate_are_refused():
    with pytest.raises(ConfigError, match=r"particles\[0\]\.rate_from_flux: expected source zenith angle"):
        _scenario(QUICKSTART_PROTON | {"viewcone_deg": 20.0}, alt_deg=15.0)
    no_rate = {k: v for k, v in QUICKSTART_PROTON.items() if k != "rate_from_flux"}
    (pop,) = _scenario(no_rate).populations()   # neither given: the default rate
    assert pop.rate_hz == 1000.0
    with pytest.raises(ConfigError, match=r"rate_hz or rate_from_flux: true"):
        _scenario(no_rate | {"rate_from_flux": "false", "rate_hz": None})
