"""Monitor actor: event accounting and data rates of the whole chain, fed by per-block acks."""

from __future__ import annotations

from collections import Counter

from ctasim.accounting import Accounting, RateMeter
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.report.summary import build_summary

from .archiver import Ack


class MonitorActor:
    """Merges every block's counts, bytes and wall times; ``summary`` closes and checks them."""

    def __init__(self, scenario: dict, subarray: SubarrayDescription) -> None:
        self.scenario = scenario
        self.subarray = subarray
        self.accounting = Accounting()
        self.rates = RateMeter()
        self.stage_seconds: Counter[str] = Counter()
        self.waveform_pixels: dict[str, list[int]] = {}
        self.n_blocks = 0

    def record(self, ack: Ack) -> None:
        self.accounting.merge(Accounting.from_dict(ack.accounting))
        self.rates.merge(RateMeter.from_dict(ack.rates))
        self.stage_seconds.update(ack.timing)
        for variant, (kept, seen) in ack.waveform_pixels.items():
            total = self.waveform_pixels.setdefault(variant, [0, 0])
            total[0] += kept
            total[1] += seen
        self.n_blocks += 1

    def summary(self, files: list[str], wall_seconds: float, backend: str) -> dict:
        """The run's figures (summary.json content), with whether the accounting closes."""
        return build_summary(self.scenario, self.accounting, self.rates, dict(self.stage_seconds),
                             self.n_blocks, files, wall_seconds, backend, self.subarray,
                             waveform_pixels=self.waveform_pixels)
