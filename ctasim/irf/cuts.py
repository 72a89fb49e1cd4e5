"""Event-selection cuts per reconstructed-energy bin: gammaness and direction (theta), RAD_MAX.

A cut table is a QTable with one row per bin: ``low``, ``high``, ``center`` (geometric, TeV),
``n_events`` (events the cut was computed from), ``cut`` and ``valid`` (False where fewer than
``min_events`` events were available: the cut there is a fill value, stated per function).
Percentiles are numpy's default (linear interpolation between order statistics).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from .binning import bin_index, check_edges, geometric_center
from .events import require_columns
from .sensitivity import (
    ALPHA,
    FOV_OFFSET_MAX,
    background_off_counts,
    differential_sensitivity,
    relative_sensitivity,
    weighted_counts,
)

#: bins with fewer events than this get the fill value (pyirf's calculate_percentile_cut default)
MIN_EVENTS = 10
#: theta cut clipping and fill value (ctapipe.irf event-selection defaults: 0.05 and 0.32 deg)
MIN_THETA_CUT = 0.05 * u.deg
MAX_THETA_CUT = 0.32 * u.deg
#: gamma efficiencies scanned by the sensitivity optimisation
GAMMA_EFFICIENCIES = np.round(np.arange(0.05, 0.951, 0.05), 2)


def percentile_cut(values: u.Quantity | np.ndarray, bin_values: u.Quantity, bins: u.Quantity,
                   percentile: float | np.ndarray, fill_value: float | u.Quantity,
                   min_value: float | u.Quantity | None = None, max_value: float | u.Quantity | None = None,
                   min_events: int = MIN_EVENTS) -> QTable:
    """The ``percentile`` (%, scalar or 1-D) of ``values`` in each bin of ``bin_values``, clipped
    to [min_value, max_value]; ``fill_value`` where fewer than ``min_events`` values fall in a bin.
    ``cut`` has shape (n_bins,) or (n_bins, n_percentiles)."""
    edges = check_edges(bins, u.TeV, "reconstructed energy bins")
    unit = getattr(values, "unit", None)
    v = u.Quantity(values).to_value(unit) if unit is not None else np.asarray(values, np.float64)
    if v.size == 0:
        raise CtasimError("cuts: no events to compute the cut from (empty selection)")
    if min_events < 1:
        raise CtasimError(f"cuts: min_events = {min_events}: expected at least 1")
    q = np.atleast_1d(np.asarray(percentile, np.float64)) / 100.0
    if np.any((q < 0) | (q > 1)):
        raise CtasimError(f"cuts: percentile {percentile}: expected values in [0, 100]")
    idx, inside = bin_index(bin_values, edges)
    n_bins = edges.size - 1
    cut, counts = _binned_quantiles(v[inside], idx[inside], n_bins, q)
    if min_value is not None or max_value is not None:
        cut = np.clip(cut, _plain(min_value, unit), _plain(max_value, unit))
    valid = counts >= min_events
    cut[~valid] = _plain(fill_value, unit)
    table = _cut_table(edges, counts)
    table["cut"] = (cut if np.ndim(percentile) else cut[:, 0]) * (unit if unit is not None else 1)
    table["valid"] = valid
    return table


def gammaness_cut(events: QTable, reco_energy_bins: u.Quantity, efficiency: float,
                  min_events: int = MIN_EVENTS) -> QTable:
    """Gammaness cut keeping the fraction ``efficiency`` of ``events`` (gammas) per reconstructed
    energy bin (keep ``gammaness >= cut``); +inf (keep nothing) where too few events."""
    require_columns(events, ("gammaness", "reco_energy"), "gammaness cut")
    if not 0.0 < efficiency <= 1.0:
        raise CtasimError(f"gammaness cut: efficiency {efficiency}: expected 0 < efficiency <= 1")
    table = percentile_cut(events["gammaness"], events["reco_energy"], reco_energy_bins,
                           100.0 * (1.0 - efficiency), np.inf, min_events=min_events)
    table["efficiency"] = np.full(len(table), efficiency)
    return table


def theta_cut(events: QTable, reco_energy_bins: u.Quantity, containment: float = 68.0,
              min_value: u.Quantity = MIN_THETA_CUT, max_value: u.Quantity = MAX_THETA_CUT,
              min_events: int = MIN_EVENTS) -> QTable:
    """Theta cut containing ``containment`` % of ``events`` (gammas, usually after the gammaness
    cut) per reconstructed energy bin, clipped to [min_value, max_value]; max_value where too few
    events (keep ``theta <= cut``)."""
    require_columns(events, ("theta", "reco_energy"), "theta cut")
    return percentile_cut(events["theta"], events["reco_energy"], reco_energy_bins, containment, max_value,
                          min_value, max_value, min_events)


def evaluate_cut(values: u.Quantity | np.ndarray, bin_values: u.Quantity, cut_table: QTable,
                 op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Which events pass ``op(value, cut of their bin)`` (e.g. ``operator.ge``); events outside the
    table's bins fail."""
    edges = np.append(cut_table["low"].to_value(u.TeV), cut_table["high"][-1].to_value(u.TeV)) * u.TeV
    idx, inside = bin_index(bin_values, edges)
    cut = cut_table["cut"]
    unit = getattr(cut, "unit", None)
    v = u.Quantity(values).to_value(unit) if unit is not None else np.asarray(values, np.float64)
    c = u.Quantity(cut).to_value(unit) if unit is not None else np.asarray(cut, np.float64)
    return inside & op(v, c[idx])


