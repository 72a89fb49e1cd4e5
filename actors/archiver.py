"""Archiver actor: hosts ``ctasim.onsite.archive_writer.RunArchiver`` (one DL0 archive per stream).

Forwards ``append`` / ``archived`` / ``acks`` / ``close`` / ``abort`` and meters: each block's Ack
gets the wall seconds of every stage that handled the block.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ctasim.datamodel.simulation import ShowerTruth
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.onsite.archive_writer import Ack, RunArchiver
from ctasim.onsite.central_trigger import Decision
from ctasim.onsite.reducer import Reduced
from ctasim.sim.pixel_faults import PixelFaultModel
from ctasim.sim.source import Population


class ArchiverActor:
    """One DL0 archive per stream under ``run_dir/dl0``; ``close()`` completes them all."""

    def __init__(self, run_dir: str, subarray: SubarrayDescription, scenario: dict[str, Any], seed: int,
                 populations: Sequence[Population], pointing: tuple[float, float],
                 pixel_faults: PixelFaultModel | None = None) -> None:
        self.archiver = RunArchiver(run_dir, subarray, scenario, seed, populations, pointing, pixel_faults)

    def append(self, stream: str, block_index: int, truth: ShowerTruth, decision: Decision, reduced: Reduced) -> Ack:
        t0 = time.perf_counter()
        ack = self.archiver.append(stream, block_index, truth, decision, reduced)
        ack.timing = dict(reduced.timing, source=truth.wall_seconds, central_trigger=decision.wall_seconds,
                          archiver=time.perf_counter() - t0)
        ack.archived_unix_s = time.time()
        return ack

    def archived(self) -> list[tuple[str, int]]:
        return self.archiver.archived()

    def acks(self, blocks: Sequence[tuple[str, int]]) -> list[Ack]:
        return self.archiver.acks(blocks)

    def close(self) -> list[str]:
        return self.archiver.close()

    def abort(self) -> None:
        self.archiver.abort()
