"""Energy-dependent DL2 performance figures, returned as JSON-friendly dicts with bin edges.

Definitions (REFERENCE.md "Published CTAO performance"):
- angular resolution: 68% containment radius (deg) of the angle between reco and true direction;
- energy bias: median of (E_reco - E_true) / E_true;
- energy resolution: half width of the 16-84% interval of E_reco / E_true;
- ROC AUC: probability that a random gamma scores above a random hadron (ties count half),
  computed from ranks (Mann-Whitney U).
Every dict holds ``energy_bins_tev`` (edges), ``energy_center_tev`` (geometric centres) and
``n_events`` per bin; a figure is None in a bin with fewer than ``min_events`` events.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ctasim.instrument.frames import altaz_to_vector


def energy_bins(
    e_min_tev: float = 0.01, e_max_tev: float = 100.0, per_decade: int = 5
) -> np.ndarray:
    """Logarithmic energy bin edges (TeV), ``per_decade`` bins per decade."""
    n = round(np.log10(e_max_tev / e_min_tev) * per_decade)
    return np.geomspace(e_min_tev, e_max_tev, n + 1)


def angular_separation_deg(alt1, az1, alt2, az2) -> np.ndarray:
    """Great-circle angle (deg) between directions given in (alt, az) deg."""
    v1, v2 = altaz_to_vector(alt1, az1), altaz_to_vector(alt2, az2)
    # atan2 of |cross| and dot stays accurate for tiny angles
    return np.rad2deg(
        np.arctan2(np.linalg.norm(np.cross(v1, v2), axis=-1), np.sum(v1 * v2, axis=-1))
    )


def roc_auc(scores: np.ndarray, is_signal: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for the boolean labels ``is_signal``; NaN if a
    class is empty."""
    scores = np.asarray(scores, np.float64)
    is_signal = np.asarray(is_signal, bool)
    n_pos, n_neg = int(is_signal.sum()), int((~is_signal).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size)
    # average rank (1-based) within runs of equal scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[is_signal].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _per_bin(
    energy: np.ndarray,
    bins: np.ndarray,
    min_events: int,
    figures: dict[str, Callable[[np.ndarray], float]],
) -> dict:
    """Apply each figure to the row indices of every energy bin."""
    energy = np.asarray(energy, np.float64)
    idx = np.digitize(energy, bins) - 1
    n_bins = bins.size - 1
    counts = np.bincount(idx[(idx >= 0) & (idx < n_bins)], minlength=n_bins)
    out = {
        "energy_bins_tev": bins.tolist(),
        "energy_center_tev": np.sqrt(bins[:-1] * bins[1:]).tolist(),
        "n_events": counts.tolist(),
    }
    for name, fn in figures.items():
        values = []
        for b in range(n_bins):
            rows = np.flatnonzero(idx == b)
            values.append(float(fn(rows)) if rows.size >= min_events else None)
        out[name] = [None if v is not None and not np.isfinite(v) else v for v in values]
    return out


def angular_resolution(
    true_energy,
    reco_alt,
    reco_az,
    true_alt,
    true_az,
    bins: np.ndarray,
    containment: float = 0.68,
    min_events: int = 10,
) -> dict:
    """Containment radius (deg) per true-energy bin; key ``angular_resolution_deg``."""
    sep = angular_separation_deg(reco_alt, reco_az, true_alt, true_az)
    return {
        **_per_bin(
            true_energy,
            bins,
            min_events,
            {"angular_resolution_deg": lambda r: np.quantile(sep[r], containment)},
        ),
        "containment": containment,
    }


def energy_bias_resolution(
    true_energy, reco_energy, bins: np.ndarray, min_events: int = 10
) -> dict:
    """Bias and resolution per true-energy bin: keys ``energy_bias``, ``energy_resolution``."""
    ratio = np.asarray(reco_energy, np.float64) / np.asarray(true_energy, np.float64)
    return _per_bin(
        true_energy,
        bins,
        min_events,
        {
            "energy_bias": lambda r: np.median(ratio[r]) - 1.0,
            "energy_resolution": lambda r: np.diff(np.quantile(ratio[r], [0.16, 0.84]))[0] / 2.0,
        },
    )


def auc_per_energy_bin(energy, gammaness, is_gamma, bins: np.ndarray, min_events: int = 10) -> dict:
    """Gamma/hadron ROC AUC per bin of ``energy`` (true or reconstructed, the caller's choice)."""
    g, s = np.asarray(gammaness, np.float64), np.asarray(is_gamma, bool)
    return _per_bin(energy, bins, min_events, {"roc_auc": lambda r: roc_auc(g[r], s[r])})


def efficiency(selected, energy, bins: np.ndarray, min_events: int = 1) -> dict:
    """Fraction of events per energy bin that are ``selected`` (bool); key ``efficiency``."""
    sel = np.asarray(selected, bool)
    return _per_bin(energy, bins, min_events, {"efficiency": lambda r: sel[r].mean()})