def rad_max(theta_cuts: QTable, fov_offset_bins: u.Quantity) -> u.Quantity:
    """RAD_MAX of a point-like IRF: the theta cut of each reconstructed energy bin, the same in
    every FoV-offset bin; shape (n_reco_energy, n_fov_offset), deg."""
    n_offset = check_edges(fov_offset_bins, u.deg, "FoV offset bins").size - 1
    return np.repeat(u.Quantity(theta_cuts["cut"]).to(u.deg)[:, None], n_offset, axis=1)


def optimise_gammaness_cut(signal: QTable, background: QTable, reco_energy_bins: u.Quantity, theta_cuts: QTable,
                           efficiencies: np.ndarray = GAMMA_EFFICIENCIES, alpha: float = ALPHA,
                           fov_offset_min: u.Quantity = 0 * u.deg, fov_offset_max: u.Quantity = FOV_OFFSET_MAX,
                           min_events: int = MIN_EVENTS, min_background_events: int = 0,
                           smoothing_bins: int = 0, **criteria: float) -> tuple[QTable, QTable]:
    """The gammaness cut with the best differential sensitivity in each reconstructed energy bin.

    For every gamma ``efficiency`` the cut per bin comes from ``signal`` (weighted gammas, no cut
    yet); the signal then passes that cut and ``theta_cuts``, the background (weighted, no cut
    yet) that cut, and the bin keeps the efficiency of the lowest relative sensitivity
    (``criteria``: ``sensitivity.relative_sensitivity``'s keywords). With ``min_background_events``
    only cuts that leave at least that many simulated background events in the FoV ring compete (the
    loosest cut where none does), so that the choice does not follow the fluctuations of a few
    heavily weighted events (0: pyirf's choice). With ``smoothing_bins`` = s > 0 a bin keeps the
    efficiency whose relative sensitivity, each bin's curve divided by its best, has the lowest
    geometric mean over the bin and its s neighbours on each side (among the efficiencies valid in the
    bin itself): the efficiency then follows the trend of the neighbouring bins rather than a few
    background events' fluctuation in one bin, in the manner of the smoothed cut optimisations of
    Eventdisplay (0: each bin on its own, as pyirf). Returns the cut table (with ``efficiency``;
    invalid where no efficiency gave a sensitivity) and the sensitivity with it."""
    require_columns(signal, ("gammaness", "reco_energy", "theta", "weight"), "gammaness optimisation signal")
    require_columns(background, ("gammaness", "reco_energy", "reco_source_fov_offset", "weight"),
                    "gammaness optimisation background")
    efficiencies = np.asarray(efficiencies, np.float64)
    if efficiencies.ndim != 1 or efficiencies.size == 0 or np.any((efficiencies <= 0) | (efficiencies > 1)):
        raise CtasimError(f"gammaness optimisation: efficiencies {efficiencies}: expected values in (0, 1]")
    edges = check_edges(reco_energy_bins, u.TeV, "reconstructed energy bins")
    scan = percentile_cut(signal["gammaness"], signal["reco_energy"], edges, 100.0 * (1.0 - efficiencies),
                          np.inf, min_events=min_events)
    in_theta = evaluate_cut(signal["theta"], signal["reco_energy"], theta_cuts, operator.le)
    n_signal, n_off, raw_off = np.empty((3, edges.size - 1, efficiencies.size))
    for k in range(efficiencies.size):
        cut_k = scan.copy(copy_data=False)
        cut_k["cut"] = scan["cut"][:, k]
        signal_pass = in_theta & evaluate_cut(signal["gammaness"], signal["reco_energy"], cut_k, operator.ge)
        background_pass = evaluate_cut(background["gammaness"], background["reco_energy"], cut_k, operator.ge)
        n_signal[:, k] = weighted_counts(signal, edges, signal_pass)[1]
        raw_off[:, k], n_off[:, k] = background_off_counts(background, edges, theta_cuts, alpha, fov_offset_min,
                                                           fov_offset_max, background_pass)
    relative = relative_sensitivity(n_signal, n_off, alpha, **criteria)
    enough = raw_off >= min_background_events
    loosest = efficiencies == efficiencies.max()
    relative = np.where(enough | (~enough.any(axis=1, keepdims=True) & loosest), relative, np.nan)
    found = np.isfinite(relative).any(axis=1)
    best = np.argmin(_smoothed_log_relative(relative, smoothing_bins), axis=1)
    rows = np.arange(edges.size - 1)
    best_cut = _cut_table(edges, scan["n_events"])
    best_cut["cut"] = np.where(found, scan["cut"][rows, best], np.inf)
    best_cut["valid"] = found & scan["valid"]
    best_cut["efficiency"] = np.where(found, efficiencies[best], np.nan)
    signal_pass = in_theta & evaluate_cut(signal["gammaness"], signal["reco_energy"], best_cut, operator.ge)
    background_pass = evaluate_cut(background["gammaness"], background["reco_energy"], best_cut, operator.ge)
    sensitivity = differential_sensitivity(signal[signal_pass], background[background_pass], edges, theta_cuts,
                                           alpha=alpha, fov_offset_min=fov_offset_min,
                                           fov_offset_max=fov_offset_max, **criteria)
    return best_cut, sensitivity


