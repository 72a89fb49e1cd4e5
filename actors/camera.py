"""Camera actor: hosts a ``ctasim.onsite.camera_station.CameraStation`` (one or more telescopes).

The station simulates, buffers and reads out; this shell forwards the calls, meters their wall
time (simulate + readout of a block, attached to its Readout) and reports process memory.
"""

from __future__ import annotations

import resource
import time

import psutil

from ctasim.instrument.subarray import SubarrayDescription
from ctasim.onsite.camera_station import CameraStation, Readout, TriggerReport
from ctasim.onsite.central_trigger import Decision
from ctasim.sim.atmosphere import Extinction
from ctasim.sim.blocks import ShowerBlock
from ctasim.sim.pixel_faults import PixelFaultModel
from ctasim.sim.telescope_faults import NO_FAULTS, TelescopeFaultSet


class CameraActor:
    """Telescopes ``tel_ids`` of the subarray; at most ``max_buffered_blocks`` blocks buffered;
    ``nsb_stream``: the stream whose blocks carry accidental NSB-only triggers (None: off);
    ``pixel_faults``: the pixel faults injected into the cameras (None: healthy); ``telescope_faults``: the
    telescope faults its cameras suffer."""

    def __init__(self, subarray: SubarrayDescription, tel_ids: list[int], pointing: tuple[float, float],
                 seed: int, max_buffered_blocks: int, nsb_stream: str | None = None,
                 extinction: Extinction | None = None, pixel_faults: PixelFaultModel | None = None,
                 telescope_faults: TelescopeFaultSet = NO_FAULTS) -> None:
        self.station = CameraStation(subarray, tel_ids, pointing, seed, max_buffered_blocks, nsb_stream=nsb_stream,
                                     extinction=extinction, pixel_faults=pixel_faults,
                                     telescope_faults=telescope_faults)
        self.simulate_seconds: dict[tuple[str, int], float] = {}

    def simulate(self, block: ShowerBlock) -> TriggerReport:
        t0 = time.perf_counter()
        report = self.station.simulate(block)
        self.simulate_seconds[(block.stream, block.block_index)] = time.perf_counter() - t0
        return report

    def readout(self, stream: str, block_index: int, decision: Decision) -> Readout:
        t0 = time.perf_counter()
        readout = self.station.readout(stream, block_index, decision)
        readout.wall_seconds = self.simulate_seconds.pop((stream, block_index)) + time.perf_counter() - t0
        return readout

    def memory(self) -> dict:
        """This actor's process memory (MiB): resident now and peak, with the telescopes it hosts."""
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss = psutil.Process().memory_info().rss
        return {"tel_ids": self.station.tel_ids, "rss_mib": rss / 2**20, "peak_rss_mib": peak_kib / 1024}
