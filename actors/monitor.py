"""Monitor actor: hosts ``ctasim.onsite.monitor.RunMonitor``, fed by the archiver's per-block acks."""

from __future__ import annotations

from collections.abc import Sequence

from ctasim.instrument.subarray import SubarrayDescription
from ctasim.onsite.archive_writer import Ack
from ctasim.onsite.monitor import RunMonitor


class MonitorActor:
    """Merges every block's counts, bytes and wall times; ``summary`` closes and checks them."""

    def __init__(self, scenario: dict, subarray: SubarrayDescription) -> None:
        self.monitor = RunMonitor(scenario, subarray)

    def record(self, ack: Ack) -> None:
        self.monitor.record(ack)

    def summary(self, files: Sequence[str], wall_seconds: float, backend: str) -> dict:
        return self.monitor.summary(files, wall_seconds, backend)
