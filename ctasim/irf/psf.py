"""Point-spread function as a table in true energy x FoV offset x source offset (1 / sr).

PSF[i, k, l] = dP/dOmega of the angle theta between reconstructed and true direction in source
offset bin l, for events of true-energy bin i and FoV-offset bin k (GADF PSF_TABLE). Normalised by
all events of the (i, k) cell, so its integral over solid angle is the fraction of them within the
largest source offset; cells without events are 0.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from ..spectra import cone_solid_angle
from .binning import check_edges, histogram
from .events import require_columns


def psf_table(selected: QTable, true_energy_bins: u.Quantity, fov_offset_bins: u.Quantity,
              source_offset_bins: u.Quantity) -> u.Quantity:
    """dP/dOmega of the ``selected`` gammas' theta; shape (n_true_energy, n_fov_offset, n_source_offset)."""
    require_columns(selected, ("true_energy", "true_source_fov_offset", "theta"), "PSF")
    if len(selected) == 0:
        raise CtasimError("PSF: no selected events (empty selection after cuts)")
    energy_edges = check_edges(true_energy_bins, u.TeV, "true energy bins")
    offset_edges = check_edges(fov_offset_bins, u.deg, "FoV offset bins")
    rad_edges = check_edges(source_offset_bins, u.deg, "source offset bins")
    counts = histogram([(selected["true_energy"], energy_edges), (selected["true_source_fov_offset"], offset_edges),
                          (selected["theta"], rad_edges)])
    n_cell = histogram([(selected["true_energy"], energy_edges), (selected["true_source_fov_offset"], offset_edges)])
    density = counts / np.diff(cone_solid_angle(rad_edges.to_value(u.deg)))[None, None, :]
    return np.divide(density, n_cell[:, :, None], out=np.zeros_like(density), where=n_cell[:, :, None] > 0) / u.sr
