"""Effective area in bins of true energy and FoV offset (m^2).

A_eff = (selected events / simulated showers) x pi r^2 of the scatter disk, per (true energy, FoV
offset) bin, with the simulated showers from the bookkeeping (``weights.SimulationInfo``). A
point-source population fills only the offset bin of its source (give one offset bin around it
for a point-like IRF); bins without simulated showers hold 0 m^2.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from .binning import check_edges, histogram
from .events import require_columns
from .weights import SimulationInfo


def effective_area(selected: QTable, simulation: SimulationInfo, true_energy_bins: u.Quantity,
                   fov_offset_bins: u.Quantity) -> u.Quantity:
    """A_eff of the ``selected`` events (after all cuts) of one population; shape
    (n_true_energy, n_fov_offset). CtasimError for no events, an energy bin outside the simulated
    range, or events in bins where nothing was simulated."""
    require_columns(selected, ("true_energy", "true_source_fov_offset"), "effective area")
    if len(selected) == 0:
        raise CtasimError("effective area: no selected events (empty selection after cuts)")
    energy_edges = check_edges(true_energy_bins, u.TeV, "true energy bins")
    offset_edges = check_edges(fov_offset_bins, u.deg, "FoV offset bins")
    n_simulated = simulation.n_showers_per_energy_and_offset(energy_edges, offset_edges)
    outside = n_simulated.sum(axis=1) == 0
    if outside.any():
        lo, hi = energy_edges[:-1][outside].value, energy_edges[1:][outside].value
        bins = ", ".join(f"{a:.3g}-{b:.3g}" for a, b in zip(lo, hi))
        raise CtasimError(f"effective area: true energy bin(s) {bins} TeV outside the simulated range "
                          f"{simulation.energy_min.value:.3g}-{simulation.energy_max.value:.3g} TeV")
    n_selected = histogram([(selected["true_energy"], energy_edges),
                            (selected["true_source_fov_offset"], offset_edges)])
    orphans = (n_selected > 0) & (n_simulated == 0)
    if orphans.any():
        raise CtasimError(f"effective area: {int(n_selected[orphans].sum())} selected event(s) in bins where nothing "
                          "was simulated (another population, or an offset bin edge on the source offset?)")
    ratio = n_selected / np.where(n_simulated > 0, n_simulated, 1.0)
    return ratio * simulation.area
