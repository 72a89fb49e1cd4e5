"""Event identifiers and particle ids shared by every stage (ctapipe / CORSIKA conventions).

``obs_id`` int32, ``event_id`` int64, ``tel_id`` int16 (1-based, as in the layouts).
"""

from __future__ import annotations

import numpy as np

OBS_ID, EVENT_ID, TEL_ID = ("obs_id", "i4"), ("event_id", "i8"), ("tel_id", "i2")
EVENT_COLUMNS = [OBS_ID, EVENT_ID]
TELESCOPE_EVENT_COLUMNS = [OBS_ID, EVENT_ID, TEL_ID]

#: ``true_shower_primary_id`` of each particle (CORSIKA codes, as ctapipe)
PRIMARY_IDS = {"gamma": 0, "electron": 1, "proton": 101, "helium": 402}

EVENT_ID_BITS = 40  # event ids below 2**40 (10^12 showers per observation)


def event_key(obs_id: np.ndarray | int, event_id: np.ndarray | int) -> np.ndarray:
    """One int64 per event, unique across observations: ``obs_id << 40 | event_id``."""
    return (np.asarray(obs_id, np.int64) << EVENT_ID_BITS) | np.asarray(event_id, np.int64)


def match_events(obs_id: np.ndarray, event_id: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Row of ``table`` (with obs_id, event_id columns) holding each (obs_id, event_id) pair.

    Keys are ``event_key``. Raises ValueError naming the first pair that ``table`` lacks.
    """
    key_t = event_key(table["obs_id"], table["event_id"])
    key = event_key(obs_id, event_id)
    order = np.argsort(key_t, kind="stable")
    sorted_keys = np.append(key_t[order], -1)  # sentinel keeps the lookup in bounds
    pos = np.searchsorted(key_t[order], key)
    missing = sorted_keys[pos] != key
    if missing.any():
        k = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"event (obs_id={int(obs_id[k])}, event_id={int(event_id[k])}) not in table"
        )
    return order[pos]
