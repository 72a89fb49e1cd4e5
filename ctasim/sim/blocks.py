"""Blocks the simulator passes from the shower source to the camera simulation: the truth table
(``ctasim.datamodel.simulation.SHOWER_DTYPE``) with the showers' Cherenkov emission and muons.

Times: absolute simulated time in s since the run start; emission times in ns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datamodel.simulation import ShowerTruth


@dataclass
class LightEmission:
    """Cherenkov emission points of all showers of a block, grouped per shower (CSR).

    Point k of shower i lies in ``offsets[i]:offsets[i+1]``. Positions in the ground frame (m),
    ``t`` the time (ns) at which the shower front passes the point relative to the shower's
    arrival at the ground core, ``photons`` the Cherenkov photons it emits, and ``dir_*`` the
    local axis of the emitting particles (unit vector along the motion: for gammas the shower
    axis, for hadron sub-showers their own axis). Each point stands for a stretch of shower whose
    emitters spread around it by ``lateral_sigma`` (m, Gaussian per axis, perpendicular to dir).
    """

    offsets: np.ndarray     # int64 [n_showers + 1]
    x: np.ndarray           # float64 [n_points] m
    y: np.ndarray
    z: np.ndarray
    t: np.ndarray           # float64 ns
    photons: np.ndarray     # float64, photons emitted (all directions, 300-600 nm)
    cherenkov_angle: np.ndarray   # float64 rad, local Cherenkov angle at the point's altitude
    dir_x: np.ndarray       # float64, unit vector of the local particle direction (downwards)
    dir_y: np.ndarray
    dir_z: np.ndarray
    lateral_sigma: np.ndarray     # float64 m, lateral spread of the light around the point (per axis)


@dataclass
class MuonTracks:
    """Muons of all showers of a block that reach the observation level, grouped per shower (CSR).

    Muon k of shower i lies in ``offsets[i]:offsets[i+1]``. ``x, y, z`` (m, ground frame) is its
    production point and ``t`` (ns) its time there, on the same clock as ``LightEmission.t``;
    ``dir_*`` the unit vector of its motion (downwards); ``cherenkov_angle`` (rad) and
    ``photons_per_m`` (300-600 nm) describe its Cherenkov emission near the ground.
    """

    offsets: np.ndarray     # int64 [n_showers + 1]
    x: np.ndarray           # float64 [n_muons] m
    y: np.ndarray
    z: np.ndarray
    t: np.ndarray           # float64 ns
    dir_x: np.ndarray
    dir_y: np.ndarray
    dir_z: np.ndarray
    cherenkov_angle: np.ndarray   # float64 rad
    photons_per_m: np.ndarray     # float64 photons per metre of track


@dataclass
class ShowerBlock:
    """Showers of one block: truth table plus their light, and the simulated time span (s)."""

    stream: str
    block_index: int
    showers: np.ndarray             # SHOWER_DTYPE [n_showers]
    emission: LightEmission
    t_start: float
    t_stop: float
    muons: MuonTracks | None = None     # None: no muons simulated (gamma and electron showers)

    @property
    def n_showers(self) -> int:
        return int(self.showers.size)

    def truth(self) -> ShowerTruth:
        """The part later stages need: the truth rows and the simulated time span."""
        return ShowerTruth(self.stream, self.block_index, self.showers, self.t_start, self.t_stop)
