"""Central-trigger actor: hosts ``ctasim.onsite.central_trigger.CentralTrigger`` and meters it."""

from __future__ import annotations

import time

from ctasim.datamodel.simulation import ShowerTruth
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.onsite.camera_station import TriggerReport
from ctasim.onsite.central_trigger import CentralTrigger, Decision


class CentralTriggerActor:
    """Stereo decision of each block over the trigger reports of every camera actor."""

    def __init__(self, subarray: SubarrayDescription, min_telescopes: int, window_ns: float,
                 pointing: tuple[float, float]) -> None:
        self.trigger = CentralTrigger(subarray, min_telescopes, window_ns, pointing)

    def decide(self, stream: str, block_index: int, truth: ShowerTruth, *reports: TriggerReport) -> Decision:
        t0 = time.perf_counter()
        decision = self.trigger.decide(stream, block_index, truth, *reports)
        decision.wall_seconds = time.perf_counter() - t0
        return decision
