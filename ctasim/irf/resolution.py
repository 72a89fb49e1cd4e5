"""Angular resolution (per true or reconstructed energy) and energy resolution (per true energy)
of selected gammas, as QTables.

The definitions are ``ctasim.reco.metrics``' (the DL2 summary's): angular resolution = 68%
containment radius of the angle between reconstructed and true direction; energy bias = median of
E_reco / E_true - 1; energy resolution = half width of its 16-84% interval. Bins with fewer than
``min_events`` events have ``valid`` False and NaN values.
"""

from __future__ import annotations

from typing import Literal

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from ..reco import metrics
from .binning import check_edges, geometric_center
from .events import require_columns

MIN_EVENTS = 10

EnergyAxis = Literal["true", "reco"]


def angular_resolution(selected: QTable, energy_bins: u.Quantity, energy: EnergyAxis = "true",
                       containment: float = 0.68, min_events: int = MIN_EVENTS) -> QTable:
    """Columns {energy}_energy_low/high/center, n_events, angular_resolution (deg), valid."""
    key = _energy_key(energy)
    require_columns(selected, (key, "reco_alt", "reco_az", "true_alt", "true_az"), "angular resolution")
    edges = _edges_of(selected, energy_bins, "angular resolution")
    deg = u.deg
    figures = metrics.angular_resolution(selected[key].to_value(u.TeV), selected["reco_alt"].to_value(deg),
                                         selected["reco_az"].to_value(deg), selected["true_alt"].to_value(deg),
                                         selected["true_az"].to_value(deg), edges.to_value(u.TeV), containment,
                                         min_events)
    table = _table(key, edges, figures, "angular_resolution_deg")
    table["angular_resolution"] = _values(figures["angular_resolution_deg"]) * deg
    return table


def energy_resolution(selected: QTable, true_energy_bins: u.Quantity, min_events: int = MIN_EVENTS) -> QTable:
    """Columns true_energy_low/high/center, n_events, bias, resolution, valid."""
    require_columns(selected, ("true_energy", "reco_energy"), "energy resolution")
    edges = _edges_of(selected, true_energy_bins, "energy resolution")
    figures = metrics.energy_bias_resolution(selected["true_energy"].to_value(u.TeV),
                                             selected["reco_energy"].to_value(u.TeV), edges.to_value(u.TeV), min_events)
    table = _table("true_energy", edges, figures, "energy_resolution")
    table["bias"] = _values(figures["energy_bias"])
    table["resolution"] = _values(figures["energy_resolution"])
    return table


def _energy_key(energy: str) -> str:
    if energy not in ("true", "reco"):
        raise CtasimError(f"resolution: energy = {energy!r}: expected 'true' or 'reco'")
    return f"{energy}_energy"


def _edges_of(selected: QTable, energy_bins: u.Quantity, what: str) -> u.Quantity:
    if len(selected) == 0:
        raise CtasimError(f"{what}: no selected events (empty selection after cuts)")
    return check_edges(energy_bins, u.TeV, f"{what} energy bins")


def _table(key: str, edges: u.Quantity, figures: dict, figure: str) -> QTable:
    table = QTable()
    table[f"{key}_low"], table[f"{key}_high"], table[f"{key}_center"] = edges[:-1], edges[1:], geometric_center(edges)
    table["n_events"] = np.asarray(figures["n_events"], np.int64)
    table["valid"] = np.array([v is not None for v in figures[figure]])
    return table


def _values(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], np.float64)
