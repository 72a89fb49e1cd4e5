"""Forward folding: the energy-dispersion kernel from a migration matrix, predicted counts, bad input."""

import itertools

import astropy.units as u
import numpy as np
import pytest
from scipy.integrate import quad

from ctasim.errors import CtasimError
from ctasim.irf.binning import energy_bins
from ctasim.science.folding import SpectralResponse, edisp_kernel
from ctasim.spectra import LogParabola, PowerLaw

BINS = energy_bins(0.1 * u.TeV, 10 * u.TeV, per_decade=20)
MIGRATION = np.linspace(0.5, 1.5, 101)


def box_migration(low=0.9, high=1.1):
    """dP/dmu uniform in [low, high] for every true-energy bin (``low``, ``high`` on migration edges)."""
    centres = 0.5 * (MIGRATION[1:] + MIGRATION[:-1])
    density = ((centres > low) & (centres < high)) / (high - low)
    return np.tile(density, (BINS.size - 1, 1))


def test_kernel_of_a_box_migration_is_the_overlap_of_the_box_with_each_reco_bin():
    kernel = edisp_kernel(box_migration(), BINS, MIGRATION, BINS)
    e = BINS.value
    centre = np.sqrt(e[:-1] * e[1:])
    for i in range(2, len(centre) - 2):
        for j in (i - 1, i, i + 1):
            overlap = min(1.1, e[j + 1] / centre[i]) - max(0.9, e[j] / centre[i])
            assert kernel[i, j] == pytest.approx(max(overlap, 0.0) / 0.2, abs=1e-12)
        assert kernel[i].sum() == pytest.approx(1.0, abs=1e-12)
    # the box reaches 10% beyond the edges: the first and last bins lose what migrates outside
    assert kernel[0].sum() < 1 and kernel[-1].sum() < 1


def test_predicted_counts_are_the_integral_flux_times_exposure_through_the_kernel():
    area = np.linspace(1e4, 1e5, BINS.size - 1) * u.m**2
    kernel = edisp_kernel(box_migration(), BINS, MIGRATION, BINS)
    response = SpectralResponse(BINS, BINS, area, kernel, 2 * u.h)
    spectrum = LogParabola(3e-11, -2.5, -0.2)
    e = BINS.value
    integral = np.array([quad(spectrum, lo, hi, epsrel=1e-10)[0] for lo, hi in itertools.pairwise(e)])
    true_counts = integral * area.to_value(u.cm**2) * 7200.0
    np.testing.assert_allclose(response.true_counts(spectrum), true_counts, rtol=1e-6)
    np.testing.assert_allclose(response.predicted_counts(spectrum), true_counts @ kernel, rtol=1e-6)
    # counts follow the livetime
    np.testing.assert_allclose(response.with_livetime(1 * u.h).predicted_counts(spectrum),
                               0.5 * response.predicted_counts(spectrum))


@pytest.mark.parametrize("change, match", [
    (dict(livetime=0 * u.s), "livetime"),
    (dict(effective_area=np.ones(5) * u.m**2), "true energy bins"),
    (dict(edisp_kernel=np.eye(40)[:, :39]), "kernel"),
    (dict(edisp_kernel=2 * np.eye(40)), "summing to at most 1"),
    (dict(effective_area=np.ones(40) * u.s), "area"),
])
def test_bad_response_is_a_one_line_error(change, match):
    arguments = dict(true_energy_bins=BINS, reco_energy_bins=BINS, effective_area=np.ones(40) * u.m**2,
                     edisp_kernel=np.eye(40), livetime=1 * u.h) | change
    with pytest.raises(CtasimError, match=match) as error:
        SpectralResponse(**arguments)
    assert "\n" not in str(error.value)


def test_kernel_checks_its_shapes_and_a_diffuse_model_is_refused():
    with pytest.raises(CtasimError, match="select one FoV offset"):
        edisp_kernel(box_migration()[:, :, None], BINS, MIGRATION, BINS)
    response = SpectralResponse(BINS, BINS, np.ones(40) * u.m**2, np.eye(40), 1 * u.h)
    with pytest.raises(CtasimError, match="diffuse"):
        response.predicted_counts(PowerLaw(1e-6, -2.7, diffuse=True))
