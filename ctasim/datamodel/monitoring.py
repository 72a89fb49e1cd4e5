"""Technical data (``/dl0/monitoring/...``): pointing, weather, camera trigger rates, pedestals.

Monitoring tables never hold NaN: a value that cannot be measured (e.g. a pedestal without
pedestal events) is left out and counted, never written as NaN.
"""

from __future__ import annotations

import numpy as np

from .ids import TEL_ID

#: one row per telescope and block, as a camera station reports it
CAMERA_MONITORING_DTYPE = np.dtype([
    TEL_ID, ("time", "f8"), ("n_triggers", "i8"), ("trigger_rate_hz", "f8"), ("n_read_out", "i8"),
    ("n_pedestal_events", "i8"), ("pedestal_mean_adc", "f4"), ("pedestal_std_adc", "f4"),
])
#: the columns of each per-telescope monitoring table, taken from CAMERA_MONITORING_DTYPE rows
TRIGGER_RATE_COLUMNS = ("tel_id", "time", "n_triggers", "trigger_rate_hz", "n_read_out")
PEDESTAL_COLUMNS = ("tel_id", "time", "n_pedestal_events", "pedestal_mean_adc", "pedestal_std_adc")
CAMERA_MONITORING_UNITS = {"time": "s", "trigger_rate_hz": "Hz", "pedestal_mean_adc": "adu",
                           "pedestal_std_adc": "adu"}

POINTING_DTYPE = np.dtype([("time", "f8"), ("pointing_alt", "f8"), ("pointing_az", "f8")])
POINTING_UNITS = {"time": "s", "pointing_alt": "deg", "pointing_az": "deg"}

WEATHER_DTYPE = np.dtype([("time", "f8"), ("temperature", "f4"), ("relative_humidity", "f4"),
                          ("wind_speed", "f4")])
WEATHER_UNITS = {"time": "s", "temperature": "deg_C", "relative_humidity": "%", "wind_speed": "m / s"}


def units_of(columns: tuple[str, ...], units: dict[str, str]) -> dict[str, str]:
    """The entries of ``units`` for the given columns."""
    return {c: u for c, u in units.items() if c in columns}
