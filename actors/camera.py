"""CameraActor: hosts one or more telescopes, simulates their response, buffers R1 until readout.

Physics is in ``ctasim.sim``; this actor only keeps triggered events in a bounded buffer, reports
trigger times to the central trigger, and ships the accepted events (dropping and counting the
rest).
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import numpy as np
import psutil

from ctasim.datamodel.r1 import TelescopeEvents
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.sim.blocks import ShowerBlock
from ctasim.sim.camera_sim import TelescopeSimulator


@dataclass
class TriggerReport:
    """Trigger times of all telescopes of one camera actor for one block."""

    tel_id: np.ndarray        # int16
    event_id: np.ndarray      # int64
    trigger_time: np.ndarray  # float64 s


@dataclass
class Readout:
    """Accepted R1 events of one camera actor for one block, plus its monitoring rows."""

    events: dict[int, TelescopeEvents]
    n_dropped: dict[int, int]
    monitoring: np.ndarray
    seconds: float  # wall time this actor spent on the block (simulation + readout)


MONITORING_DTYPE = np.dtype([
    ("tel_id", "i2"), ("time", "f8"), ("n_triggers", "i8"), ("trigger_rate_hz", "f8"),
    ("n_read_out", "i8"), ("pedestal_mean_adc", "f4"), ("pedestal_std_adc", "f4"),
])


class CameraActor:
    """Telescopes ``tel_ids`` of the subarray; at most ``max_buffered_blocks`` blocks buffered."""

    def __init__(self, subarray: SubarrayDescription, tel_ids: list[int], pointing: tuple[float, float],
                 seed: int, max_buffered_blocks: int) -> None:
        self.tel_ids = [int(t) for t in tel_ids]
        self.sim = TelescopeSimulator(subarray, self.tel_ids, pointing[0], pointing[1], seed)
        self.max_buffered_blocks = max_buffered_blocks
        self.buffer: dict[tuple[str, int], tuple[dict[int, TelescopeEvents], float, float, float]] = {}

    def simulate(self, block: ShowerBlock) -> TriggerReport:
        """Simulate the block, keep triggered events, return their trigger times."""
        key = (block.stream, block.block_index)
        if len(self.buffer) >= self.max_buffered_blocks:
            raise RuntimeError(f"camera buffer full ({len(self.buffer)} blocks): flow control violated at {key}")
        t0 = time.perf_counter()
        events = self.sim.simulate(block)
        self.buffer[key] = (events, block.t_start, block.t_stop, time.perf_counter() - t0)
        parts = [events[t] for t in self.tel_ids]
        return TriggerReport(
            tel_id=np.concatenate([np.full(e.n_events, e.tel_id, np.int16) for e in parts]),
            event_id=np.concatenate([e.event_id for e in parts]),
            trigger_time=np.concatenate([e.trigger_time for e in parts]),
        )

    def memory(self) -> dict:
        """This actor's process memory (MiB): resident now and peak, with the telescopes it hosts."""
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss = psutil.Process().memory_info().rss
        return {"tel_ids": self.tel_ids, "rss_mib": rss / 2**20, "peak_rss_mib": peak_kib / 1024}

    def readout(self, stream: str, block_index: int, decision) -> Readout:
        """Ship the events the central trigger accepted (``decision.accepted``: event ids per
        tel_id); drop the others."""
        t0 = time.perf_counter()
        accepted = decision.accepted
        events, t_start, t_stop, sim_seconds = self.buffer.pop((stream, block_index))
        out, dropped, rows = {}, {}, []
        duration = max(t_stop - t_start, 1e-12)
        for tel_id in self.tel_ids:
            ev = events[tel_id]
            keep = np.isin(ev.event_id, accepted.get(tel_id, np.empty(0, np.int64)))
            out[tel_id] = ev.take(keep)
            dropped[tel_id] = int(ev.n_events - keep.sum())
            first = ev.waveform[:, 0, :, 0] if ev.n_events else np.zeros((0, 1))
            rows.append((tel_id, t_stop, ev.n_events, ev.n_events / duration, int(keep.sum()),
                         first.mean() if first.size else np.nan, first.std() if first.size else np.nan))
        seconds = sim_seconds + time.perf_counter() - t0
        return Readout(out, dropped, np.array(rows, dtype=MONITORING_DTYPE), seconds)
