"""Event identifiers and particle ids shared by every stage (ctapipe / CORSIKA conventions).

``obs_id`` int32, ``event_id`` int64, ``tel_id`` int16 (1-based, as in the layouts).
"""

from __future__ import annotations

import numpy as np

OBS_ID, EVENT_ID, TEL_ID = ("obs_id", "i4"), ("event_id", "i8"), ("tel_id", "i2")
EVENT_COLUMNS = [OBS_ID, EVENT_ID]
TELESCOPE_EVENT_COLUMNS = [OBS_ID, EVENT_ID, TEL_ID]

#: ``true_shower_primary_id`` of each particle (CORSIKA codes, as ctapipe)
PRIMARY_IDS = {"gamma": 0, "electron": 1, "proton": 101}

EVENT_ID_BITS = 40  # event ids below 2**40 (10^12 showers per observation)


def event_key(obs_id: np.ndarray | int, event_id: np.ndarray | int) -> np.ndarray:
    """One int64 per event, unique across observations: ``obs_id << 40 | event_id``."""
    return (np.asarray(obs_id, np.int64) << EVENT_ID_BITS) | np.asarray(event_id, np.int64)
