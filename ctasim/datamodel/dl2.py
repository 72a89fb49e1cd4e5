"""DL2: reconstructed array events, one flat pyirf-ready table, and per-telescope estimates.

``/dl2/events`` (DL2_EVENT_DTYPE, + TRUE_COLUMNS for simulated events, + ``is_train`` when the run
trained its models on some of them) and ``/dl2/telescope_events/tel_NNN`` (DL2_TEL_DTYPE). The
same predictions are also written under ctapipe's
``/dl2/event/subarray/{geometry,energy,classification}/<algorithm>`` groups (algorithm names
below; ``ctasim.io.ctapipe_tables``). Units: deg, m, TeV, s; ``reco_h_max`` above sea level.
"""

from __future__ import annotations

import numpy as np

from .ids import EVENT_COLUMNS, TELESCOPE_EVENT_COLUMNS

GEOMETRY_ALGORITHM = "HillasReconstructor"  # weighted Hillas-plane intersection, as ctapipe's
DISP_ALGORITHM = "DispReconstructor"        # per-image disp, combined per event (ctasim.reco.disp)
ENERGY_ALGORITHM = "LightGBMRegressor"
CLASSIFICATION_ALGORITHM = "LightGBMClassifier"

DL2_EVENT_DTYPE = np.dtype(EVENT_COLUMNS + [
    ("time", "f8"),
    ("pointing_alt", "f8"),
    ("pointing_az", "f8"),
    ("reco_alt", "f8"),           # the event direction: DISP_ALGORITHM's
    ("reco_az", "f8"),
    ("hillas_alt", "f8"),         # GEOMETRY_ALGORITHM's direction (its core and h_max are reco_*)
    ("hillas_az", "f8"),
    ("reco_core_x", "f8"),
    ("reco_core_y", "f8"),
    ("reco_h_max", "f8"),
    ("reco_energy", "f8"),
    ("gammaness", "f8"),
    ("multiplicity", "i2"),
    ("is_valid", "?"),
])
TRUE_COLUMNS = (
    ("true_energy", "f8"),
    ("true_alt", "f8"),
    ("true_az", "f8"),
    ("true_core_x", "f8"),
    ("true_core_y", "f8"),
    ("true_shower_primary_id", "i2"),
)
DL2_EVENT_TRUE_DTYPE = np.dtype(DL2_EVENT_DTYPE.descr + list(TRUE_COLUMNS))
#: rows of ``/dl2/events`` of a run that trained its models on part of its events
DL2_EVENTS_FILE_DTYPE = np.dtype(DL2_EVENT_TRUE_DTYPE.descr + [("is_train", "?")])
DL2_TEL_DTYPE = np.dtype(TELESCOPE_EVENT_COLUMNS + [
    ("impact_distance", "f8"),
    ("reco_energy_tel", "f8"),
    ("gammaness_tel", "f8"),
    ("disp_tel", "f8"),           # signed disp (deg): source position along the image axis from its cog
])
DL2_EVENT_UNITS = {
    "time": "s",
    "pointing_alt": "deg",
    "pointing_az": "deg",
    "reco_alt": "deg",
    "reco_az": "deg",
    "hillas_alt": "deg",
    "hillas_az": "deg",
    "reco_core_x": "m",
    "reco_core_y": "m",
    "reco_h_max": "m",
    "reco_energy": "TeV",
    "true_energy": "TeV",
    "true_alt": "deg",
    "true_az": "deg",
    "true_core_x": "m",
    "true_core_y": "m",
}
DL2_TEL_UNITS = {"impact_distance": "m", "reco_energy_tel": "TeV", "disp_tel": "deg"}
