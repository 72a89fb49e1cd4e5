"""ctasim.irf.reference: curves from IRFs on inputs with known answers, and the Prod5 figures."""

from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from scipy.stats import norm

from ctasim.errors import CtasimError
from ctasim.io.gadf_read import (
    Background2D,
    Background3D,
    EffectiveArea2D,
    EnergyDispersion2D,
    IrfSet,
    Psf3Gauss,
    PsfTable,
    RadMax2D,
)
from ctasim.irf import reference as R
from ctasim.irf.sensitivity import CRAB, relative_sensitivity
from ctasim.paths import REFERENCE_DATA_ENV, prod5_irf_file
from ctasim.spectra import cone_solid_angle

ENERGY = np.geomspace(0.1, 100.0, 7) * u.TeV  # 2 bins per decade
OFFSETS = [0.0, 1.0, 2.0] * u.deg
GAUSS_R68 = np.sqrt(-2.0 * np.log(1.0 - 0.68))  # 1.5096 sigma
BKG_UNIT = u.Unit("1 / (s MeV sr)")


def gaussian_psf_table(sigma_deg: float) -> PsfTable:
    rad = np.linspace(0.0, 1.0, 201) * u.deg
    contained = -np.expm1(-0.5 * (rad.to_value(u.deg) / sigma_deg) ** 2)
    density = np.diff(contained) / np.diff(cone_solid_angle(rad.to_value(u.deg)))
    values = np.broadcast_to(density, (ENERGY.size - 1, OFFSETS.size - 1, rad.size - 1)) / u.sr
    return PsfTable(ENERGY, OFFSETS, rad, values)


def lognormal_migration(width: float, per_bin: bool) -> EnergyDispersion2D:
    """ln(mu) ~ N(0, width) in linear migration bins 0-3; as dP/dmu, or (Prod5's way) per bin."""
    migra = np.linspace(0.0, 3.0, 301)
    cdf = norm.cdf(np.log(np.maximum(migra, 1e-300)) / width)
    matrix = np.diff(cdf) if per_bin else np.diff(cdf) / np.diff(migra)
    return EnergyDispersion2D(ENERGY, migra, OFFSETS, np.broadcast_to(matrix[None, :, None],
                                                                      (ENERGY.size - 1, migra.size - 1, 2)))


def test_r68_of_a_gaussian_psf_table_is_1_51_sigma():
    curve = R.r68_curve(gaussian_psf_table(0.1))
    np.testing.assert_allclose(curve.values.to_value(u.deg), GAUSS_R68 * 0.1, rtol=2e-3)
    assert GAUSS_R68 == pytest.approx(1.51, abs=0.005)


def test_r68_of_three_gaussians():
    shape = (ENERGY.size - 1, OFFSETS.size - 1)
    sigmas = np.stack([np.full(shape, 0.1), np.full(shape, 0.3), np.zeros(shape)]) * u.deg
    single = Psf3Gauss(ENERGY, OFFSETS, np.ones(shape) / u.sr, sigmas, np.stack([np.ones(shape), np.zeros(shape),
                                                                                   np.zeros(shape)]))
    np.testing.assert_allclose(R.r68_curve(single).values.to_value(u.deg), GAUSS_R68 * 0.1, rtol=1e-9)
    # equal weights A_i s_i^2: contained fraction 1 - (exp(-r^2/2 s1^2) + exp(-r^2/2 s2^2)) / 2
    mixed = Psf3Gauss(ENERGY, OFFSETS, np.ones(shape) / u.sr, sigmas,
                      np.stack([np.ones(shape), np.full(shape, 1.0 / 9.0), np.zeros(shape)]))
    r = R.r68_curve(mixed).values.to_value(u.deg)[0]
    outside = 0.5 * (np.exp(-0.5 * (r / 0.1) ** 2) + np.exp(-0.5 * (r / 0.3) ** 2))
    assert outside == pytest.approx(0.32, abs=1e-9)
    empty = Psf3Gauss(ENERGY, OFFSETS, np.ones(shape) / u.sr, 0 * sigmas, np.ones((3, *shape)))
    assert np.isnan(R.r68_curve(empty).values).all()


@pytest.mark.parametrize("per_bin", [False, True])
def test_resolution_of_a_lognormal_migration_matrix(per_bin):
    width = 0.1
    resolution, bias = R.energy_resolution_curves(lognormal_migration(width, per_bin))
    expected = 0.5 * (np.exp(width * norm.ppf(0.84)) - np.exp(width * norm.ppf(0.16)))
    np.testing.assert_allclose(resolution.values.value, expected, rtol=2e-3)
    np.testing.assert_allclose(bias.values.value, 0.0, atol=1e-3)
    assert not bias.log_values


