"""Energy dispersion: the migration matrix in true energy x migration x FoV offset.

MATRIX[i, j, k] = dP/dmu, the probability density of migration mu = E_reco / E_true in migration
bin j for events of true-energy bin i and FoV-offset bin k (GADF EDISP_2D). It is normalised by
all events of the (i, k) cell, so its integral over mu is the fraction of them inside the
migration range (1 when none migrate outside it); cells without events are 0.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from .binning import check_edges, histogram
from .events import require_columns


def energy_dispersion(selected: QTable, true_energy_bins: u.Quantity, migration_bins: np.ndarray,
                      fov_offset_bins: u.Quantity) -> np.ndarray:
    """dP/dmu of the ``selected`` gammas; shape (n_true_energy, n_migration, n_fov_offset)."""
    require_columns(selected, ("true_energy", "reco_energy", "true_source_fov_offset"), "energy dispersion")
    if len(selected) == 0:
        raise CtasimError("energy dispersion: no selected events (empty selection after cuts)")
    energy_edges = check_edges(true_energy_bins, u.TeV, "true energy bins")
    migra_edges = check_edges(migration_bins, u.one, "migration bins")
    offset_edges = check_edges(fov_offset_bins, u.deg, "FoV offset bins")
    migration = (selected["reco_energy"] / selected["true_energy"]).to(u.one)
    counts = histogram([(selected["true_energy"], energy_edges), (migration, migra_edges),
                          (selected["true_source_fov_offset"], offset_edges)])
    n_cell = histogram([(selected["true_energy"], energy_edges), (selected["true_source_fov_offset"], offset_edges)])
    density = counts / np.diff(migra_edges.value)[None, :, None]
    return np.divide(density, n_cell[:, None, :], out=np.zeros_like(density), where=n_cell[:, None, :] > 0)
