"""Trigger tables: the stereo (array) trigger and every camera trigger with its fate.

``/dl0/event/subarray/trigger`` (copied to ``/dl1/event/subarray/trigger``): obs_id, event_id,
time (s since run start), tels_with_trigger (bool per layout row, layout order).
``/dl0/event/telescope/trigger``: obs_id, event_id, tel_id, trigger_time (s), fate (FATE_NAMES).
"""

from __future__ import annotations

import numpy as np

from .ids import EVENT_COLUMNS, TELESCOPE_EVENT_COLUMNS

READ_OUT, BELOW_MULTIPLICITY, OUTSIDE_WINDOW, DUPLICATE, NSB_ONLY_EVENT = 0, 1, 2, 3, 4
# nsb_only_event: an accidental (NSB-only) camera trigger in an array event made of accidentals
# alone; the array trigger fired (counted as ``array_events_nsb_only``) but such events carry no
# shower and are not archived by the toy chain.
FATE_NAMES = ("read_out", "below_multiplicity", "outside_window", "duplicate", "nsb_only_event")

TRIGGER_UNITS = {"time": "s"}
TELESCOPE_TRIGGER_DTYPE = np.dtype(TELESCOPE_EVENT_COLUMNS + [("trigger_time", "f8"), ("fate", "i1")])
TELESCOPE_TRIGGER_UNITS = {"trigger_time": "s"}


def subarray_trigger_dtype(n_tels: int) -> np.dtype:
    """Rows of the stereo trigger table of a layout of ``n_tels`` telescopes."""
    return np.dtype(EVENT_COLUMNS + [("time", "f8"), ("tels_with_trigger", "?", (int(n_tels),))])
