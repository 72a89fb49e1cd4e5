"""ctasim.irf against pyirf 0.13 on the same toy events, weights and cuts.

Where both compute the same definition the answers agree to float precision; energy dispersion and
PSF differ by design in their normalisation (ctasim divides by all events of a cell, pyirf by those
inside the migration / source-offset range), which the toy keeps below 1%; energy resolution uses
the 16-84% interval here and norm.cdf(+-1) in pyirf.
"""

import operator

import astropy.units as u
import numpy as np
import pytest
from astropy.table import vstack
from irf_helpers import LIVETIME

from ctasim.irf import cuts
from ctasim.irf.background import background_2d
from ctasim.irf.binning import energy_bins
from ctasim.irf.effective_area import effective_area
from ctasim.irf.energy_dispersion import energy_dispersion
from ctasim.irf.psf import psf_table
from ctasim.irf.resolution import angular_resolution, energy_resolution
from ctasim.irf.sensitivity import differential_sensitivity

pytestmark = pytest.mark.reference
pyirf = pytest.importorskip("pyirf")

from pyirf.benchmarks import angular_resolution as pyirf_angular_resolution  # noqa: E402
from pyirf.benchmarks import energy_bias_resolution  # noqa: E402
from pyirf.binning import create_histogram_table  # noqa: E402
from pyirf.cut_optimization import optimize_gh_cut  # noqa: E402
from pyirf.cuts import calculate_percentile_cut, evaluate_binned_cut  # noqa: E402
from pyirf.irf import background_2d as pyirf_background_2d  # noqa: E402
from pyirf.irf import effective_area_per_energy, effective_area_per_energy_and_fov  # noqa: E402
from pyirf.irf import energy_dispersion as pyirf_energy_dispersion  # noqa: E402
from pyirf.irf import psf_table as pyirf_psf_table  # noqa: E402
from pyirf.sensitivity import calculate_sensitivity, estimate_background  # noqa: E402
from pyirf.simulations import SimulatedEventsInfo  # noqa: E402

BINS = energy_bins(0.03 * u.TeV, 100 * u.TeV, 5)
FOV_BINS = [0.0, 1.0, 2.0, 3.0] * u.deg
MIGRA = np.geomspace(0.2, 5.0, 31)
RAD = np.linspace(0.0, 1.0, 51) * u.deg
EFFICIENCIES = np.round(np.arange(0.1, 0.951, 0.05), 2)
MIN_EVENTS = 10  # "enough statistics" for a per-bin comparison


def pyirf_info(info):
    return SimulatedEventsInfo(n_showers=info.n_showers, energy_min=info.energy_min, energy_max=info.energy_max,
                               max_impact=info.max_scatter_radius, spectral_index=info.spectral_index,
                               viewcone_min=info.viewcone_min, viewcone_max=info.viewcone_max)


def with_gh_score(table):
    out = table.copy()
    out["gh_score"] = out["gammaness"]
    return out


@pytest.fixture(scope="module")
def selection(toy):
    """Cuts computed by both codes from the point-source gammas; events after ctasim's cuts."""
    gammas, background = toy["gamma"][3], vstack([toy["proton"][3], toy["electron"][3]])
    theta = cuts.theta_cut(gammas, BINS)
    gh, sensitivity = cuts.optimise_gammaness_cut(gammas, background, BINS, theta, EFFICIENCIES)
    theta_pyirf = calculate_percentile_cut(gammas["theta"], gammas["reco_energy"], BINS, fill_value=0.32 * u.deg,
                                           percentile=68, min_value=0.05 * u.deg, max_value=0.32 * u.deg)
    gh_pass = cuts.evaluate_cut(gammas["gammaness"], gammas["reco_energy"], gh, operator.ge)
    theta_pass = cuts.evaluate_cut(gammas["theta"], gammas["reco_energy"], theta, operator.le)
    bkg_pass = cuts.evaluate_cut(background["gammaness"], background["reco_energy"], gh, operator.ge)
    return dict(gammas=gammas, background=background, theta=theta, theta_pyirf=theta_pyirf, gh=gh,
                sensitivity=sensitivity, gh_selected=gammas[gh_pass], selected=gammas[gh_pass & theta_pass],
                background_selected=background[bkg_pass])


def test_theta_and_fixed_efficiency_gammaness_cuts(selection):
    gammas = selection["gammas"]
    assert selection["theta"]["cut"].to_value(u.deg) == pytest.approx(
        selection["theta_pyirf"]["cut"].to_value(u.deg), rel=1e-12)
    ours = cuts.gammaness_cut(gammas, BINS, 0.7)
    theirs = calculate_percentile_cut(gammas["gammaness"], gammas["reco_energy"], BINS, fill_value=1.0,
                                      percentile=30)
    valid = ours["valid"]
    assert valid.sum() >= 12
    assert np.asarray(ours["cut"])[valid] == pytest.approx(np.asarray(theirs["cut"])[valid], rel=1e-12)
    mask = cuts.evaluate_cut(gammas["gammaness"], gammas["reco_energy"], ours, operator.ge)
    theirs["cut"][~valid] = np.inf
    assert np.array_equal(mask, evaluate_binned_cut(gammas["gammaness"], gammas["reco_energy"], theirs, operator.ge))