def test_values_are_taken_at_the_fov_offset_bin():
    values = np.stack([np.full(ENERGY.size - 1, 1e5), np.full(ENERGY.size - 1, 2e5)], axis=1) * u.m**2
    aeff = EffectiveArea2D(ENERGY, OFFSETS, values)
    assert R.effective_area_curve(aeff).values[0] == 1e5 * u.m**2  # default 0.5 deg
    assert R.effective_area_curve(aeff, 1.5 * u.deg).values[0] == 2e5 * u.m**2
    with pytest.raises(CtasimError, match="FoV offset 3 deg outside the file's bins 0-2 deg"):
        R.effective_area_curve(aeff, 3 * u.deg)


def test_curve_interpolates_in_log_energy_and_log_value():
    curve = R.Curve(np.array([0.1, 1.0, 10.0]) * u.TeV, [1.0, 100.0] * u.m**2)
    e_mid = np.sqrt(np.sqrt(0.1) * np.sqrt(10.0))
    got = curve.at([np.sqrt(0.1), e_mid, np.sqrt(10.0), 0.2, 5.0] * u.TeV).to_value(u.m**2)
    np.testing.assert_allclose(got[:3], [1.0, 10.0, 100.0])
    assert np.isnan(got[3:]).all()  # outside the bin centres
    assert np.isnan(R.Curve(curve.energy_bins, [0.0, 100.0] * u.m**2).at([e_mid] * u.TeV)).all()
    linear = R.Curve(curve.energy_bins, [-0.1, 0.1] * u.one, log_values=False)
    assert linear.at([e_mid] * u.TeV)[0].value == pytest.approx(0.0)


def test_background_ring_average_of_2d_and_3d_rates():
    rate_2d = np.array([[4.0, 1.0, 0.0]] * (ENERGY.size - 1)) * BKG_UNIT  # 0-1, 1-2, 2-3 deg
    bkg_2d = Background2D(ENERGY, [0.0, 1.0, 2.0, 3.0] * u.deg, rate_2d)
    np.testing.assert_allclose(R.background_rate_curve(bkg_2d).values.value, 4.0)
    two = R.background_rate_curve(bkg_2d, fov_offset_max=2 * u.deg).values.value
    np.testing.assert_allclose(two, (4.0 * 1 + 1.0 * 3) / 4, rtol=1e-3)  # solid angles ~ 1 : 3
    edges = np.linspace(-3.0, 3.0, 61)
    centre = 0.5 * (edges[1:] + edges[:-1])
    r = np.hypot(centre[:, None], centre[None, :])
    values = np.where(r < 1.0, 4.0, np.where(r < 2.0, 1.0, 0.0))
    bkg_3d = Background3D(ENERGY, edges * u.deg, edges * u.deg,
                          np.broadcast_to(values, (ENERGY.size - 1, *values.shape)) * BKG_UNIT)
    np.testing.assert_allclose(R.background_rate_curve(bkg_3d).values.value, 4.0, rtol=0.02)
    np.testing.assert_allclose(R.background_rate_curve(bkg_3d, fov_offset_max=2 * u.deg).values.value, 1.75,
                               rtol=0.03)


def test_background_is_averaged_over_other_energy_bins():
    bkg = Background2D(ENERGY, [0.0, 1.0] * u.deg, np.arange(1.0, ENERGY.size)[:, None] * BKG_UNIT)
    wide = np.array([0.1, 1.0, 1000.0]) * u.TeV
    curve = R.background_rate_curve(bkg, wide)
    widths = np.diff(ENERGY.to_value(u.TeV))[:2]
    assert curve.values[0].value == pytest.approx((1.0 * widths[0] + 2.0 * widths[1]) / widths.sum())
    assert np.isnan(curve.values[1])  # beyond the file's energies


def _perfect_point_like(area_m2: float, rate: float, theta_deg: float) -> IrfSet:
    """A_eff constant, E_reco = E_true (one narrow migration bin), flat background, RAD_MAX constant."""
    n = ENERGY.size - 1
    migra = np.array([0.0, 0.999, 1.001, 3.0])
    matrix = np.zeros((n, 3, 1))
    matrix[:, 1, 0] = 1.0 / 0.002
    offsets = [0.0, 1.0] * u.deg
    return IrfSet(
        path=Path("perfect.fits"), point_like=True,
        effective_area=EffectiveArea2D(ENERGY, offsets, np.full((n, 1), area_m2) * u.m**2),
        energy_dispersion=EnergyDispersion2D(ENERGY, migra, offsets, matrix),
        background=Background2D(ENERGY, offsets, np.full((n, 1), rate) * BKG_UNIT),
        rad_max=RadMax2D(ENERGY, offsets, np.full((n, 1), theta_deg) * u.deg),
    )


