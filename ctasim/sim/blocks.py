"""Blocks of simulated events exchanged between the shower source, the cameras and later stages.

Column names follow ctapipe / DATA_MODEL.md. Times: absolute simulated time in s since the run
start (``time``, ``trigger_time``); waveform sample times in ns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SHOWER_DTYPE = np.dtype([
    ("obs_id", "i4"),
    ("event_id", "i8"),
    ("true_energy", "f8"),          # TeV
    ("true_alt", "f8"),             # deg
    ("true_az", "f8"),              # deg
    ("true_core_x", "f8"),          # m, ground frame
    ("true_core_y", "f8"),          # m
    ("true_h_first_int", "f8"),     # m above the observation level
    ("true_x_max", "f8"),           # g/cm^2 (slant depth)
    ("true_shower_primary_id", "i2"),   # 0 gamma, 1 electron, 101 proton
    ("time", "f8"),                 # s since run start
])

SHOWER_UNITS = {
    "true_energy": "TeV", "true_alt": "deg", "true_az": "deg", "true_core_x": "m",
    "true_core_y": "m", "true_h_first_int": "m", "true_x_max": "g / cm2", "time": "s",
}

PRIMARY_IDS = {"gamma": 0, "electron": 1, "proton": 101}


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


@dataclass
class TelescopeEvents:
    """Triggered R1 events of one telescope within one block (row order = event order)."""

    tel_id: int
    obs_id: int
    event_id: np.ndarray          # int64 [n]
    trigger_time: np.ndarray      # float64 [n] s since run start
    waveform: np.ndarray          # uint16 [n, n_channels, n_pixels, n_samples]
    true_image: np.ndarray        # int32 [n, n_pixels] Cherenkov p.e. (no NSB)
    impact_distance: np.ndarray   # float32 [n] m, telescope to shower axis
    extra: dict = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(self.event_id.size)

    def take(self, rows: np.ndarray) -> TelescopeEvents:
        """The subset of events at the given row indices or boolean mask."""
        return TelescopeEvents(
            self.tel_id, self.obs_id, self.event_id[rows], self.trigger_time[rows],
            self.waveform[rows], self.true_image[rows], self.impact_distance[rows],
            {k: v[rows] for k, v in self.extra.items()},
        )