def test_optimised_gammaness_cut_and_its_sensitivity(selection):
    best_sensitivity, best_cut = optimize_gh_cut(
        with_gh_score(selection["gammas"]), with_gh_score(selection["background"]), BINS, EFFICIENCIES,
        selection["theta_pyirf"], op=operator.ge, fov_offset_max=1 * u.deg, alpha=0.2, progress=False)
    ours, sensitivity = selection["gh"], selection["sensitivity"]
    compared = ours["valid"] & np.isfinite(best_sensitivity["relative_sensitivity"])
    assert compared.sum() >= 10
    assert ours["efficiency"][compared].tolist() == pytest.approx(np.asarray(best_cut["efficiency"])[compared])
    ratio = np.asarray(sensitivity["relative_sensitivity"] / best_sensitivity["relative_sensitivity"])[compared]
    assert ratio == pytest.approx(1.0, rel=0.05)


def test_sensitivity_of_the_same_selection(selection):
    ours = differential_sensitivity(selection["selected"], selection["background_selected"], BINS, selection["theta"])
    signal_hist = create_histogram_table(selection["selected"], BINS, "reco_energy")
    background_hist = estimate_background(selection["background_selected"], BINS, selection["theta_pyirf"], 0.2,
                                          0 * u.deg, 1 * u.deg)
    theirs = calculate_sensitivity(signal_hist, background_hist, alpha=0.2)
    compared = ours["valid"] & np.isfinite(theirs["relative_sensitivity"])
    assert compared.sum() >= 10
    assert np.asarray(ours["n_background_weighted"]) == pytest.approx(np.asarray(background_hist["n_weighted"]),
                                                                      rel=1e-9)
    ratio = ours["relative_sensitivity"][compared] / theirs["relative_sensitivity"][compared]
    assert np.asarray(ratio) == pytest.approx(1.0, rel=0.05)


def test_effective_area_point_like_and_diffuse(toy, selection):
    selected, info = selection["selected"], toy["gamma"][2]
    ours = effective_area(selected, info, BINS, [0, 1] * u.deg)[:, 0]
    theirs = effective_area_per_energy(selected, pyirf_info(info), BINS)
    counts, _ = np.histogram(selected["true_energy"].to_value(u.TeV), BINS.to_value(u.TeV))
    enough = counts >= MIN_EVENTS
    assert enough.sum() >= 12
    assert ours.to_value(u.m**2) == pytest.approx(theirs.to_value(u.m**2), rel=1e-9)  # every bin

    diffuse, info = toy["gamma_diffuse"][3], toy["gamma_diffuse"][2]
    ours = effective_area(diffuse, info, BINS, FOV_BINS)
    theirs = effective_area_per_energy_and_fov(diffuse, pyirf_info(info), BINS, FOV_BINS)
    assert ours.to_value(u.m**2) == pytest.approx(theirs.to_value(u.m**2), rel=1e-9)


def test_energy_dispersion(selection):
    selected = selection["selected"]
    ours = energy_dispersion(selected, BINS, MIGRA, [0, 1] * u.deg)
    theirs = pyirf_energy_dispersion(selected, BINS, [0, 1] * u.deg, MIGRA)
    counts, _ = np.histogram(selected["true_energy"].to_value(u.TeV), BINS.to_value(u.TeV))
    enough = counts >= MIN_EVENTS
    assert enough.sum() >= 12
    assert ours[enough] == pytest.approx(theirs[enough], rel=0.01)


def test_psf_table(selection):
    selected = selection["gh_selected"]
    ours = psf_table(selected, BINS, [0, 1] * u.deg, RAD)
    theirs = pyirf_psf_table(selected, BINS, RAD, [0, 1] * u.deg)
    counts, _ = np.histogram(selected["true_energy"].to_value(u.TeV), BINS.to_value(u.TeV))
    enough = counts >= MIN_EVENTS
    assert ours.to_value(1 / u.sr)[enough] == pytest.approx(theirs.to_value(1 / u.sr)[enough], rel=0.01)


def test_background_rate(selection):
    selected = selection["background_selected"]
    fov = np.linspace(0, 5, 6) * u.deg
    ours = background_2d(selected, BINS, fov, LIVETIME)
    theirs = pyirf_background_2d(selected, BINS, fov, LIVETIME)
    assert (selected["reco_source_fov_offset"] < 5 * u.deg).sum() >= 100
    assert ours.to_value("1 / (s MeV sr)") == pytest.approx(theirs.to_value("1 / (s MeV sr)"), rel=1e-9)


def test_angular_and_energy_resolution(selection):
    selected = selection["selected"]
    ours = angular_resolution(selected, BINS)
    theirs = pyirf_angular_resolution(selected, BINS, quantile=0.68)
    valid = ours["valid"]
    assert valid.sum() >= 12
    assert ours["angular_resolution"][valid].to_value(u.deg) == pytest.approx(
        theirs["angular_resolution_68"][valid].to_value(u.deg), rel=1e-6)
    ours = energy_resolution(selected, BINS)
    theirs = energy_bias_resolution(selected, BINS)
    valid = ours["valid"]
    assert np.asarray(ours["bias"])[valid] == pytest.approx(np.asarray(theirs["bias"])[valid], rel=1e-9, abs=1e-12)
    assert np.asarray(ours["resolution"])[valid] == pytest.approx(np.asarray(theirs["resolution"])[valid], rel=0.03)
