"""A toy point-source observation for the science tests: IRFs from ``ctasim.irf`` on toy DL2 gammas,
an injected power law, a smooth background, Poisson-drawn on/off counts."""

from functools import cache

import astropy.units as u
import numpy as np

from ctasim.irf.binning import energy_bins
from ctasim.irf.effective_area import effective_area
from ctasim.irf.energy_dispersion import energy_dispersion
from ctasim.irf.events import event_table
from ctasim.irf.toy import toy_population
from ctasim.irf.weights import simulation_info
from ctasim.science.folding import SpectralResponse, edisp_kernel
from ctasim.science.spectral_fit import OnOffSpectrum
from ctasim.spectra import PowerLaw

LIVETIME = 0.5 * u.h
ALPHA = 0.2
#: the injected source: ~1500 excess events in LIVETIME with the toy IRFs
INJECTED = PowerLaw(normalization=2e-11, index=-2.5)
TRUE_PER_DECADE = 20
RECO_BINS = energy_bins(0.1 * u.TeV, 30 * u.TeV, per_decade=5)
MIGRATION_BINS = np.geomspace(0.2, 5.0, 121)
OFFSET_BINS = [0.0, 1.0] * u.deg
#: expected background counts in the on region: ~400 in all, falling as E^-2.7
BACKGROUND_ON = 400 * np.diff(RECO_BINS.to_value(u.TeV) ** -1.7) / np.diff(RECO_BINS.to_value(u.TeV) ** -1.7).sum()


def true_bins(per_decade: int = TRUE_PER_DECADE) -> u.Quantity:
    return energy_bins(0.03 * u.TeV, 100 * u.TeV, per_decade=per_decade)


@cache
def toy_irfs(seed: int = 11, true_per_decade: int = TRUE_PER_DECADE) -> tuple[u.Quantity, np.ndarray]:
    """(A_eff per true-energy bin, dP/dmu per true-energy x migration bin) of 100k toy point-source gammas."""
    rows, distribution = toy_population("gamma", n_showers=100_000, seed=seed)
    events, edges = event_table(rows), true_bins(true_per_decade)
    area = effective_area(events, simulation_info(distribution), edges, OFFSET_BINS)[:, 0]
    return area, energy_dispersion(events, edges, MIGRATION_BINS, OFFSET_BINS)[:, :, 0]


def toy_response(livetime: u.Quantity = LIVETIME, seed: int = 11,
                 true_per_decade: int = TRUE_PER_DECADE) -> SpectralResponse:
    area, density = toy_irfs(seed, true_per_decade)
    edges = true_bins(true_per_decade)
    return SpectralResponse(edges, RECO_BINS, area, edisp_kernel(density, edges, MIGRATION_BINS, RECO_BINS), livetime)


def draw_on_off(rng: np.random.Generator, response: SpectralResponse, spectrum=INJECTED,
                background_on: np.ndarray = BACKGROUND_ON, alpha: float = ALPHA) -> OnOffSpectrum:
    """Poisson on counts (source + background) and off counts (background / alpha)."""
    n_on = rng.poisson(response.predicted_counts(spectrum) + background_on)
    n_off = rng.poisson(background_on / alpha)
    return OnOffSpectrum(n_on, n_off, alpha, response)
