"""ShowerSource actor: draws shower blocks (truth + Cherenkov emission) for one population."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ctasim.instrument.subarray import SubarrayDescription
from ctasim.sim.blocks import ShowerBlock
from ctasim.sim.source import Population, ShowerSource


@dataclass
class BlockTruth:
    """The small part of a shower block that later stages need: truth table and time span (s)."""

    stream: str
    block_index: int
    showers: np.ndarray
    t_start: float
    t_stop: float
    seconds: float  # wall time spent drawing the block


class SourceActor:
    """Wraps ``ctasim.sim.source.ShowerSource``: one per population (stream)."""

    def __init__(self, population: Population, subarray: SubarrayDescription, pointing: tuple[float, float],
                 seed: int, block_size: int) -> None:
        self.source = ShowerSource(population, subarray, pointing[0], pointing[1], seed, block_size)

    def n_blocks(self) -> int:
        return self.source.n_blocks

    def block(self, block_index: int) -> tuple[BlockTruth, ShowerBlock]:
        """(truth, whole block): two results so later stages fetch only what they need."""
        t0 = time.perf_counter()
        block = self.source.block(block_index)
        seconds = time.perf_counter() - t0
        truth = BlockTruth(block.stream, block.block_index, block.showers, block.t_start, block.t_stop, seconds)
        return truth, block