def test_sensitivity_from_irfs_follows_the_standard_definition():
    irfs = _perfect_point_like(1e5, 1e-4, 0.1)
    table = R.sensitivity_table(irfs)
    lo, hi = ENERGY[:-1].to_value(u.TeV), ENERGY[1:].to_value(u.TeV)
    time_s = (50 * u.h).to_value(u.s)
    # signal: the Crab integrated over each bin (the migration keeps E_reco within 0.1% of E_true)
    signal = CRAB.integral(lo, hi) * 1e9 * time_s
    np.testing.assert_allclose(table["n_signal_weighted"], signal, rtol=3e-3)
    n_off = 1e-4 * (hi - lo) * 1e6 * cone_solid_angle(0.1) * time_s / 0.2
    np.testing.assert_allclose(table["n_background_weighted"], n_off, rtol=1e-6)
    relative = relative_sensitivity(signal, n_off)
    np.testing.assert_allclose(table["relative_sensitivity"], relative, rtol=3e-3)
    np.testing.assert_allclose(table["sensitivity_crab"], relative, rtol=3e-3)
    centre = np.sqrt(lo * hi)
    energy_flux = (relative * CRAB(centre) * centre**2 * u.Unit("TeV / (cm2 s)")).to_value(u.Unit("erg / (cm2 s)"))
    np.testing.assert_allclose(table["energy_flux_sensitivity"].value, energy_flux, rtol=3e-3)
    curves = R.irf_curves(irfs)
    assert set(curves) == set(R.UNITS) - {"r68_deg"}
    np.testing.assert_allclose(curves["sensitivity_crab"].values.value, table["sensitivity_crab"])


def test_full_enclosure_sensitivity_uses_r68_with_68_percent_of_the_signal():
    point = _perfect_point_like(1e5, 1e-4, 0.1)
    full = IrfSet(path=point.path, point_like=False, effective_area=point.effective_area,
                  energy_dispersion=point.energy_dispersion, background=point.background,
                  psf=gaussian_psf_table(0.1 / GAUSS_R68))
    table, reference = R.sensitivity_table(full), R.sensitivity_table(point)
    np.testing.assert_allclose(table["on_radius"].to_value(u.deg), 0.1, rtol=2e-3)
    np.testing.assert_allclose(table["n_signal_weighted"], 0.68 * reference["n_signal_weighted"], rtol=1e-9)
    with pytest.raises(CtasimError, match="no RAD_MAX_2D HDU"):
        R.sensitivity_table(IrfSet(path=point.path, point_like=True, effective_area=point.effective_area,
                                   energy_dispersion=point.energy_dispersion, background=point.background))


def test_without_reference_files_every_prod5_value_is_null(tmp_path, monkeypatch):
    monkeypatch.setenv(REFERENCE_DATA_ENV, str(tmp_path))
    assert prod5_irf_file("north") is None and prod5_irf_file("south") is None
    values = R.prod5_values("north", ENERGY)
    assert set(values) == set(R.UNITS)
    assert all(v == [None] * (ENERGY.size - 1) for v in values.values())
    note = R.reference_note()
    assert "not found" in note and REFERENCE_DATA_ENV in note and "zenodo.5499840" in note
    with pytest.raises(CtasimError, match="site 'east'"):
        prod5_irf_file("east")


# ---------------------------------------------------------------------------------- Prod5


@pytest.fixture(scope="module")
def prod5_north(reference_data):
    irfs = R.prod5_irfs("north")
    if irfs is None:
        pytest.skip("Prod5 North IRF file not available")
    return irfs


@pytest.mark.reference
def test_prod5_north_values_at_1_tev(prod5_north):
    at = {k: c.at([1.0] * u.TeV)[0].to_value(R.UNITS[k]) for k, c in R.irf_curves(prod5_north).items()}
    assert 1e5 < at["effective_area_m2"] < 1e6
    assert 0.04 < at["r68_deg"] < 0.1
    assert 0.05 < at["energy_resolution"] < 0.15 and abs(at["energy_bias"]) < 0.05
    assert 1e-6 < at["background_rate_per_s_mev_sr"] < 1e-3
    # the Prod3b-v2 Omega North 50 h curve, 0.8-1.3 TeV (cta-observatory/ctaplot share/CTA_Performance):
    # 1.35e-13 erg/cm2/s; Alpha (4 LST + 9 MST) is somewhat less sensitive
    assert 1.35e-13 / 2 < at["sensitivity_erg_cm2_s"] < 1.35e-13 * 2
    assert 0.001 < at["sensitivity_crab"] < 0.01


@pytest.mark.reference
def test_prod5_values_on_a_run_binning_and_read_once(prod5_north):
    edges = np.geomspace(0.02, 100.0, 19) * u.TeV
    before = R._read_once.cache_info()
    values = R.prod5_values("north", edges)
    R.prod5_values("north", edges)
    after = R._read_once.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 2
    assert all(len(v) == 18 for v in values.values())
    area = [v for v in values["effective_area_m2"] if v is not None]
    assert len(area) == 18 and np.all(np.diff(area[:12]) > 0)  # rising up to a few TeV
    assert R.reference_note() == R.REFERENCE_NOTE
