"""Li & Ma significance and the differential point-source sensitivity.

The standard definition (CTA's, as in pyirf): in each reconstructed energy bin, the flux that
gives a 5 sigma detection (Li & Ma 1983, eq. 17) in the observation time of the event weights
(50 h, ``OBSERVATION_TIME``), with at least 10 excess events and an excess of at least 5% of the
background, the background measured in off regions 5 times the on region (alpha = 0.2). The on
region is the theta cut around the source; the background in it is estimated from all selected
background events in a FoV ring (0 - 1 deg from the pointing by default) scaled by solid angle,
as diffuse cosmic rays are too rare in simulations to count inside a 0.1 deg circle.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from ..spectra import CRAB_MAGIC, LogParabola, Spectrum, cone_solid_angle
from .binning import bin_index, check_edges, geometric_center
from .events import require_columns

ALPHA = 0.2                      # on / off region size: 5 off regions
MIN_SIGNIFICANCE = 5.0           # sigma
MIN_EXCESS = 10.0                # excess events
MIN_EXCESS_FRACTION = 0.05       # excess / background
OBSERVATION_TIME = 50 * u.h      # livetime the weights are computed for
FOV_OFFSET_MAX = 1 * u.deg       # outer radius of the background ring
CRAB = LogParabola(**CRAB_MAGIC)  # reference source of the relative sensitivity
#: bisection steps in log(relative flux) for the 5 sigma point: a bracket of e^28 shrinks below float precision
N_BISECTION = 64


def li_ma_significance(n_on: np.ndarray, n_off: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """Li & Ma (1983) eq. 17 significance of n_on counts on, n_off off with on/off exposure
    ratio alpha; 0 where n_on <= alpha n_off (no excess)."""
    n_on, n_off = np.broadcast_arrays(np.asarray(n_on, np.float64), np.asarray(n_off, np.float64))
    total = n_on + n_off
    with np.errstate(divide="ignore", invalid="ignore"):
        term_on = np.where(n_on > 0, n_on * np.log((1 + alpha) / alpha * n_on / total), 0.0)
        term_off = np.where(n_off > 0, n_off * np.log((1 + alpha) * n_off / total), 0.0)
    significance = np.sqrt(np.maximum(2.0 * (term_on + term_off), 0.0))
    return np.where(n_on > alpha * n_off, significance, 0.0)


def relative_sensitivity(n_signal: np.ndarray, n_off: np.ndarray, alpha: float = ALPHA,
                         min_significance: float = MIN_SIGNIFICANCE, min_excess: float = MIN_EXCESS,
                         min_excess_fraction: float = MIN_EXCESS_FRACTION) -> np.ndarray:
    """The factor by which the expected signal counts must be scaled to meet the detection
    criteria, given n_off expected off counts (array-wise); NaN where there is no signal."""
    n_signal, n_off = np.broadcast_arrays(np.asarray(n_signal, np.float64), np.asarray(n_off, np.float64))
    has_signal = n_signal > 0
    s = np.where(has_signal, n_signal, 1.0)
    # bracket the root in log(flux): between 1e-6 and 1e6 of the background-free or Gaussian guess
    guess = np.maximum(min_significance * np.sqrt(alpha * n_off), min_significance**2) / s
    lo, hi = np.log(guess) - 14.0, np.log(guess) + 14.0
    for _ in range(N_BISECTION):
        mid = 0.5 * (lo + hi)
        above = li_ma_significance(np.exp(mid) * s + alpha * n_off, n_off, alpha) >= min_significance
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    scale = np.exp(hi)
    required = np.maximum(min_excess, min_excess_fraction * alpha * n_off)
    scale = np.maximum(scale, required / s)
    return np.where(has_signal, scale, np.nan)


def weighted_counts(events: QTable, reco_energy_bins: u.Quantity,
                    mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Raw and weighted numbers of events (those of ``mask``, default all) per reconstructed energy bin."""
    idx, inside = bin_index(events["reco_energy"], reco_energy_bins)
    if mask is not None:
        inside &= mask
    n_bins = len(reco_energy_bins) - 1
    raw = np.bincount(idx[inside], minlength=n_bins)
    weighted = np.bincount(idx[inside], weights=np.asarray(events["weight"], np.float64)[inside], minlength=n_bins)
    return raw, weighted


