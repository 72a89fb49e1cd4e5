"""CentralTrigger actor: stereo coincidence over the trigger times of all camera actors."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ctasim.accounting import SHOWERS_SIMULATED, STAGE_R1_CAMERA, STAGE_R1_READOUT, Accounting, RateMeter
from ctasim.array_trigger import ArrayTriggerResult, StereoTrigger, pointing_delays
from ctasim.instrument.subarray import SubarrayDescription

from .camera import TriggerReport
from .source import BlockTruth


@dataclass
class Decision:
    """Outcome of one block: accepted event ids per telescope, trigger tables, counts and bytes."""

    stream: str
    block_index: int
    result: ArrayTriggerResult
    accepted: dict[int, np.ndarray]
    accounting: Accounting
    rates: RateMeter
    seconds: float


def raw_event_bytes(subarray: SubarrayDescription) -> dict[int, int]:
    """R1 bytes of one telescope event (uint16 samples, all gain channels) per tel_id."""
    out = {}
    for tel_id in subarray.tel_ids:
        cam = subarray.tel(tel_id).camera
        out[int(tel_id)] = cam.geometry.n_pixels * cam.readout.n_channels * cam.readout.n_samples * 2
    return out


class CentralTriggerActor:
    """At least ``min_telescopes`` camera triggers of one shower within ``window_ns``, after
    compensating the pointing-dependent delays between telescopes."""

    def __init__(self, subarray: SubarrayDescription, min_telescopes: int, window_ns: float,
                 pointing: tuple[float, float]) -> None:
        self.subarray = subarray
        delays = pointing_delays(subarray.positions, *pointing)
        self.trigger = StereoTrigger(subarray.tel_ids, min_telescopes, window_ns, delays)
        self.tel_types = subarray.size_classes()
        self.event_bytes = raw_event_bytes(subarray)

    def decide(self, stream: str, block_index: int, truth: BlockTruth, *reports: TriggerReport) -> Decision:
        t0 = time.perf_counter()
        tel_id = np.concatenate([r.tel_id for r in reports])
        event_id = np.concatenate([r.event_id for r in reports])
        trigger_time = np.concatenate([r.trigger_time for r in reports])
        result = self.trigger.process(tel_id, event_id, trigger_time)
        acc = Accounting()
        acc.add(SHOWERS_SIMULATED, truth.showers.size, stream)
        acc.record_array_trigger(result, stream, truth.showers.size, self.tel_types)
        rates = RateMeter()
        rates.add_time_span(truth.t_start, truth.t_stop, stream)
        accepted = {}
        for tid in self.subarray.tel_ids.tolist():
            mine = tel_id == tid
            size, tel_type = self.event_bytes[tid], self.tel_types[self.subarray.tel_index(tid)]
            n_trig = int(mine.sum())
            accepted[tid] = result.readout_event_ids(tid)
            rates.add(STAGE_R1_CAMERA, n_trig * size, n_trig, tel_type, tid, stream)
            rates.add(STAGE_R1_READOUT, accepted[tid].size * size, accepted[tid].size, tel_type, tid, stream)
        return Decision(stream, block_index, result, accepted, acc, rates, time.perf_counter() - t0)
