"""Central trigger: the stereo decision of one block from the trigger times of all camera stations.

The coincidence itself is ``ctasim.array_trigger``; this component adds what the chain needs
around it: the event ids each telescope must read out, the accounting of every shower and camera
trigger, and the R1 bytes of the camera triggers and of the read-out events
(``ctasim.datamodel.r1.r1_event_nbytes``).

Accidental (NSB-only) camera triggers (flagged event ids, see ``ctasim.array_trigger``): those
that joined a shower's window are that shower's stream's camera triggers; the others, and the
NSB-only array events they form, are accounted and metered in stream ``nsb``, whose simulated
time is the span of the blocks that carried accidentals (``TriggerReport.nsb_live``). NSB-only
array events fire the array trigger (``array_events_nsb_only``) and their R1 is metered with the
camera triggers, but they are not read out for the archive: they hold no shower, and every
offline stage expects simulated truth; their triggers end as ``nsb_only_event`` (counted).

A broken (``no_data``) telescope's camera triggers never reach the central trigger; its camera
station reports how many it kept (``TriggerReport.suppressed``), and they are counted as camera
triggers dropped for ``no_data`` (``TELESCOPE_TRIGGERS_NO_DATA``), so the balances still close.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..accounting import (
    NSB_STREAM,
    SHOWERS_SIMULATED,
    STAGE_R1_CAMERA,
    STAGE_R1_READOUT,
    TELESCOPE_TRIGGERS,
    TELESCOPE_TRIGGERS_NO_DATA,
    Accounting,
    RateMeter,
)
from ..array_trigger import ArrayTriggerResult, StereoTrigger, pointing_delays
from ..datamodel.r1 import r1_event_nbytes
from ..datamodel.simulation import ShowerTruth
from ..instrument.subarray import SubarrayDescription

if TYPE_CHECKING:
    from .camera_station import TriggerReport


@dataclass
class Decision:
    """Outcome of one block: accepted event ids per telescope, trigger tables, counts and bytes."""

    stream: str
    block_index: int
    result: ArrayTriggerResult
    accepted: dict[int, np.ndarray]  # tel_id -> event ids to read out
    accounting: Accounting
    rates: RateMeter
    wall_seconds: float = 0.0  # the host's wall time for the decision, set by the host


class CentralTrigger:
    """At least ``min_telescopes`` camera triggers of one shower within ``window_ns``, after
    compensating the delays between telescopes of an array pointing at (alt, az) deg."""

    def __init__(self, subarray: SubarrayDescription, min_telescopes: int, window_ns: float,
                 pointing: tuple[float, float]) -> None:
        self.tel_ids = subarray.tel_ids.tolist()
        delays = pointing_delays(subarray.positions, *pointing)
        self.trigger = StereoTrigger(subarray.tel_ids, min_telescopes, window_ns, delays)
        self.tel_types = subarray.size_classes()
        self.event_bytes = {}
        for tel_id in self.tel_ids:
            cam = subarray.tel(tel_id).camera
            self.event_bytes[tel_id] = r1_event_nbytes(cam.geometry.n_pixels, cam.readout.n_channels,
                                                       cam.readout.n_samples)

    def decide(self, stream: str, block_index: int, truth: ShowerTruth, *reports: TriggerReport) -> Decision:
        """Stereo decision over the reports of every camera station for the block of ``truth``."""
        tel_id = np.concatenate([r.tel_id for r in reports])
        event_id = np.concatenate([r.event_id for r in reports])
        trigger_time = np.concatenate([r.trigger_time for r in reports])
        result = self.trigger.process(tel_id, event_id, trigger_time)
        acc = Accounting()
        acc.add(SHOWERS_SIMULATED, truth.n_showers, stream)
        acc.record_array_trigger(result, stream, truth.n_showers, self.tel_types)
        for report in reports:
            for tid, n in report.suppressed.items():
                tel_type = self.tel_types[self.tel_ids.index(tid)]
                acc.add(TELESCOPE_TRIGGERS, n, stream, tel_type)
                acc.add(TELESCOPE_TRIGGERS_NO_DATA, n, stream, tel_type)
        rates = RateMeter()
        rates.add_time_span(truth.t_start, truth.t_stop, stream)
        live = any(r.nsb_live for r in reports)
        if live:
            rates.add_time_span(truth.t_start, truth.t_stop, NSB_STREAM)
        free = result.nsb_trigger if result.nsb_trigger is not None else np.zeros(tel_id.size, bool)
        accepted = {}
        for row, tid in enumerate(self.tel_ids):
            size, tel_type = self.event_bytes[tid], self.tel_types[row]
            mine = tel_id == tid
            n_trig = int((mine & ~free).sum())
            accepted[tid] = result.readout_event_ids(tid)
            rates.add(STAGE_R1_CAMERA, n_trig * size, n_trig, tel_type, tid, stream)
            if live:
                n_nsb = int((mine & free).sum())
                rates.add(STAGE_R1_CAMERA, n_nsb * size, n_nsb, tel_type, tid, NSB_STREAM)
            rates.add(STAGE_R1_READOUT, accepted[tid].size * size, accepted[tid].size, tel_type, tid, stream)
        return Decision(stream, block_index, result, accepted, acc, rates)
