"""Technical data of the array: pointing records and a toy weather station, one record per block."""

from __future__ import annotations

import numpy as np

from ..datamodel.monitoring import POINTING_DTYPE, WEATHER_DTYPE
from ..rng import block_rng


def pointing_record(time_s: float, alt_deg: float, az_deg: float) -> np.ndarray:
    """One POINTING_DTYPE row: the array's pointing (deg) at ``time_s`` (s since run start)."""
    return np.array([(time_s, alt_deg, az_deg)], POINTING_DTYPE)


def weather_record(time_s: float, seed: int, stream: str, block_index: int) -> np.ndarray:
    """One WEATHER_DTYPE row of a toy weather station (temperature deg C, relative humidity %,
    wind speed m/s), deterministic per (seed, stream, block)."""
    rng = block_rng(seed, f"weather/{stream}", block_index)
    return np.array([(time_s, 10.0 + rng.normal(0, 0.5), 30.0 + rng.normal(0, 2), abs(rng.normal(5, 2)))],
                    WEATHER_DTYPE)