def on_region_solid_angle(theta_cuts: QTable, reco_energy_bins: u.Quantity) -> u.Quantity:
    """Solid angle (sr) of the on region, the theta cut at each bin's geometric centre."""
    cut_edges = np.append(theta_cuts["low"].to_value(u.TeV), theta_cuts["high"][-1].to_value(u.TeV)) * u.TeV
    idx, inside = bin_index(geometric_center(reco_energy_bins), cut_edges)
    if not inside.all():
        raise CtasimError("sensitivity: the theta cuts do not cover the reconstructed energy bins")
    return cone_solid_angle(u.Quantity(theta_cuts["cut"]).to_value(u.deg)[idx]) * u.sr


def background_off_counts(background: QTable, reco_energy_bins: u.Quantity, theta_cuts: QTable,
                          alpha: float = ALPHA, fov_offset_min: u.Quantity = 0 * u.deg,
                          fov_offset_max: u.Quantity = FOV_OFFSET_MAX,
                          mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Raw background events (those of ``mask``, default all) in the FoV ring, and the expected
    weighted counts in the off regions (1 / alpha times the on region) per reconstructed energy bin."""
    offset = background["reco_source_fov_offset"]
    in_ring = (offset >= fov_offset_min) & (offset < fov_offset_max)
    raw, weighted = weighted_counts(background, reco_energy_bins, in_ring if mask is None else in_ring & mask)
    ring_solid_angle = (cone_solid_angle(fov_offset_max.to_value(u.deg))
                        - cone_solid_angle(fov_offset_min.to_value(u.deg))) * u.sr
    scale = (on_region_solid_angle(theta_cuts, reco_energy_bins) / ring_solid_angle).to_value(u.one) / alpha
    return raw, weighted * scale


def differential_sensitivity(signal: QTable, background: QTable, reco_energy_bins: u.Quantity, theta_cuts: QTable,
                             signal_spectrum: Spectrum = CRAB, alpha: float = ALPHA,
                             fov_offset_min: u.Quantity = 0 * u.deg, fov_offset_max: u.Quantity = FOV_OFFSET_MAX,
                             **criteria: float) -> QTable:
    """Differential sensitivity per reconstructed energy bin.

    ``signal``: point-source gammas after the gammaness and theta cuts, weighted to
    ``signal_spectrum`` for the observation time; ``background``: all background species after
    the gammaness cut, weighted for the same time; ``theta_cuts``: the on-region radius per bin.
    ``criteria``: ``relative_sensitivity``'s keywords. Columns: reco_energy_low/high/center
    (geometric, TeV), n_signal, n_signal_weighted, n_background (raw, in the ring),
    n_background_weighted (expected off counts), relative_sensitivity (flux / signal_spectrum),
    n_excess and significance at that flux, flux_sensitivity (1 / (TeV cm2 s), at the centre),
    energy_flux_sensitivity (E^2 dN/dE, erg / (cm2 s)) and valid (False where the bin has no
    signal: the values there are NaN)."""
    require_columns(signal, ("reco_energy", "weight"), "sensitivity signal")
    require_columns(background, ("reco_energy", "reco_source_fov_offset", "weight"), "sensitivity background")
    if len(signal) == 0 or len(background) == 0:
        which = "signal" if len(signal) == 0 else "background"
        raise CtasimError(f"sensitivity: no {which} events after cuts (empty selection)")
    if not 0 < alpha <= 1:
        raise CtasimError(f"sensitivity: alpha = {alpha}: expected 0 < alpha <= 1")
    edges = check_edges(reco_energy_bins, u.TeV, "reconstructed energy bins")
    n_signal, signal_weighted = weighted_counts(signal, edges)
    n_background, n_off = background_off_counts(background, edges, theta_cuts, alpha, fov_offset_min, fov_offset_max)
    relative = relative_sensitivity(signal_weighted, n_off, alpha, **criteria)
    valid = np.isfinite(relative)
    center = geometric_center(edges)
    flux = relative * signal_spectrum(center.to_value(u.TeV)) * signal_spectrum.unit
    table = QTable()
    table["reco_energy_low"], table["reco_energy_high"], table["reco_energy_center"] = edges[:-1], edges[1:], center
    table["n_signal"], table["n_signal_weighted"] = n_signal, signal_weighted
    table["n_background"], table["n_background_weighted"] = n_background, n_off
    table["relative_sensitivity"] = relative
    table["n_excess"] = relative * signal_weighted
    table["significance"] = np.where(valid, li_ma_significance(table["n_excess"] + alpha * n_off, n_off, alpha),
                                     np.nan)
    table["flux_sensitivity"] = flux.to(u.Unit("1 / (TeV cm2 s)"))
    table["energy_flux_sensitivity"] = (center**2 * flux).to(u.Unit("erg / (cm2 s)"))
    table["valid"] = valid
    return table
