"""Real-time analysis actor: hosts ``ctasim.onsite.realtime.RealTimeAnalysis``, fed by the chain
with each block's DL0 once the archiver has stored it, and meters it.

It passes the archiver's Ack on (with its own wall seconds as the ``realtime`` stage), so the
driver's flow control waits for the analysis too and it can never fall behind unboundedly. Each
alert is written as ``run_dir/alerts/alert_NNNN.json`` the moment it is raised, with its wall
latency (block archived -> alert written).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ctasim.instrument.subarray import SubarrayDescription
from ctasim.onsite.archive_writer import Ack
from ctasim.onsite.realtime import (
    RealTimeAnalysis,
    RealTimeConfig,
    load_particle_model,
    realtime_timing,
    write_alert,
)
from ctasim.onsite.reducer import Reduced


class RealTimeActor:
    """Rolling significance of the target over the archived blocks; alerts as JSON files."""

    def __init__(self, run_dir: str, subarray: SubarrayDescription, pointing: tuple[float, float],
                 config: RealTimeConfig) -> None:
        self.analysis = RealTimeAnalysis(subarray, pointing, config, load_particle_model(config, subarray))
        self.alert_dir = Path(run_dir) / "alerts"
        self.block_wall: list[float] = []
        self.block_start: list[float] = []
        self.block_span: list[float] = []

    def analyse(self, block_start_s: float, block_span_s: float, reduced: Reduced, ack: Ack) -> Ack:
        t0 = time.perf_counter()
        result = self.analysis.analyse(reduced.blocks, block_start_s, f"{ack.stream}#{ack.block_index}")
        self._publish(result.alerts, ack.archived_unix_s)
        wall = time.perf_counter() - t0
        self.block_wall.append(wall)
        self.block_start.append(block_start_s)
        self.block_span.append(block_span_s)
        ack.timing = dict(ack.timing, realtime=wall)
        return ack

    def finish(self) -> dict[str, Any]:
        """The analysis summary with its wall time per block beside the blocks' simulated spans."""
        self._publish(self.analysis.finish(), time.time())
        out = self.analysis.summary()
        out["timing"] = realtime_timing(self.block_wall, self.block_start, self.block_span,
                                        self.analysis.totals["array_events"])
        return out

    def _publish(self, alerts: list[dict[str, Any]], archived_unix_s: float) -> None:
        for alert in alerts:
            alert["latency_wall_s"] = time.time() - archived_unix_s
            write_alert(self.alert_dir, alert)
