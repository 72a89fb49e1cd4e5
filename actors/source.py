"""ShowerSource actor: hosts ``ctasim.sim.source.ShowerSource``, one per population (stream)."""

from __future__ import annotations

import time

from ctasim.datamodel.simulation import ShowerTruth
from ctasim.instrument.subarray import SubarrayDescription
from ctasim.sim.blocks import ShowerBlock
from ctasim.sim.source import Population, ShowerSource


class SourceActor:
    """Draws the shower blocks of one population; meters the wall time of each."""

    def __init__(self, population: Population, subarray: SubarrayDescription, pointing: tuple[float, float],
                 seed: int, block_size: int) -> None:
        self.source = ShowerSource(population, subarray, pointing[0], pointing[1], seed, block_size)

    def n_blocks(self) -> int:
        return self.source.n_blocks

    def block(self, block_index: int) -> tuple[ShowerTruth, ShowerBlock]:
        """(truth, whole block): two results so later stages fetch only what they need."""
        t0 = time.perf_counter()
        block = self.source.block(block_index)
        truth = block.truth()
        truth.wall_seconds = time.perf_counter() - t0
        return truth, block
