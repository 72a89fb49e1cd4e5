"""The memory a run's blocks will need, known before any work starts.

A block's memory grows with its Cherenkov emission points: the shower simulation holds ~190 bytes
per point at its peak and the telescope simulation of every telescope of the block ~480 in all
(measured in one process with North Alpha protons of 0.1-100 TeV, 4,000-16,000 showers per
block). On Ray every camera process also holds the block and its per-point arrays
(``BYTES_PER_POINT_PER_CAMERA_PROCESS``). The points per shower of a population come from
simulating ``PROBE_SHOWERS`` of its showers (its own spectrum, energies and particle), so the
estimate follows the toy as it changes. The estimate is per block in flight, an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CtasimError
from ..rng import block_rng
from .shower import simulate_showers
from .source import Population

BYTES_PER_POINT = 500.0     # peak bytes per emission point of a block (measured 476, see above)
BYTES_PER_POINT_PER_CAMERA_PROCESS = 200.0   # each Ray camera process (est., see above)
PROBE_SHOWERS = 200         # showers simulated per population for the estimate
MAX_BLOCKS = 1_000_000      # blocks of one run: the schedule of every block is held in memory


@dataclass(frozen=True)
class BlockMemory:
    """Estimated peak memory (bytes) of one block of a population."""

    population: str
    showers_per_block: int
    points_per_shower: float
    bytes_per_block: float


def block_memory(population: Population, block_size: int, obs_level_m: float,
                 camera_processes: int = 0) -> BlockMemory:
    """Estimated peak memory of the population's largest block (``block_size`` or all its showers),
    in one process or spread over ``camera_processes`` Ray camera processes."""
    spectrum = population.validate()
    rng = block_rng(0, f"memory-probe/{population.particle}")
    n = PROBE_SHOWERS
    energy = spectrum.sample(rng, n, population.energy_min_tev, population.energy_max_tev)
    emission, *_ = simulate_showers(rng, population.particle, energy, np.full(n, 70.0), np.zeros(n),
                                    np.zeros(n), np.zeros(n), obs_level_m)
    per_shower = emission.x.size / n
    showers = min(int(block_size), int(population.n_showers))
    per_point = BYTES_PER_POINT + camera_processes * BYTES_PER_POINT_PER_CAMERA_PROCESS
    return BlockMemory(population.name, showers, per_shower, showers * per_shower * per_point)


def check_run_memory(populations: list[Population], block_size: int, blocks_in_flight: int,
                     obs_level_m: float, available_bytes: float | None,
                     camera_processes: int = 0) -> list[BlockMemory]:
    """The block estimates of a run; CtasimError (one line, with the numbers) when the run has more
    than ``MAX_BLOCKS`` blocks or ``blocks_in_flight`` of its largest block exceed ``available_bytes``
    (not compared when None)."""
    n_blocks = sum(p.n_blocks(block_size) for p in populations)
    if n_blocks > MAX_BLOCKS:
        raise CtasimError(f"{n_blocks:.3g} blocks of {block_size} showers: at most {MAX_BLOCKS:,} per run "
                          "(fewer particles[].n_showers, or a larger simulation.block_size)")
    blocks = [block_memory(p, block_size, obs_level_m, camera_processes) for p in populations]
    worst = max(blocks, key=lambda b: b.bytes_per_block)
    need = worst.bytes_per_block * blocks_in_flight
    if available_bytes is not None and need > available_bytes:
        raise CtasimError(
            f"simulation.block_size = {block_size}: a block of {worst.population!r} needs ~"
            f"{worst.bytes_per_block / 1e9:.1f} GB ({worst.points_per_shower:.0f} emission points per shower), "
            f"x {blocks_in_flight} in flight = {need / 1e9:.1f} GB, more than the {available_bytes / 1e9:.1f} GB "
            "available; lower simulation.block_size or execution.max_blocks_in_flight")
    return blocks
