"""Simulation truth: the shower table, per-telescope impacts and what was simulated.

``/simulation/event/subarray/all_showers`` (SHOWER_DTYPE, every simulated shower; DL1 and DL2 files
also hold ctapipe's ``/simulation/event/subarray/shower``: the triggered ones in trigger order, no
time), ``/simulation/event/telescope/impact/tel_NNN`` (IMPACT_DTYPE) and
``/simulation/service/shower_distribution`` (DISTRIBUTION_DTYPE, one row per population: IRFs need
it) and, when pixel faults were injected, ``/simulation/service/pixel_faults/tel_NNN``
(``pixel_fault_dtype``). Times are simulated seconds since the run start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ids import EVENT_COLUMNS, TELESCOPE_EVENT_COLUMNS

SHOWER_DTYPE = np.dtype(EVENT_COLUMNS + [
    ("true_energy", "f8"),          # TeV
    ("true_alt", "f8"),             # deg
    ("true_az", "f8"),              # deg
    ("true_core_x", "f8"),          # m, ground frame
    ("true_core_y", "f8"),          # m
    ("true_h_first_int", "f8"),     # m above the observation level
    ("true_x_max", "f8"),           # g/cm^2 (slant depth)
    ("true_shower_primary_id", "i2"),   # ids.PRIMARY_IDS
    ("time", "f8"),                 # s since run start
])
SHOWER_UNITS = {
    "true_energy": "TeV", "true_alt": "deg", "true_az": "deg", "true_core_x": "m",
    "true_core_y": "m", "true_h_first_int": "m", "true_x_max": "g / cm2", "time": "s",
}

IMPACT_DTYPE = np.dtype(TELESCOPE_EVENT_COLUMNS + [
    ("true_impact_distance", "f4"),   # m, telescope to shower axis (ctapipe name)
    ("true_image_intensity", "f4"),   # Cherenkov p.e. in the camera before noise
])
IMPACT_UNITS = {"true_impact_distance": "m"}

DISTRIBUTION_DTYPE = np.dtype([
    ("obs_id", "i4"), ("particle", "S16"), ("n_showers", "i8"), ("energy_min", "f8"), ("energy_max", "f8"),
    ("spectral_index", "f8"), ("max_scatter_radius", "f8"), ("viewcone_min", "f8"), ("viewcone_max", "f8"),
    ("source_offset", "f8"),
])
DISTRIBUTION_UNITS = {"energy_min": "TeV", "energy_max": "TeV", "max_scatter_radius": "m",
                      "viewcone_min": "deg", "viewcone_max": "deg", "source_offset": "deg"}


def pixel_fault_dtype(n_pixels: int) -> np.dtype:
    """``/simulation/service/pixel_faults/tel_NNN``: the pixel faults injected into a telescope's camera
    (one row): dead and hot pixels, the sky's NSB rate per pixel (gradient and stars included), the
    stars' share of it and the hot pixels' extra rate (p.e./ns)."""
    return np.dtype([("tel_id", "i2"), ("dead", "?", (n_pixels,)), ("hot", "?", (n_pixels,)),
                     ("nsb_rate", "f4", (n_pixels,)), ("star_rate", "f4", (n_pixels,)),
                     ("hot_rate", "f4", (n_pixels,))])


PIXEL_FAULT_UNITS = {"nsb_rate": "1 / ns", "star_rate": "1 / ns", "hot_rate": "1 / ns"}


@dataclass
class ShowerTruth:
    """The truth of one block of showers: SHOWER_DTYPE rows and the simulated span (s)."""

    stream: str
    block_index: int
    showers: np.ndarray
    t_start: float
    t_stop: float
    wall_seconds: float = 0.0  # wall time spent making the block (metering), set by its host

    @property
    def n_showers(self) -> int:
        return int(self.showers.size)