def _smoothed_log_relative(relative: np.ndarray, smoothing_bins: int) -> np.ndarray:
    """(n_bins, n_efficiencies) figure to minimise per bin: log of ``relative`` over its bin's best,
    averaged over the bin and ``smoothing_bins`` neighbours each side (NaN entries skipped); +inf
    where the bin's own ``relative`` is not finite."""
    if smoothing_bins < 0:
        raise CtasimError(f"gammaness optimisation: smoothing_bins {smoothing_bins}: expected at least 0")
    finite = np.isfinite(relative) & (relative > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = np.min(np.where(finite, relative, np.inf), axis=1, keepdims=True)
        log_rel = np.where(finite, np.log(relative / best), 0.0)
    total, count = np.zeros_like(log_rel), np.zeros_like(log_rel)
    n_bins = relative.shape[0]
    for shift in range(-smoothing_bins, smoothing_bins + 1):
        lo, hi = max(0, -shift), min(n_bins, n_bins - shift)  # bins k whose neighbour k + shift exists
        total[lo:hi] += log_rel[lo + shift : hi + shift]
        count[lo:hi] += finite[lo + shift : hi + shift]
    return np.where(finite, total / np.maximum(count, 1), np.inf)


def _cut_table(edges: u.Quantity, counts: np.ndarray) -> QTable:
    table = QTable()
    table["low"], table["high"], table["center"] = edges[:-1], edges[1:], geometric_center(edges)
    table["n_events"] = np.asarray(counts, np.int64)
    return table


def _binned_quantiles(values: np.ndarray, idx: np.ndarray, n_bins: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles ``q`` (fractions) of ``values`` in each bin ``idx`` (n_bins, n_q), numpy's linear
    method, all bins at once; and the number of values per bin. Empty bins hold garbage."""
    order = np.lexsort((values, idx))
    v = values[order]
    counts = np.bincount(idx, minlength=n_bins)
    starts = np.cumsum(counts) - counts
    last = np.maximum(counts - 1, 0)[:, None]
    pos = q[None, :] * last
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, last)
    frac = pos - lo
    top = max(v.size - 1, 0)
    a = v[np.minimum(starts[:, None] + lo, top)] if v.size else np.zeros(pos.shape)
    b = v[np.minimum(starts[:, None] + hi, top)] if v.size else np.zeros(pos.shape)
    return a + frac * (b - a), counts


def _plain(value: float | u.Quantity | None, unit: u.UnitBase | None) -> float | None:
    if value is None or unit is None:
        return value
    return u.Quantity(value).to_value(unit)
