"""Telescope-level instrument faults (issue 10) as the simulated cameras suffer them.

- ``no_data`` (a broken telescope): the camera sends nothing. Its triggered shower events never
  leave the camera (the central trigger counts them as ``telescope_triggers_dropped.no_data``),
  it takes no pedestal events and has no accidental triggers.
- ``garbage`` (a broken telescope): every waveform it sends (shower, accidental and pedestal
  events) is uniform random ADC counts over the digitiser's range, of the right shape and dtype,
  from ``block_rng(seed, "garbage/<what>/<stream>", block, tel_id)``.
- ``clock_offset_ns``: the camera's clock is off by that much: every trigger time it reports and
  stores is shifted (ns; positive: late).
- ``runaway_hz``: extra accidental camera triggers at that rate (Hz), uniform in each block's
  span, from ``block_rng(seed, "runaway-trigger/<stream>", block, tel_id)``; like the NSB
  accidentals they ride on one stream only (``accidental_stream``: the populations are separate
  timelines over one night, whose triggers must be counted once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ..datamodel.r1 import TelescopeEvents
from ..rng import block_rng


@dataclass(frozen=True)
class TelescopeFaultSet:
    """The telescope faults of a run, by tel_id; empty: a healthy array."""

    no_data: frozenset[int] = frozenset()
    garbage: frozenset[int] = frozenset()
    clock_offset_ns: Mapping[int, float] = field(default_factory=dict)
    runaway_hz: Mapping[int, float] = field(default_factory=dict)
    accidental_stream: str | None = None  # the stream whose blocks carry the runaway triggers

    def runaway_live(self, stream: str) -> bool:
        """True when blocks of ``stream`` carry runaway triggers."""
        return bool(self.runaway_hz) and stream == self.accidental_stream

    def clock_shift_s(self, tel_id: int) -> float:
        """Shift (s) of every trigger time a telescope reports."""
        return float(self.clock_offset_ns.get(tel_id, 0.0)) * 1e-9


NO_FAULTS = TelescopeFaultSet()


def garbage_waveforms(shape: tuple[int, ...], adc_max: int, seed: int, what: str, stream: str, block_index: int,
                      tel_id: int) -> np.ndarray:
    """Uniform random ADC counts (uint16, 0..``adc_max``) of a broken camera's waveforms of ``shape``;
    ``what`` names the kind of event (``shower``, ``pedestal``, ``accidental``) so each has its own stream."""
    rng = block_rng(seed, f"garbage/{what}/{stream}", block_index, tel_id)
    return rng.integers(0, int(adc_max) + 1, size=shape, dtype=np.uint16)


def runaway_trigger_times(rate_hz: float, seed: int, stream: str, block_index: int, tel_id: int, t_start: float,
                          t_stop: float) -> np.ndarray:
    """Sorted times (s) of a runaway camera's extra triggers in a block: Poisson(rate x span), uniform."""
    rng = block_rng(seed, f"runaway-trigger/{stream}", block_index, tel_id)
    n = int(rng.poisson(rate_hz * (t_stop - t_start)))
    return np.sort(rng.uniform(t_start, t_stop, n))


def faulty_events(faults: TelescopeFaultSet, events: TelescopeEvents, adc_max: int, seed: int, stream: str,
                  block_index: int) -> TelescopeEvents:
    """A telescope's triggered events as its faulty camera sends them: none (``no_data``), garbage
    waveforms, shifted trigger times; unchanged for a healthy telescope."""
    tel_id = events.tel_id
    if tel_id in faults.no_data:
        return events.take(np.zeros(events.n_events, bool))
    if tel_id in faults.garbage:
        events = replace(events, waveform=garbage_waveforms(events.waveform.shape, adc_max, seed, "shower", stream,
                                                            block_index, tel_id))
    shift = faults.clock_shift_s(tel_id)
    if shift:
        events = replace(events, trigger_time=events.trigger_time + shift)
    return events
