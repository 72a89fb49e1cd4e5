"""Direction from the disp of each image: where along its axis the source lies, combined per event.

The source of a gamma image lies on the image's major axis, at an angular distance ``disp`` from
its centroid (cog) that grows with the image's elongation and impact distance (Fomin et al. 1994,
Astropart. Phys. 2, 137; Lessard et al. 2001, Astropart. Phys. 15, 1). ``DispRegressor`` learns
``|disp|`` (deg, telescope frame) per telescope image from the image parameters, on gammas, with the
LightGBM set-up of ``ctasim.reco.models`` (target: the projection of the true source position minus
the cog on the axis ``(cos psi, sin psi)``). The head-tail ambiguity is resolved by the stereo
geometry: each image takes the side of its cog nearer to the Hillas-plane intersection
(``ctasim.reco.stereo``), right for 98 % of quickstart gamma images. The disp direction is the
intensity-weighted mean of the images' source positions (``combine_per_event``), in the common
telescope frame of the parallel pointing.

This is the direction method of Eventdisplay's ``DispBDT``, with which the CTAO Prod5 IRFs were
made: it keeps its precision for nearly parallel image axes, where the plane intersection fails (two
or three low-energy images). With many images the intersection is the better one (long images of
distant high-energy showers, whose disp is hard to regress). The event direction is therefore the
disp direction for events of fewer than ``MIX_MIN_MULTIPLICITY`` images and the mean of both beyond
(est.). On ``scenarios/fidelity_north.yaml`` (R68 in deg, disp / intersection / event direction):
0.15 / 0.20 / 0.15 at 0.1 TeV, 0.098 / 0.15 / 0.106 at 0.16 TeV, 0.046 / 0.041 / 0.039 at 1.3 TeV,
0.057 / 0.035 / 0.043 at 13 TeV.
"""

from __future__ import annotations

import numpy as np

from ctasim.instrument.frames import altaz_to_telescope, altaz_to_vector, telescope_to_altaz, vector_to_altaz

from .models import TelescopeFeatures, _TelescopeModel, _truth_per_row, combine_per_event
from .stereo import StereoResult

#: events with at least this many images take the mean of the disp direction and the intersection
MIX_MIN_MULTIPLICITY = 4


def along_axis(features: TelescopeFeatures, alt_deg: np.ndarray, az_deg: np.ndarray) -> np.ndarray:
    """Per row: the signed distance (deg) from the image cog to the direction (alt, az) of that row,
    projected on the image axis (cos psi, sin psi) of the telescope frame."""
    c = features.columns
    lon, lat = altaz_to_telescope(alt_deg, az_deg, c["pointing_alt"], c["pointing_az"])
    psi = np.deg2rad(c["hillas_psi"])
    return (lon - c["hillas_fov_lon"]) * np.cos(psi) + (lat - c["hillas_fov_lat"]) * np.sin(psi)


class DispRegressor(_TelescopeModel):
    """Per-telescope regression of |disp| (deg) on gammas; see the module docstring."""

    kind = "disp"
    objective = "regression"

    def _target(self, features, truth):
        return np.abs(along_axis(features, _truth_per_row(features, truth, "true_alt"),
                                 _truth_per_row(features, truth, "true_az")))


def event_direction(features: TelescopeFeatures, stereo: StereoResult,
                    abs_disp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event directions from per-row |disp| (deg) and the intersection of ``stereo`` (see the
    module docstring): (alt, az) in deg per event (NaN where either is missing), and the signed disp
    per row (deg)."""
    alt, az, signed = disp_direction(features, stereo, abs_disp)
    both = stereo.multiplicity >= MIX_MIN_MULTIPLICITY
    mean = altaz_to_vector(alt[both], az[both]) + altaz_to_vector(stereo.reco_alt[both], stereo.reco_az[both])
    alt[both], az[both] = vector_to_altaz(mean)
    return alt, az, signed


def disp_direction(features: TelescopeFeatures, stereo: StereoResult,
                   abs_disp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disp directions from per-row |disp| (deg): (alt, az) in deg per event of ``stereo`` (NaN
    where no selected row has a finite disp or the event has no plane intersection), and the signed
    disp per row (deg, positive towards the stereo side; NaN for rows not used)."""
    ev = features.event_index
    side = np.sign(along_axis(features, stereo.reco_alt[ev], stereo.reco_az[ev]))
    signed = np.where(side < 0, -abs_disp, abs_disp)
    signed = np.where(features.selected & np.isfinite(side), signed, np.nan)
    c = features.columns
    psi = np.deg2rad(c["hillas_psi"])
    lon = combine_per_event(c["hillas_fov_lon"] + signed * np.cos(psi), features)
    lat = combine_per_event(c["hillas_fov_lat"] + signed * np.sin(psi), features)
    ok = np.isfinite(lon) & np.isfinite(lat)
    alt, az = np.full(stereo.n_events, np.nan), np.full(stereo.n_events, np.nan)
    if ok.any():
        alt[ok], az[ok] = telescope_to_altaz(lon[ok], lat[ok], stereo.pointing_alt[ok], stereo.pointing_az[ok])
    return alt, az, signed
