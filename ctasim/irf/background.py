"""Background rate in reconstructed energy x FoV offset (s^-1 MeV^-1 sr^-1, GADF BKG_2D).

The weighted background events (all species, after the gammaness cut) per bin, divided by the
energy width, the solid angle of the offset ring and the livetime the weights were computed for.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from ..spectra import cone_solid_angle
from .binning import check_edges, histogram
from .events import require_columns
from .weights import positive_livetime

BACKGROUND_UNIT = u.Unit("1 / (s MeV sr)")


def background_2d(selected: QTable, reco_energy_bins: u.Quantity, fov_offset_bins: u.Quantity,
                  livetime: u.Quantity) -> u.Quantity:
    """Background rate of the ``selected`` weighted events; shape (n_reco_energy, n_fov_offset)."""
    require_columns(selected, ("reco_energy", "reco_source_fov_offset", "weight"), "background rate")
    if len(selected) == 0:
        raise CtasimError("background rate: no selected events (empty selection after cuts)")
    t = positive_livetime(livetime)
    energy_edges = check_edges(reco_energy_bins, u.TeV, "reconstructed energy bins")
    offset_edges = check_edges(fov_offset_bins, u.deg, "FoV offset bins")
    axes = [(selected["reco_energy"], energy_edges), (selected["reco_source_fov_offset"], offset_edges)]
    counts = histogram(axes, selected["weight"])
    d_energy = np.diff(energy_edges)[:, None]
    d_omega = np.diff(cone_solid_angle(offset_edges.to_value(u.deg)))[None, :] * u.sr
    return (counts / (d_energy * d_omega * t)).to(BACKGROUND_UNIT)
