"""Reducer actor: hosts ``ctasim.onsite.reducer.BlockReducer`` (R1 -> DL0, every variant) and meters it."""

from __future__ import annotations

import time

from ctasim.dl0.reduction import ReductionConfig
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.onsite.camera_station import Readout
from ctasim.onsite.reducer import BlockReducer, Reduced


class ReducerActor:
    """Reduces the read-out events of a block with ``configs`` (the first is archived)."""

    def __init__(self, subarray: SubarrayDescription, configs: list[ReductionConfig]) -> None:
        self.reducer = BlockReducer(subarray, configs)

    def reduce(self, stream: str, block_index: int, *readouts: Readout) -> Reduced:
        t0 = time.perf_counter()
        reduced = self.reducer.reduce(stream, block_index, *readouts)
        reduced.timing = {"camera": sum(r.wall_seconds for r in readouts), "reducer": time.perf_counter() - t0}
        return reduced
