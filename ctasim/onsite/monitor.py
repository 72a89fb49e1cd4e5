"""Run monitor: merges every block's acknowledgement (counts, bytes, wall times) into the run's figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..accounting import Accounting, RateMeter
from ..instrument.subarray import SubarrayDescription
from ..report.summary import build_summary
from .archive_writer import Ack


class RunMonitor:
    """Sums the acks of a run; ``summary`` closes and checks the accounting (summary.json content)."""

    def __init__(self, scenario: Mapping[str, Any], subarray: SubarrayDescription) -> None:
        self.scenario = scenario
        self.subarray = subarray
        self.accounting = Accounting()
        self.rates = RateMeter()
        self.stage_seconds: Counter[str] = Counter()
        self.waveform_pixels: dict[str, list[int]] = {}
        self.n_blocks = 0

    def record(self, ack: Ack) -> None:
        """Add one block's counts, bytes, wall seconds per stage and kept waveform pixels."""
        self.accounting.merge(Accounting.from_dict(ack.accounting))
        self.rates.merge(RateMeter.from_dict(ack.rates))
        self.stage_seconds.update(ack.timing)
        for variant, (kept, seen) in ack.waveform_pixels.items():
            total = self.waveform_pixels.setdefault(variant, [0, 0])
            total[0] += kept
            total[1] += seen
        self.n_blocks += 1

    def summary(self, files: Sequence[str], wall_seconds: float, backend: str) -> dict[str, Any]:
        """The run's figures (summary.json content), with whether the accounting closes."""
        return build_summary(self.scenario, self.accounting, self.rates, dict(self.stage_seconds),
                             self.n_blocks, files, wall_seconds, backend, self.subarray,
                             waveform_pixels=self.waveform_pixels)
