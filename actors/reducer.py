"""Reducer actor: hosts ``ctasim.onsite.reducer.BlockReducer`` (R1 -> DL0, every variant) and meters it."""

from __future__ import annotations

import time

from ctasim.instrument.subarray import SubarrayDescription
from ctasim.onsite.camera_station import Readout
from ctasim.onsite.reducer import BlockReducer, Reduced
from ctasim.scenario import ReductionSection


class ReducerActor:
    """Reduces the read-out events of a block as the scenario's ``reduction`` section says (its
    variant archived, ``compare_variants`` metered)."""

    def __init__(self, subarray: SubarrayDescription, reduction: ReductionSection) -> None:
        self.reducer = BlockReducer(subarray, reduction.library_configs())

    def reduce(self, stream: str, block_index: int, *readouts: Readout) -> Reduced:
        t0 = time.perf_counter()
        reduced = self.reducer.reduce(stream, block_index, *readouts)
        reduced.timing = {"camera": sum(r.wall_seconds for r in readouts), "reducer": time.perf_counter() - t0}
        return reduced
