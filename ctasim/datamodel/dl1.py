"""DL1: image parameters and images of every telescope event (ctapipe's column names).

``/dl1/event/telescope/parameters/tel_NNN``: ids + PARAMETER_COLUMNS (same definitions as
ctapipe's containers of those prefixes, telescope frame, deg); ``/dl1/event/telescope/images/
tel_NNN``: ids + image (p.e.), peak_time (ns), image_mask, in the same row order. Charges in
photo-electrons carry no astropy unit, as in ctapipe.
"""

from __future__ import annotations

import numpy as np

from .ids import TELESCOPE_EVENT_COLUMNS

FLOAT_COLUMNS = (
    "hillas_intensity",
    "hillas_fov_lon",
    "hillas_fov_lat",
    "hillas_r",
    "hillas_phi",
    "hillas_length",
    "hillas_width",
    "hillas_psi",
    "hillas_skewness",
    "hillas_kurtosis",
    "leakage_pixels_width_1",
    "leakage_pixels_width_2",
    "leakage_intensity_width_1",
    "leakage_intensity_width_2",
    "concentration_cog",
    "concentration_core",
    "concentration_pixel",
    "timing_slope",
    "timing_intercept",
    "timing_deviation",
)
INT_COLUMNS = ("morphology_n_pixels", "morphology_n_islands")
PARAMETER_COLUMNS = FLOAT_COLUMNS + INT_COLUMNS
#: the parameter columns alone, as the image kernels return them
PARAMETERS_DTYPE = np.dtype([(c, np.float64) for c in FLOAT_COLUMNS] + [(c, np.int32) for c in INT_COLUMNS])
#: rows of ``/dl1/event/telescope/parameters/tel_NNN``
DL1_PARAMETERS_DTYPE = np.dtype(TELESCOPE_EVENT_COLUMNS + PARAMETERS_DTYPE.descr)
PARAMETER_UNITS = {
    "hillas_fov_lon": "deg",
    "hillas_fov_lat": "deg",
    "hillas_r": "deg",
    "hillas_phi": "deg",
    "hillas_length": "deg",
    "hillas_width": "deg",
    "hillas_psi": "deg",
    "timing_slope": "ns / deg",
    "timing_intercept": "ns",
    "timing_deviation": "ns",
}
IMAGE_UNITS = {"peak_time": "ns"}


def parameter_rows(obs_id: int, tel_id: int, event_id: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Rows of ``/dl1/event/telescope/parameters/tel_NNN`` (DL1_PARAMETERS_DTYPE) of one telescope's
    events from their image parameters (PARAMETERS_DTYPE)."""
    rows = np.empty(np.shape(event_id)[0], DL1_PARAMETERS_DTYPE)
    rows["obs_id"], rows["event_id"], rows["tel_id"] = obs_id, event_id, tel_id
    for name in PARAMETERS_DTYPE.names:
        rows[name] = params[name]
    return rows


def image_dtype(n_pixels: int) -> np.dtype:
    """Rows of ``/dl1/event/telescope/images/tel_NNN`` for a camera of ``n_pixels``."""
    n = int(n_pixels)
    return np.dtype(TELESCOPE_EVENT_COLUMNS + [("image", "f4", (n,)), ("peak_time", "f4", (n,)),
                                               ("image_mask", "?", (n,))])
