"""Technical data (``/dl0/monitoring/...``): pointing, weather, camera trigger rates, pedestals (per
camera and per pixel); the pixel status found from them (``/dl1/monitoring/...``).

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

#: per-pixel pedestal monitoring of camera stations and the pixel status found from it
PIXEL_STATUS_DEAD = 1    # pedestal std far below the camera median: no photo-signal
PIXEL_STATUS_NOISY = 2   # pedestal std far above the camera median: a hot pixel or a star
PIXEL_PEDESTAL_UNITS = {"time": "s", "pixel_std_adc": "adu"}
PIXEL_STATUS_UNITS = {"pixel_std_adc": "adu", "camera_median_std_adc": "adu", "nsb_gradient_per_deg": "1 / deg",
                      "nsb_gradient_direction_deg": "deg"}


def pixel_pedestal_dtype(n_pixels: int) -> np.dtype:
    """``/dl0/monitoring/telescope/pixel_pedestal/tel_NNN``: one row per telescope and block, the std
    (ADC, high gain) of each pixel's samples in the block's pedestal events."""
    return np.dtype([TEL_ID, ("time", "f8"), ("n_pedestal_events", "i8"), ("pixel_std_adc", "f4", (n_pixels,))])


def pixel_status_dtype(n_pixels: int) -> np.dtype:
    """``/dl1/monitoring/telescope/pixel_status/tel_NNN``: one row per telescope and run (ctapipe's
    PixelStatus idea): the pooled pedestal std per pixel (ADC), the camera median, the status bits
    (PIXEL_STATUS_*), ``unusable`` (masked in cleaning) and the NSB gradient fitted across the camera
    (fraction of the mean NSB per deg, direction from fov_lon towards fov_lat)."""
    return np.dtype([TEL_ID, ("n_pedestal_events", "i8"), ("pixel_std_adc", "f4", (n_pixels,)),
                     ("camera_median_std_adc", "f4"), ("pixel_status", "u1", (n_pixels,)),
                     ("unusable", "?", (n_pixels,)), ("nsb_gradient_per_deg", "f4"),
                     ("nsb_gradient_direction_deg", "f4")])


POINTING_DTYPE = np.dtype([("time", "f8"), ("pointing_alt", "f8"), ("pointing_az", "f8")])
POINTING_UNITS = {"time": "s", "pointing_alt": "deg", "pointing_az": "deg"}

WEATHER_DTYPE = np.dtype([("time", "f8"), ("temperature", "f4"), ("relative_humidity", "f4"),
                          ("wind_speed", "f4")])
WEATHER_UNITS = {"time": "s", "temperature": "deg_C", "relative_humidity": "%", "wind_speed": "m / s"}


def units_of(columns: tuple[str, ...], units: dict[str, str]) -> dict[str, str]:
    """The entries of ``units`` for the given columns."""
    return {c: u for c, u in units.items() if c in columns}
