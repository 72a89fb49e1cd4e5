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

# NSB-only (accidental) camera triggers: event ids with bit 39 set, so they can never clash with a
# shower's event id (showers count up from 1 and stay far below 2**39); the rest of the id packs
# (block index, tel_id, k-th accidental of that telescope in the block). They stay below 2**40,
# so ``event_key`` remains unique.
NSB_EVENT_FLAG = 1 << (EVENT_ID_BITS - 1)
_NSB_K_BITS, _NSB_TEL_BITS = 12, 11
_NSB_BLOCK_BITS = EVENT_ID_BITS - 1 - _NSB_K_BITS - _NSB_TEL_BITS


def nsb_event_ids(block_index: int, tel_id: int, n: int) -> np.ndarray:
    """Event ids (int64 [n]) of the n accidental triggers of a telescope in a block."""
    if not (0 <= block_index < 1 << _NSB_BLOCK_BITS and 0 <= tel_id < 1 << _NSB_TEL_BITS
            and 0 <= n <= 1 << _NSB_K_BITS):
        raise ValueError(f"accidental trigger ids out of range: block {block_index}, tel_id {tel_id}, "
                         f"{n} triggers (limits {1 << _NSB_BLOCK_BITS}, {1 << _NSB_TEL_BITS}, {1 << _NSB_K_BITS})")
    base = NSB_EVENT_FLAG | (int(block_index) << (_NSB_K_BITS + _NSB_TEL_BITS)) | (int(tel_id) << _NSB_K_BITS)
    return base + np.arange(n, dtype=np.int64)


def is_nsb_event(event_id: np.ndarray | int) -> np.ndarray:
    """True where an event id is an accidental (NSB-only) camera trigger's."""
    return (np.asarray(event_id, np.int64) & NSB_EVENT_FLAG) != 0
