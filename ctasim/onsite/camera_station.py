"""Camera station: the cameras of some telescopes, their bounded R1 buffer and camera monitoring.

``simulate`` a shower block: the telescopes' triggered events wait in the R1 buffer (at most
``max_buffered_blocks`` blocks: one more is a flow-control violation) and their trigger times go
to the central trigger. ``readout`` with the central trigger's decision ships the accepted events
and drops (and counts) the others.

Monitoring (one CAMERA_MONITORING_DTYPE row per telescope and block, at the block's end time): the
camera trigger rate, and the pedestal mean and std (ADC, high-gain channel, over all samples and
pixels) of ``n_pedestal_events`` pedestal events taken during the block: NSB-only readouts drawn
from their own random stream ``pedestal/<stream>``, so they leave the shower events unchanged.
A telescope without pedestal events has ``n_pedestal_events`` 0 and pedestal values 0; its
pedestal row is left out of the archive (``archive_writer``), never written as NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..datamodel.monitoring import CAMERA_MONITORING_DTYPE
from ..datamodel.r1 import TelescopeEvents
from ..instrument.subarray import SubarrayDescription
from ..sim.blocks import ShowerBlock
from ..sim.camera_sim import TelescopeSimulator

if TYPE_CHECKING:
    from .central_trigger import Decision

PEDESTAL_EVENTS_PER_BLOCK = 8  # pedestal events per telescope and block
HIGH_GAIN = 0  # gain channel of the pedestal figures


class FlowControlError(RuntimeError):
    """A block arrived while the R1 buffer was full, or a readout asked for a block not buffered."""


@dataclass
class TriggerReport:
    """Trigger times of all telescopes of one camera station for one block."""

    tel_id: np.ndarray        # int16
    event_id: np.ndarray      # int64
    trigger_time: np.ndarray  # float64 s


@dataclass
class Readout:
    """Accepted R1 events of one camera station for one block, plus its monitoring rows."""

    events: dict[int, TelescopeEvents]
    n_dropped: dict[int, int]  # triggered events not accepted, per tel_id
    monitoring: np.ndarray     # CAMERA_MONITORING_DTYPE, one row per telescope
    wall_seconds: float = 0.0  # the host's wall time for the block (simulate + readout), set by the host


class CameraStation:
    """Telescopes ``tel_ids`` of the subarray pointing at (alt, az) deg; at most
    ``max_buffered_blocks`` blocks in the R1 buffer."""

    def __init__(self, subarray: SubarrayDescription, tel_ids: Sequence[int], pointing: tuple[float, float],
                 seed: int, max_buffered_blocks: int, n_pedestal_events: int = PEDESTAL_EVENTS_PER_BLOCK) -> None:
        if n_pedestal_events < 0:
            raise ValueError(f"n_pedestal_events = {n_pedestal_events}: expected an integer >= 0")
        self.tel_ids = [int(t) for t in tel_ids]
        self.sim = TelescopeSimulator(subarray, self.tel_ids, pointing[0], pointing[1], seed)
        self.max_buffered_blocks = int(max_buffered_blocks)
        self.n_pedestal_events = int(n_pedestal_events)
        # (stream, block) -> (events per tel_id, monitoring rows still without n_read_out)
        self.buffer: dict[tuple[str, int], tuple[dict[int, TelescopeEvents], np.ndarray]] = {}

    def simulate(self, block: ShowerBlock) -> TriggerReport:
        """Simulate the block and its pedestal events, buffer the triggered events, return their
        trigger times."""
        key = (block.stream, block.block_index)
        if len(self.buffer) >= self.max_buffered_blocks:
            raise FlowControlError(f"camera buffer full ({len(self.buffer)} blocks): flow control violated at {key}")
        events = self.sim.simulate(block)
        self.buffer[key] = (events, self.monitoring_rows(block, events))
        parts = [events[t] for t in self.tel_ids]
        return TriggerReport(
            tel_id=np.concatenate([np.full(e.n_events, e.tel_id, np.int16) for e in parts]),
            event_id=np.concatenate([e.event_id for e in parts]),
            trigger_time=np.concatenate([e.trigger_time for e in parts]),
        )

    def monitoring_rows(self, block: ShowerBlock, events: dict[int, TelescopeEvents]) -> np.ndarray:
        """Trigger rate (Hz) and pedestal of every telescope for one block (n_read_out still 0)."""
        rows = np.zeros(len(self.tel_ids), CAMERA_MONITORING_DTYPE)
        rows["tel_id"], rows["time"] = self.tel_ids, block.t_stop
        rows["n_triggers"] = [events[t].n_events for t in self.tel_ids]
        rows["trigger_rate_hz"] = rows["n_triggers"] / (block.t_stop - block.t_start)
        rows["n_pedestal_events"] = self.n_pedestal_events
        if self.n_pedestal_events:
            for row, tel_id in enumerate(self.tel_ids):
                rows["pedestal_mean_adc"][row], rows["pedestal_std_adc"][row] = self.pedestal(
                    tel_id, block.stream, block.block_index)
        return rows

    def pedestal(self, tel_id: int, stream: str, block_index: int) -> tuple[float, float]:
        """Mean and std (ADC) of the high-gain samples of a telescope's pedestal events in a block."""
        if not self.n_pedestal_events:
            raise ValueError("no pedestal events configured (n_pedestal_events = 0)")
        waveform = self.sim.pedestal_waveforms(tel_id, block_index, self.n_pedestal_events, stream=f"pedestal/{stream}")
        hg = waveform[:, HIGH_GAIN]
        return float(hg.mean(dtype=np.float64)), float(hg.std(dtype=np.float64))

    def readout(self, stream: str, block_index: int, decision: Decision) -> Readout:
        """Ship the events the central trigger accepted (``decision.accepted``: event ids per
        tel_id); drop and count the others."""
        key = (stream, block_index)
        if key not in self.buffer:
            raise FlowControlError(f"readout of block {key}, which is not in the camera buffer")
        events, rows = self.buffer.pop(key)
        out, dropped = {}, {}
        for row, tel_id in enumerate(self.tel_ids):
            ev = events[tel_id]
            keep = np.isin(ev.event_id, decision.accepted.get(tel_id, np.empty(0, np.int64)))
            out[tel_id] = ev.take(keep)
            rows["n_read_out"][row] = int(keep.sum())
            dropped[tel_id] = ev.n_events - int(rows["n_read_out"][row])
        return Readout(out, dropped, rows)
