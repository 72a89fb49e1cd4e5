"""Bin edges of IRF axes (astropy Quantities), their checks and the lookup of values in them."""

from __future__ import annotations

import astropy.units as u
import numpy as np

from ..errors import CtasimError
from ..reco.metrics import energy_bins as _energy_bins_tev


def energy_bins(e_min: u.Quantity, e_max: u.Quantity, per_decade: int = 5) -> u.Quantity:
    """Logarithmic energy bin edges (TeV) from e_min to e_max, ``per_decade`` bins per decade."""
    return _energy_bins_tev(e_min.to_value(u.TeV), e_max.to_value(u.TeV), per_decade) * u.TeV


def check_edges(edges: u.Quantity | np.ndarray, unit: u.UnitLike, name: str) -> u.Quantity:
    """``edges`` as a Quantity in ``unit``; CtasimError unless 1-D, >= 2 finite increasing edges."""
    unit = u.Unit(unit)
    try:
        edges = u.Quantity(edges).to(unit)
    except (u.UnitsError, TypeError, ValueError) as err:
        raise CtasimError(f"{name}: expected bin edges in {unit or 'no unit'} ({err})") from None
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges.value)) or np.any(np.diff(edges.value) <= 0):
        raise CtasimError(f"{name}: expected at least 2 finite, strictly increasing bin edges, got {edges}")
    return edges


def geometric_center(edges: u.Quantity) -> u.Quantity:
    """sqrt(low * high) of each bin (for logarithmic energy bins)."""
    return np.sqrt(edges[:-1] * edges[1:])


def bin_index(values: u.Quantity | np.ndarray, edges: u.Quantity | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin of each value (``low <= value < high``) and whether it lies inside the edges at all."""
    unit = getattr(edges, "unit", u.one)
    v = u.Quantity(values).to_value(unit)
    e = u.Quantity(edges).to_value(unit)
    idx = np.searchsorted(e, v, side="right") - 1
    inside = (idx >= 0) & (idx < e.size - 1)
    return np.where(inside, idx, 0), inside


def histogram(axes: list[tuple[u.Quantity | np.ndarray, u.Quantity | np.ndarray]],
              weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or summed weights) per bin of every (values, edges) axis, shape (n_bins per axis);
    values outside an axis are left out."""
    shape = tuple(len(edges) - 1 for _, edges in axes)
    n = len(axes[0][0])
    flat, keep = np.zeros(n, np.int64), np.ones(n, bool)
    for (values, edges), size in zip(axes, shape):
        idx, inside = bin_index(values, edges)
        flat = flat * size + idx
        keep &= inside
    w = None if weights is None else np.asarray(weights, np.float64)[keep]
    counts = np.bincount(flat[keep], weights=w, minlength=int(np.prod(shape)))
    return counts.astype(np.float64).reshape(shape)
