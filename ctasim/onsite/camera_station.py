"""Camera station: the cameras of some telescopes, their bounded R1 buffer and camera monitoring.

``simulate`` a shower block: the telescopes' triggered events wait in the R1 buffer (at most
``max_buffered_blocks`` blocks: one more is a flow-control violation) and their trigger times go
to the central trigger. ``readout`` with the central trigger's decision ships the accepted events
and drops (and counts) the others.

Monitoring (one CAMERA_MONITORING_DTYPE row per telescope and block, at the block's end time): the
camera trigger rate, and the pedestal mean and std (ADC, high-gain channel, over all samples and
pixels) of ``n_pedestal_events`` pedestal events taken during the block: NSB-only readouts drawn
from their own random stream ``pedestal/<stream>``, so they leave the shower events unchanged.
The same pedestal events give each pixel's std (``pixel_pedestal_dtype`` rows, ``Readout.pixel_pedestal``):
the data quality finds dead and noisy pixels from them (``ctasim.dl0.pixel_status``).
A telescope without pedestal events has ``n_pedestal_events`` 0 and pedestal values 0; its
pedestal row is left out of the archive (``archive_writer``), never written as NaN.

Accidental (NSB-only) camera triggers (``nsb_stream`` set): each camera type's NSB-only trigger
rate is measured once (``accidental_rates``: the camera's trigger logic on its own NSB trace, the
one its pedestal events read, ``ctasim.sim.trigger.accidental_rate``); every block of the stream
``nsb_stream`` then gets, per telescope, Poisson(rate x block span) accidental triggers uniform in
the block's span (``block_rng(seed, "nsb-trigger/<stream>", block, tel_id)``), with event ids
flagged by ``datamodel.ids.nsb_event_ids``. They go to the central trigger with the shower
triggers and count in the camera trigger rate. Only one stream carries them: the populations are
separate timelines over the same night, and the NSB of that night must be counted once.
At readout, an accidental that joined an accepted shower event is read out as an NSB-only
waveform (stream ``nsb-event/<stream>``, no Cherenkov p.e.) under that shower's event id, as the
central trigger numbers the array event; the others are dropped and counted like any trigger.

Telescope faults (``telescope_faults``, ``ctasim.sim.telescope_faults``): a ``no_data`` telescope's triggered
events stay in the camera (``TriggerReport.suppressed`` counts them for the central trigger), its
monitoring rows show no triggers and no pedestal events; a ``garbage`` telescope sends random
waveforms for every event, pedestal events included; a clock offset shifts every trigger time
the telescope reports; a runaway camera adds its extra triggers to the accidental ones (same event
ids, same readout) on the faults' ``accidental_stream``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..datamodel.ids import nsb_event_ids
from ..datamodel.monitoring import CAMERA_MONITORING_DTYPE, pixel_pedestal_dtype
from ..datamodel.r1 import TelescopeEvents
from ..dl0.pixel_status import pedestal_statistics
from ..instrument.subarray import SubarrayDescription
from ..rng import block_rng
from ..sim.atmosphere import Extinction
from ..sim.blocks import ShowerBlock
from ..sim.camera_sim import TelescopeSimulator, impact_distance
from ..sim.pixel_faults import PixelFaultModel
from ..sim.telescope_faults import NO_FAULTS, TelescopeFaultSet, faulty_events, garbage_waveforms, runaway_trigger_times
from ..sim.trigger import AccidentalRate, accidental_rate

if TYPE_CHECKING:
    from .central_trigger import Decision

PEDESTAL_EVENTS_PER_BLOCK = 8  # pedestal events per telescope and block
HIGH_GAIN = 0  # gain channel of the pedestal figures


class FlowControlError(RuntimeError):
    """A block arrived while the R1 buffer was full, or a readout asked for a block not buffered."""


class BlockNotBuffered(FlowControlError):
    """A readout asked for a block the buffer does not hold (e.g. a camera process restarted since)."""


@dataclass
class TriggerReport:
    """Trigger times of all telescopes of one camera station for one block."""

    tel_id: np.ndarray        # int16
    event_id: np.ndarray      # int64
    trigger_time: np.ndarray  # float64 s
    nsb_live: bool = False    # accidental triggers were simulated for this block (possibly none)
    suppressed: dict[int, int] = field(default_factory=dict)  # tel_id -> triggers a no_data camera kept


@dataclass
class Readout:
    """Accepted R1 events of one camera station for one block, plus its monitoring rows."""

    events: dict[int, TelescopeEvents]
    n_dropped: dict[int, int]  # triggered events not accepted, per tel_id
    monitoring: np.ndarray     # CAMERA_MONITORING_DTYPE, one row per telescope
    wall_seconds: float = 0.0  # the host's wall time for the block (simulate + readout), set by the host
    pixel_pedestal: dict[int, np.ndarray] = field(default_factory=dict)  # tel_id -> pixel_pedestal_dtype row


#: accidental rates of healthy cameras, by (seed, camera name, NSB rate, threshold, NSB scale): measured once per
#: process, not once per station (51 stations of a South Alpha night measured the same three, 33 s of 110 s)
_HEALTHY_ACCIDENTALS: dict[tuple, AccidentalRate] = {}


class CameraStation:
    """Telescopes ``tel_ids`` of the subarray pointing at (alt, az) deg; at most
    ``max_buffered_blocks`` blocks in the R1 buffer."""

    def __init__(self, subarray: SubarrayDescription, tel_ids: Sequence[int], pointing: tuple[float, float],
                 seed: int, max_buffered_blocks: int, n_pedestal_events: int = PEDESTAL_EVENTS_PER_BLOCK,
                 nsb_stream: str | None = None, extinction: Extinction | None = None,
                 pixel_faults: PixelFaultModel | None = None, telescope_faults: TelescopeFaultSet = NO_FAULTS) -> None:
        if n_pedestal_events < 0:
            raise ValueError(f"n_pedestal_events = {n_pedestal_events}: expected an integer >= 0")
        self.tel_ids = [int(t) for t in tel_ids]
        self.sim = TelescopeSimulator(subarray, self.tel_ids, pointing[0], pointing[1], seed, extinction=extinction,
                                      pixel_faults=pixel_faults)
        self.max_buffered_blocks = int(max_buffered_blocks)
        self.n_pedestal_events = int(n_pedestal_events)
        self.seed = int(seed)
        self.nsb_stream = nsb_stream
        self.telescope_faults = telescope_faults
        self._accidental: dict[str | int, AccidentalRate] = {}
        # (stream, block) -> pixel_pedestal_dtype row per tel_id, until the block is read out
        self.pixel_pedestal: dict[tuple[str, int], dict[int, np.ndarray]] = {}
        # (stream, block) -> (accidental event ids, trigger times per tel_id; the block's showers)
        self.accidentals: dict[tuple[str, int], tuple[dict[int, tuple[np.ndarray, np.ndarray]], np.ndarray]] = {}
        # (stream, block) -> (events per tel_id, monitoring rows still without n_read_out)
        self.buffer: dict[tuple[str, int], tuple[dict[int, TelescopeEvents], np.ndarray]] = {}

    def simulate(self, block: ShowerBlock) -> TriggerReport:
        """Simulate the block and its pedestal events, buffer the triggered events, return their
        trigger times. A block already buffered is replaced (simulation is deterministic)."""
        key = (block.stream, block.block_index)
        # a block simulated again (resubmitted after another actor's restart) replaces its first copy
        if key not in self.buffer and len(self.buffer) >= self.max_buffered_blocks:
            raise FlowControlError(f"camera buffer full ({len(self.buffer)} blocks): flow control violated at {key}")
        simulated = self.sim.simulate(block)
        faults = self.telescope_faults
        events = {t: faulty_events(faults, ev, self._adc_max(t), self.seed, block.stream, block.block_index)
                  for t, ev in simulated.items()}
        suppressed = {t: simulated[t].n_events for t in self.tel_ids if t in self.telescope_faults.no_data}
        live = block.stream == self.nsb_stream or self.telescope_faults.runaway_live(block.stream)
        acc = self.inject_accidentals(block) if live else {}
        if live:
            self.accidentals[key] = (acc, block.showers)
        self.buffer[key] = (events, self.monitoring_rows(block, events, acc))
        parts = [events[t] for t in self.tel_ids]
        nsb = [acc[t] for t in self.tel_ids if t in acc]
        return TriggerReport(
            tel_id=np.concatenate([np.full(e.n_events, e.tel_id, np.int16) for e in parts]
                                  + [np.full(a[0].size, t, np.int16) for t, a in acc.items()]),
            event_id=np.concatenate([e.event_id for e in parts] + [a[0] for a in nsb]),
            trigger_time=np.concatenate([e.trigger_time for e in parts] + [a[1] for a in nsb]),
            nsb_live=live,
            suppressed=suppressed,
        )

    def _adc_max(self, tel_id: int) -> int:
        return self.sim.subarray.tel(tel_id).camera.readout.adc_max

    def accidental_rate(self, tel_id: int) -> AccidentalRate:
        """NSB-only trigger rate of a telescope's camera type (measured once per camera type, or per
        telescope for one with dead or hot pixels: on its own traces)."""
        tel = self.sim.subarray.tel(tel_id)
        name = tel.camera_name
        overlay = self.sim.overlay(tel_id)
        scale = self.sim.nsb_scale.get(name)
        if overlay is None:  # a healthy camera's: the same in every station of this process
            key = (self.seed, name, tel.camera.nsb_rate_ghz, tel.camera.trigger.threshold_pe,
                   None if scale is None else np.asarray(scale, float).tobytes())
            if key not in _HEALTHY_ACCIDENTALS:
                _HEALTHY_ACCIDENTALS[key] = self._measure_accidentals(tel, scale, None)
            return _HEALTHY_ACCIDENTALS[key]
        if tel_id not in self._accidental:
            self._accidental[tel_id] = self._measure_accidentals(tel, scale, overlay)
        return self._accidental[tel_id]

    def _measure_accidentals(self, tel, scale, overlay) -> AccidentalRate:
        """``accidental_rate`` on the camera's NSB trace (with a faulty telescope's own pixels)."""
        cam = tel.camera
        counts = self.sim.noise_trace(tel.camera_name).nsb_counts
        pixel_rate = np.full(cam.geometry.n_pixels, cam.nsb_rate_ghz)
        if scale is not None:
            pixel_rate = pixel_rate * np.asarray(scale, float)
        if overlay is not None:
            counts = counts.copy()
            counts[:, overlay.pixels] = overlay.trace.nsb_counts
            pixel_rate[overlay.pixels] = overlay.rate_ghz
        dt = cam.readout.sample_width_ns
        window = max(1, round(cam.trigger.window_ns / dt))
        return accidental_rate(counts, pixel_rate, cam.geometry.neighbors_indptr, cam.geometry.neighbors_indices,
                               cam.trigger.threshold_pe, window, dt)

    def inject_accidentals(self, block: ShowerBlock) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Accidental triggers of every telescope in a block: (event ids, sorted trigger times s as the
        camera reports them). NSB-only ones on ``nsb_stream``, a runaway camera's on the faults'
        accidental stream; none from a ``no_data`` camera."""
        span = block.t_stop - block.t_start
        nsb = block.stream == self.nsb_stream
        runaway = self.telescope_faults.runaway_hz if self.telescope_faults.runaway_live(block.stream) else {}
        out = {}
        for tel_id in self.tel_ids:
            if tel_id in self.telescope_faults.no_data or not (nsb or tel_id in runaway):
                continue
            parts = []
            if nsb:
                rng = block_rng(self.seed, f"nsb-trigger/{block.stream}", block.block_index, tel_id)
                n = int(rng.poisson(self.accidental_rate(tel_id).rate_hz * span))
                parts.append(np.sort(rng.uniform(block.t_start, block.t_stop, n)))
            if tel_id in runaway:
                parts.append(runaway_trigger_times(runaway[tel_id], self.seed, block.stream, block.block_index,
                                                   tel_id, block.t_start, block.t_stop))
            times = np.sort(np.concatenate(parts)) + self.telescope_faults.clock_shift_s(tel_id)
            out[tel_id] = (nsb_event_ids(block.block_index, tel_id, times.size), times)
        return out

    def monitoring_rows(self, block: ShowerBlock, events: dict[int, TelescopeEvents],
                        accidentals: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
        """Trigger rate (Hz, shower and accidental triggers) and pedestal of every telescope for one
        block (n_read_out still 0)."""
        acc = accidentals or {}
        rows = np.zeros(len(self.tel_ids), CAMERA_MONITORING_DTYPE)
        rows["tel_id"], rows["time"] = self.tel_ids, block.t_stop
        rows["n_triggers"] = [events[t].n_events + (acc[t][0].size if t in acc else 0) for t in self.tel_ids]
        rows["trigger_rate_hz"] = rows["n_triggers"] / (block.t_stop - block.t_start)
        rows["n_pedestal_events"] = [0 if t in self.telescope_faults.no_data else self.n_pedestal_events
                                     for t in self.tel_ids]
        pixel_rows = {}
        for row, tel_id in enumerate(self.tel_ids):
            if not rows["n_pedestal_events"][row]:
                continue
            mean, std, pixel_std = self.pedestal_figures(tel_id, block.stream, block.block_index)
            rows["pedestal_mean_adc"][row], rows["pedestal_std_adc"][row] = mean, std
            pixel_rows[tel_id] = np.zeros(1, pixel_pedestal_dtype(pixel_std.size))
            pixel_rows[tel_id][["tel_id", "time", "n_pedestal_events"]] = (tel_id, block.t_stop,
                                                                           self.n_pedestal_events)
            pixel_rows[tel_id]["pixel_std_adc"] = pixel_std
        self.pixel_pedestal[(block.stream, block.block_index)] = pixel_rows
        return rows

    def pedestal(self, tel_id: int, stream: str, block_index: int) -> tuple[float, float]:
        """Mean and std (ADC) of the high-gain samples of a telescope's pedestal events in a block."""
        return self.pedestal_figures(tel_id, stream, block_index)[:2]

    def pedestal_figures(self, tel_id: int, stream: str, block_index: int) -> tuple[float, float, np.ndarray]:
        """``pedestal`` and the std (ADC) of each pixel's high-gain samples (float32 [n_pixels])."""
        if not self.n_pedestal_events:
            raise ValueError("no pedestal events configured (n_pedestal_events = 0)")
        garbage = tel_id in self.telescope_faults.garbage
        # the high gain only (half the synthesis); a garbage camera's random values are drawn for every channel
        waveform = self.sim.pedestal_waveforms(tel_id, block_index, self.n_pedestal_events, stream=f"pedestal/{stream}",
                                               channels=None if garbage else HIGH_GAIN + 1)
        if garbage:
            waveform = garbage_waveforms(waveform.shape, self._adc_max(tel_id), self.seed, "pedestal", stream,
                                         block_index, tel_id)
        return pedestal_statistics(waveform[:, HIGH_GAIN])

    def readout(self, stream: str, block_index: int, decision: Decision) -> Readout:
        """Ship the events the central trigger accepted (``decision.accepted``: event ids per
        tel_id); drop and count the others."""
        key = (stream, block_index)
        if key not in self.buffer:
            raise BlockNotBuffered(f"readout of block {key}, which is not in the camera buffer")
        events, rows = self.buffer.pop(key)
        pixel_pedestal = self.pixel_pedestal.pop(key, {})
        acc, showers = self.accidentals.pop(key, ({}, None))
        out, dropped = {}, {}
        for row, tel_id in enumerate(self.tel_ids):
            ev = events[tel_id]
            accepted = decision.accepted.get(tel_id, np.empty(0, np.int64))
            keep = np.isin(ev.event_id, accepted)
            out[tel_id] = ev.take(keep)
            n_acc = 0
            if tel_id in acc and acc[tel_id][0].size:
                extra = self._accidental_events(tel_id, stream, block_index, acc[tel_id], accepted, decision, showers)
                n_acc = extra.n_events
                if n_acc:
                    out[tel_id] = _concat(out[tel_id], extra)
            rows["n_read_out"][row] = int(keep.sum()) + n_acc
            dropped[tel_id] = ev.n_events + (acc[tel_id][0].size if tel_id in acc else 0) - int(rows["n_read_out"][row])
        return Readout(out, dropped, rows, pixel_pedestal=pixel_pedestal)

    def _accidental_events(self, tel_id: int, stream: str, block_index: int,
                           acc: tuple[np.ndarray, np.ndarray], accepted: np.ndarray, decision: Decision,
                           showers: np.ndarray) -> TelescopeEvents:
        """R1 events of the accepted accidentals of a telescope, under their array events' ids."""
        ids, times = acc
        sel = np.flatnonzero(np.isin(ids, accepted))
        res = decision.result
        mine = np.flatnonzero((res.tel_id == tel_id) & (res.trigger_event_row >= 0))
        lookup = dict(zip(res.trigger_event_id[mine].tolist(), res.event_id[res.trigger_event_row[mine]].tolist()))
        event_id = np.array([lookup[i] for i in ids[sel].tolist()], np.int64)
        n_pix = self.sim.subarray.tel(tel_id).camera.geometry.n_pixels
        waveform = self.sim.pedestal_waveforms(tel_id, block_index, sel.size, stream=f"nsb-event/{stream}")
        if tel_id in self.telescope_faults.garbage:
            waveform = garbage_waveforms(waveform.shape, self._adc_max(tel_id), self.seed, "accidental", stream,
                                         block_index, tel_id)
        rows = np.searchsorted(showers["event_id"], event_id)
        impact = impact_distance(showers[rows], self.sim.subarray.position(tel_id)).astype(np.float32)
        obs_id = int(showers["obs_id"][0]) if showers.size else 0
        return TelescopeEvents(tel_id, obs_id, event_id, times[sel], waveform,
                               np.zeros((sel.size, n_pix), np.int32), impact)


def _concat(a: TelescopeEvents, b: TelescopeEvents) -> TelescopeEvents:
    """Events of a and b of one telescope, in event-id order."""
    def cat(x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray | None:
        return None if x is None or y is None else np.concatenate([x, y])

    ev = TelescopeEvents(a.tel_id, a.obs_id if a.n_events else b.obs_id, cat(a.event_id, b.event_id),
                         cat(a.trigger_time, b.trigger_time), cat(a.waveform, b.waveform),
                         cat(a.true_image, b.true_image), cat(a.true_impact_distance, b.true_impact_distance))
    return ev.take(np.argsort(ev.event_id, kind="stable"))
