"""Stereo (central) trigger: which camera triggers form array events, in simulated time.

Semantics (deterministic, independent of input order and of how showers are split into blocks):

* Triggers are grouped **by shower** (``event_id``, the shower the camera saw): two showers whose
  triggers fall in one coincidence window are kept as two separate candidate array events, each
  judged on its own multiplicity. A truth-blind hardware trigger would merge them; such showers
  are counted as ``n_pileup_showers`` (their windows open within ``window_ns`` of another
  shower's) so the effect can be quantified.
* Within a shower, the earliest trigger opens a window of ``window_ns``; every trigger with
  ``t - t_open <= window_ns`` (inclusive edge, with a 1 ps tolerance for float rounding) belongs to
  it; the next trigger after the window opens a new one. The window with the most distinct
  telescopes (earliest on ties) is the shower's candidate; triggers in its other windows are
  dropped as ``outside_window``.
* A repeated trigger of the same telescope in the candidate window is dropped as ``duplicate``.
* The candidate is accepted when it holds at least ``min_telescopes`` distinct telescopes; else
  its triggers are dropped as ``below_multiplicity``. Every accepted shower gives one array event
  whose ``event_id`` is the shower's and whose ``time`` is its window's opening trigger time.

Every input trigger therefore gets exactly one fate: ``read_out`` or one drop reason.

Accidental (NSB-only) camera triggers (event ids flagged by ``datamodel.ids.is_nsb_event``) belong
to no shower, so they are grouped truth-blind, by time alone:

* each accidental (in time order, after the delay compensation) joins the candidate window of a
  shower when the window's triggers and it still fit within ``window_ns`` and its telescope is not
  in that window yet; it then counts for the shower's multiplicity like any camera trigger (a
  shower seen by one camera can be raised to an array event by an accidental in another);
* the other accidentals form windows among themselves (the earliest opens one, all within
  ``window_ns`` belong to it); one with at least ``min_telescopes`` distinct telescopes is an
  NSB-only array event (``nsb_time``, ``nsb_multiplicity``): its triggers get the fate
  ``nsb_only_event``; else ``below_multiplicity`` / ``duplicate`` as for showers.

``nsb_trigger`` marks the accidentals that joined no shower. Without accidentals in the input the
result is exactly that of the shower-only logic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .datamodel.ids import is_nsb_event
from .datamodel.trigger import (
    BELOW_MULTIPLICITY,
    DUPLICATE,
    FATE_NAMES,
    NSB_ONLY_EVENT,
    OUTSIDE_WINDOW,
    READ_OUT,
    TELESCOPE_TRIGGER_DTYPE,
    subarray_trigger_dtype,
)
from .instrument.frames import altaz_to_vector

# simtools' model-parameter schema default for the array coincidence window (REFERENCE.md);
# real stereo windows are nearer 100 ns once the pointing-dependent delays are compensated.
DEFAULT_WINDOW_NS = 1000.0
DEFAULT_MIN_TELESCOPES = 2
EDGE_TOLERANCE_NS = 1e-3



@njit(cache=True)
def _coincidence_kernel(
    ev,
    t,
    col,
    window_s,
    min_tels,
    n_tels,
    fate,
    shower_of,
    shower_event,
    shower_t_open,
    shower_mult,
):
    """Triggers sorted by (event_id, time, tel): fill per-trigger fate and shower row, per-shower
    event id, window opening time and multiplicity; returns the number of showers."""
    n = ev.size
    seen = np.full(n_tels, -1, np.int64)
    win = np.empty(n, np.int64)
    w = -1
    s = 0
    i = 0
    while i < n:
        j = i
        while j < n and ev[j] == ev[i]:
            j += 1
        best_w, best_m, best_t0 = -1, -1, 0.0
        k = i
        while k < j:
            w += 1
            t0 = t[k]
            m = 0
            while k < j and t[k] - t0 <= window_s:
                if seen[col[k]] == w:
                    fate[k] = DUPLICATE
                else:
                    seen[col[k]] = w
                    fate[k] = READ_OUT
                    m += 1
                win[k] = w
                k += 1
            if m > best_m:
                best_w, best_m, best_t0 = w, m, t0
        for k in range(i, j):
            shower_of[k] = s
            if win[k] != best_w:
                fate[k] = OUTSIDE_WINDOW
            elif fate[k] == READ_OUT and best_m < min_tels:
                fate[k] = BELOW_MULTIPLICITY
        shower_event[s] = ev[i]
        shower_t_open[s] = best_t0
        shower_mult[s] = best_m
        s += 1
        i = j
    return s


@dataclass(eq=False)
class ArrayTriggerResult:
    """Array events of one block and the fate of every camera trigger (in input order).

    Array events are sorted by (time, event_id). ``tels_with_trigger`` columns follow the layout
    order of ``layout_tel_ids``. ``trigger_event_row`` is the array-event row of a read-out trigger,
    -1 for a dropped one.
    """

    layout_tel_ids: np.ndarray  # int16 [n_tels]
    window_ns: float
    min_telescopes: int
    # array events
    event_id: np.ndarray  # int64 [n_events], the shower's id
    time: np.ndarray  # float64 [n_events] s, opening trigger of the window
    multiplicity: np.ndarray  # int16 [n_events], distinct telescopes
    tels_with_trigger: np.ndarray  # bool [n_events, n_tels]
    # camera triggers (input order)
    tel_id: np.ndarray  # int16 [n_triggers]
    trigger_event_id: np.ndarray  # int64 [n_triggers]
    trigger_time: np.ndarray  # float64 [n_triggers] s
    tel_index: np.ndarray  # int64 [n_triggers], layout column of tel_id
    fate: np.ndarray  # int8 [n_triggers], index into FATE_NAMES
    trigger_event_row: np.ndarray  # int64 [n_triggers]
    # showers seen by at least one camera
    n_showers_triggered: int
    n_pileup_showers: int
    # accidental (NSB-only) triggers: those that joined no shower, and the NSB-only array events
    nsb_trigger: np.ndarray | None = None  # bool [n_triggers]; None: no accidentals in the input
    nsb_time: np.ndarray | None = None  # float64 [n_nsb_events] s, opening trigger of the window
    nsb_multiplicity: np.ndarray | None = None  # int16 [n_nsb_events]

    @property
    def n_nsb_events(self) -> int:
        """NSB-only array events (accidentals alone in a window with >= min_telescopes)."""
        return 0 if self.nsb_time is None else int(self.nsb_time.size)

    @property
    def n_events(self) -> int:
        return int(self.event_id.size)

    @property
    def n_showers_below_multiplicity(self) -> int:
        return self.n_showers_triggered - self.n_events

    @property
    def read_out(self) -> np.ndarray:
        """bool [n_triggers]: trigger is read out (part of an accepted array event)."""
        return self.fate == READ_OUT

    def fate_counts(self) -> dict[str, int]:
        """Number of camera triggers per fate name (all names present)."""
        counts = np.bincount(self.fate, minlength=len(FATE_NAMES))
        out = dict(zip(FATE_NAMES, counts.tolist()))
        if not out[FATE_NAMES[NSB_ONLY_EVENT]]:
            del out[FATE_NAMES[NSB_ONLY_EVENT]]  # only runs with accidentals show it
        return out

    def readout_event_ids(self, tel_id: int) -> np.ndarray:
        """Shower event ids a telescope must read out (its read-out triggers, in input order)."""
        return self.trigger_event_id[self.read_out & (self.tel_id == tel_id)]

    def trigger_table(self, obs_id: int) -> np.ndarray:
        """Rows of ``/dl0/event/subarray/trigger`` (and ``/dl1/...``): obs_id, event_id, time,
        tels_with_trigger (bool per layout row); units ``datamodel.trigger.TRIGGER_UNITS``."""
        rows = np.zeros(self.n_events, subarray_trigger_dtype(self.layout_tel_ids.size))
        rows["obs_id"], rows["event_id"], rows["time"] = obs_id, self.event_id, self.time
        rows["tels_with_trigger"] = self.tels_with_trigger
        return rows

    def telescope_trigger_table(self, obs_id: int) -> np.ndarray:
        """Rows of ``/dl0/event/telescope/trigger``: every camera trigger with its fate code."""
        rows = np.zeros(self.tel_id.size, TELESCOPE_TRIGGER_DTYPE)
        rows["obs_id"], rows["event_id"], rows["tel_id"] = (
            obs_id,
            self.trigger_event_id,
            self.tel_id,
        )
        rows["trigger_time"], rows["fate"] = self.trigger_time, self.fate
        return rows


def array_trigger(
    tel_id: np.ndarray,
    event_id: np.ndarray,
    trigger_time: np.ndarray,
    layout_tel_ids: np.ndarray,
    min_telescopes: int = DEFAULT_MIN_TELESCOPES,
    window_ns: float = DEFAULT_WINDOW_NS,
    delays_s: np.ndarray | None = None,
) -> ArrayTriggerResult:
    """Stereo coincidence of one block of camera triggers (see the module docstring).

    tel_id int16, event_id int64 (shower seen), trigger_time float64 s, all [n_triggers];
    layout_tel_ids gives the telescopes and the column order of ``tels_with_trigger``;
    ``delays_s`` (per layout row, s) are subtracted from the trigger times before the
    coincidence, as the hardware compensates the pointing-dependent arrival delays
    (``pointing_delays``). Reported times stay the cameras' own.
    """
    tel_id = np.asarray(tel_id, np.int16)
    event_id = np.asarray(event_id, np.int64)
    trigger_time = np.asarray(trigger_time, np.float64)
    layout = np.asarray(layout_tel_ids, np.int16)
    if not (tel_id.shape == event_id.shape == trigger_time.shape) or tel_id.ndim != 1:
        raise ValueError(
            f"tel_id, event_id, trigger_time must be 1-d of equal length, got "
            f"{tel_id.shape}, {event_id.shape}, {trigger_time.shape}"
        )
    if int(min_telescopes) < 1:
        raise ValueError(f"min_telescopes = {min_telescopes}: expected an integer >= 1")
    if not (np.isfinite(window_ns) and window_ns >= 0):
        raise ValueError(f"window_ns = {window_ns}: expected a finite number >= 0")
    if not np.all(np.isfinite(trigger_time)):
        raise ValueError("trigger_time holds non-finite values")

    lookup = np.full(int(max(layout.max(initial=0), tel_id.max(initial=0))) + 1, -1, np.int64)
    lookup[layout] = np.arange(layout.size)
    tel_index = np.full(tel_id.size, -1, np.int64)
    valid = tel_id >= 0
    tel_index[valid] = lookup[tel_id[valid]]
    if np.any(tel_index < 0):
        raise ValueError(f"tel_ids not in the layout: {np.unique(tel_id[tel_index < 0]).tolist()}")

    t_cmp = trigger_time if delays_s is None else trigger_time - np.asarray(delays_s, np.float64)[tel_index]
    window_s = (float(window_ns) + EDGE_TOLERANCE_NS) * 1e-9
    nsb = is_nsb_event(event_id)
    key = event_id
    nsb_free = None
    if nsb.any():
        key, nsb_free = _nsb_keys(event_id, t_cmp, tel_index, nsb, window_s, int(min_telescopes), layout.size)
    fate, shower_of, shower_event, shower_t_open, shower_mult = _resolve(
        key, t_cmp, tel_index, window_s, int(min_telescopes), layout.size)
    n_showers = shower_event.size
    is_shower = ~is_nsb_event(shower_event)
    accepted = np.flatnonzero((shower_mult >= min_telescopes) & is_shower)
    accepted = accepted[np.lexsort((shower_event[accepted], shower_t_open[accepted]))]
    event_row_of_shower = np.full(n_showers, -1, np.int64)
    event_row_of_shower[accepted] = np.arange(accepted.size)
    trigger_event_row = np.where(fate == READ_OUT, event_row_of_shower[shower_of], -1)
    nsb_time = nsb_mult = None
    if nsb_free is not None:
        nsb_events = np.flatnonzero((shower_mult >= min_telescopes) & ~is_shower)
        fate[(fate == READ_OUT) & (trigger_event_row < 0)] = NSB_ONLY_EVENT
        # the cameras' own trigger time of the window's opening trigger
        opening = np.full(n_showers, np.inf)
        np.minimum.at(opening, shower_of, np.where(fate == NSB_ONLY_EVENT, trigger_time, np.inf))
        order = np.argsort(opening[nsb_events], kind="stable")
        nsb_time = opening[nsb_events][order]
        nsb_mult = shower_mult[nsb_events][order].astype(np.int16)
    read = fate == READ_OUT
    tels = np.zeros((accepted.size, layout.size), bool)
    tels[trigger_event_row[read], tel_index[read]] = True

    t_sorted = np.sort(shower_t_open[is_shower])
    close = np.diff(t_sorted) <= window_s
    in_pileup = np.zeros(t_sorted.size, bool)
    in_pileup[:-1] |= close
    in_pileup[1:] |= close

    return ArrayTriggerResult(
        layout_tel_ids=layout,
        window_ns=float(window_ns),
        min_telescopes=int(min_telescopes),
        event_id=shower_event[accepted],
        time=shower_t_open[accepted],
        multiplicity=shower_mult[accepted].astype(np.int16),
        tels_with_trigger=tels,
        tel_id=tel_id,
        trigger_event_id=event_id,
        trigger_time=trigger_time,
        tel_index=tel_index,
        fate=fate,
        trigger_event_row=trigger_event_row,
        n_showers_triggered=int(is_shower.sum()),
        n_pileup_showers=int(in_pileup.sum()),
        nsb_trigger=nsb_free,
        nsb_time=nsb_time,
        nsb_multiplicity=nsb_mult,
    )


def _resolve(key, t_cmp, tel_index, window_s, min_tels, n_tels):
    """The coincidence kernel over triggers grouped by ``key``: per trigger (input order) fate and
    group row; per group its key, window opening time (compensated) and multiplicity."""
    order = np.lexsort((tel_index, t_cmp, key))
    n = key.size
    fate_sorted = np.empty(n, np.int8)
    shower_of_sorted = np.empty(n, np.int64)
    shower_event = np.empty(n, np.int64)
    shower_t_open = np.empty(n, np.float64)
    shower_mult = np.empty(n, np.int64)
    n_showers = _coincidence_kernel(key[order], t_cmp[order], tel_index[order], window_s, min_tels, n_tels,
                                    fate_sorted, shower_of_sorted, shower_event, shower_t_open, shower_mult)
    fate = np.empty(n, np.int8)
    fate[order] = fate_sorted
    shower_of = np.empty(n, np.int64)
    shower_of[order] = shower_of_sorted
    return fate, shower_of, shower_event[:n_showers], shower_t_open[:n_showers], shower_mult[:n_showers]


def _nsb_keys(event_id, t_cmp, tel_index, nsb, window_s, min_tels, n_tels):
    """Grouping keys with accidentals (module docstring): an accidental that joins a shower's
    candidate window takes the shower's event id, the others the id of the opening accidental of
    their own window. Returns (keys, bool mask of the accidentals that joined no shower)."""
    key = event_id.copy()
    shower = np.flatnonzero(~nsb)
    fate, group, ev, t_open, _ = _resolve(event_id[shower], t_cmp[shower], tel_index[shower], window_s,
                                          min_tels, n_tels)
    in_best = fate != OUTSIDE_WINDOW
    lo = np.full(ev.size, np.inf)
    hi = np.full(ev.size, -np.inf)
    np.minimum.at(lo, group[in_best], t_cmp[shower][in_best])
    np.maximum.at(hi, group[in_best], t_cmp[shower][in_best])
    tels = np.zeros((ev.size, n_tels), bool)  # telescopes already in each shower's window
    tels[group[in_best], tel_index[shower][in_best]] = True
    by_open = np.argsort(t_open, kind="stable")
    opens = t_open[by_open]
    acc = np.flatnonzero(nsb)
    acc = acc[np.lexsort((tel_index[acc], t_cmp[acc]))]
    free = np.zeros(event_id.size, bool)
    for a in acc.tolist():
        ta, col = t_cmp[a], int(tel_index[a])
        joined = False
        for j in range(np.searchsorted(opens, ta - window_s), np.searchsorted(opens, ta + window_s, "right")):
            g = by_open[j]
            if not tels[g, col] and max(hi[g], ta) - min(lo[g], ta) <= window_s:
                key[a] = ev[g]
                tels[g, col] = True
                lo[g], hi[g] = min(lo[g], ta), max(hi[g], ta)
                joined = True
                break
        free[a] = not joined
    rest = np.flatnonzero(free)
    rest = rest[np.lexsort((tel_index[rest], t_cmp[rest]))]
    i = 0
    while i < rest.size:
        t0, j = t_cmp[rest[i]], i
        while j < rest.size and t_cmp[rest[j]] - t0 <= window_s:
            key[rest[j]] = event_id[rest[i]]
            j += 1
        i = j
    return key, free


@dataclass(frozen=True, eq=False)
class StereoTrigger:
    """Configured central trigger: ``process`` applies ``array_trigger`` to one block of triggers."""

    layout_tel_ids: np.ndarray
    min_telescopes: int = DEFAULT_MIN_TELESCOPES
    window_ns: float = DEFAULT_WINDOW_NS
    delays_s: np.ndarray | None = None

    def process(
        self, tel_id: np.ndarray, event_id: np.ndarray, trigger_time: np.ndarray
    ) -> ArrayTriggerResult:
        return array_trigger(
            tel_id, event_id, trigger_time, self.layout_tel_ids, self.min_telescopes, self.window_ns,
            self.delays_s,
        )


SPEED_OF_LIGHT_M_PER_S = 299_792_458.0


def pointing_delays(positions: np.ndarray, alt_deg: float, az_deg: float) -> np.ndarray:
    """Arrival delay (s) of a plane front from the pointing direction at each telescope position
    (ground frame, m) relative to the array origin: telescopes nearer the source see it earlier."""
    return -(np.asarray(positions, np.float64) @ altaz_to_vector(alt_deg, az_deg)) / SPEED_OF_LIGHT_M_PER_S
