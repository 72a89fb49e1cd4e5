import itertools

import numpy as np
import pytest

from ctasim.errors import ConfigError
from ctasim.spectra import (
    CRAB_MAGIC,
    HOERANDEL_HELIUM,
    IRFDOC_ELECTRON,
    LogParabola,
    PowerLaw,
    PowerLawWithBump,
    Spectrum,
    cone_solid_angle,
    has_absolute_flux,
    spectrum_from_config,
)


def test_power_law_sampling_has_the_index():
    e = PowerLaw(1.0, -2.5).sample(np.random.default_rng(1), 200_000, 0.1, 100.0)
    assert e.min() >= 0.1 and e.max() <= 100.0
    # maximum-likelihood index of a power law above e_min (unbounded approximation is fine here)
    index = -1.0 - e.size / np.log(e / 0.1).sum()
    assert index == pytest.approx(-2.5, abs=0.02)


def test_tabulated_sampling_follows_the_log_parabola():
    crab = LogParabola(**CRAB_MAGIC)
    e = crab.sample(np.random.default_rng(2), 200_000, 0.05, 50.0)
    bins = np.logspace(np.log10(0.05), np.log10(50.0), 7)
    counts, _ = np.histogram(e, bins)
    grid = np.logspace(np.log10(0.05), np.log10(50.0), 6001)
    expected = np.array([np.trapezoid(crab(grid[(grid >= lo) & (grid <= hi)]), grid[(grid >= lo) & (grid <= hi)])
                         for lo, hi in itertools.pairwise(bins)])
    mean = e.size * expected / expected.sum()
    assert np.all(np.abs(counts - mean) < 4 * np.sqrt(mean))


def test_crab_normalisation_at_1_tev():
    assert spectrum_from_config({"type": "crab_log_parabola"})(1.0) == pytest.approx(3.23e-11)
    assert spectrum_from_config({"type": "crab_hegra"})(1.0) == pytest.approx(2.83e-11)
    assert spectrum_from_config({"type": "cosmic_proton"})(1.0) == pytest.approx(9.8e-6)
    # the electron bump raises the flux above the bare power law near 0.8 TeV
    electron = spectrum_from_config({"type": "cosmic_electron"})
    assert electron(0.8) > 2.385e-9 * 0.8**-3.43


@pytest.mark.parametrize("config, key", [
    ({"type": "broken"}, "spectrum.type"),
    ({"type": "power_law"}, "spectrum.index"),
    ({"type": "power_law", "index": 2.0}, "spectrum.index"),
    ({"type": "power_law", "index": -2.0, "normalization": -1}, "spectrum.normalization"),
    ({"type": "crab_hegra", "index": -2.0}, "spectrum.index"),
    ("power_law", "spectrum"),
])
def test_bad_spectrum_configs_name_the_key(config, key):
    with pytest.raises(ConfigError) as err:
        spectrum_from_config(config, "scenario.yaml")
    assert err.value.key == key and "scenario.yaml" in str(err.value)


def test_power_law_integral_is_exact_and_matches_the_tabulated_one():
    pl = PowerLaw(2.0, -2.5)
    # int_1^4 2 E^-2.5 dE = 2 / 1.5 * (1 - 4^-1.5)
    assert pl.integral(1.0, 4.0) == pytest.approx(2.0 / 1.5 * (1.0 - 4.0**-1.5), rel=1e-12)
    assert PowerLaw(1.0, -1.0).integral(1.0, np.e) == pytest.approx(1.0, rel=1e-12)
    assert Spectrum.integral(pl, [0.1, 1.0], [1.0, 10.0]) == pytest.approx(pl.integral([0.1, 1.0], [1.0, 10.0]),
                                                                           rel=1e-6)


def test_log_parabola_integral_matches_a_fine_grid():
    crab = LogParabola(**CRAB_MAGIC)
    grid = np.geomspace(0.05, 50.0, 200_001)
    assert crab.integral(0.05, 50.0) == pytest.approx(np.trapezoid(crab(grid), grid), rel=1e-6)


def test_diffuse_spectra_carry_per_sr_units_and_integrate_over_a_cone():
    proton = spectrum_from_config({"type": "cosmic_proton"})
    assert proton.diffuse and proton.unit.is_equivalent("1 / (TeV m2 s sr)")
    assert not spectrum_from_config({"type": "crab_hegra"}).diffuse
    ring = proton.integrate_cone(1.0, 3.0)
    assert not ring.diffuse and ring.unit.is_equivalent("1 / (TeV m2 s)")
    omega = 2 * np.pi * (np.cos(np.deg2rad(1.0)) - np.cos(np.deg2rad(3.0)))
    assert ring(2.0) == pytest.approx(proton(2.0) * omega, rel=1e-12)
    assert cone_solid_angle(180.0) == pytest.approx(4 * np.pi)
    with pytest.raises(ValueError):
        ring.integrate_cone(0.0, 1.0)


def test_electron_bump_peaks_at_mu_with_the_unnormalised_gaussian():
    electron = PowerLawWithBump(**IRFDOC_ELECTRON)
    e_peak = 10 ** IRFDOC_ELECTRON["mu"]
    bare = IRFDOC_ELECTRON["normalization"] * e_peak ** IRFDOC_ELECTRON["index"]
    assert electron(e_peak) == pytest.approx(bare * (1 + IRFDOC_ELECTRON["f"] * (np.e - 1)), rel=1e-12)


def test_cosmic_helium_is_hoerandels_poly_gonato_power_law():
    helium = spectrum_from_config({"type": "cosmic_helium"})
    assert helium.diffuse and isinstance(helium, PowerLaw)
    # Hoerandel 2003, Z = 2: 5.71e-2 / (m^2 sr s TeV) at 1 TeV per nucleus, E^-2.64
    assert (helium(1.0) * helium.unit).to_value("1 / (m2 sr s TeV)") == pytest.approx(5.71e-2)
    assert helium(10.0) / helium(1.0) == pytest.approx(10**-2.64)
    assert HOERANDEL_HELIUM["normalization"] / 9.8e-6 == pytest.approx(0.58, abs=0.01)  # He / p at 1 TeV


def test_absolute_flux_and_power_law_normalisation():
    assert not has_absolute_flux({"type": "power_law", "index": -2.0})
    assert has_absolute_flux({"type": "power_law", "index": -2.0, "normalization": 1e-11})
    assert all(has_absolute_flux({"type": t}) for t in ("crab_hegra", "crab_log_parabola", "cosmic_proton",
                                                       "cosmic_electron", "cosmic_helium"))
    pl = spectrum_from_config({"type": "power_law", "index": -2.5, "normalization": 3e-11, "e_ref": 2.0})
    assert pl(2.0) == pytest.approx(3e-11) and not pl.diffuse
    with pytest.raises(ConfigError, match=r"spectrum\.index"):
        spectrum_from_config({"type": "cosmic_helium", "index": -2.0})
