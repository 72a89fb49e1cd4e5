"""Benchmark of the toy simulator on one core: showers/s, triggered telescope images/s, and where the
time goes (shower sampling, photon projection, trigger, waveform synthesis).

    python scripts/bench_sim.py [--layouts north_alpha south_alpha] [--blocks 10] [--particle gamma]

Rates are per CPU second of this process (single-threaded, so per core; on a shared machine the
wall-clock rates are lower and also printed). Stage times come from cProfile over the numba kernels (few calls each, so the profiler's overhead
is negligible); the first block is a warm-up (compilation, NSB traces) and is not counted.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from ctasim.instrument.config import load_subarray
from ctasim.sim.camera_sim import TelescopeSimulator
from ctasim.sim.source import Population, ShowerSource

# function name -> stage (cumulative times of these functions are summed per stage)
STAGES = {
    "block": "shower sampling",
    "expected_per_shower": "photon projection",
    "expected_cumulative": "photon projection",
    "shower_pe": "photon projection",
    "muon_geometry": "photon projection",
    "muon_pe": "photon projection",
    "pixel_at": "photon projection",
    "group_trigger": "trigger",
    "synthesize_waveforms": "waveform synthesis",
    "single_pe_charges": "waveform synthesis",
}
SCATTER_M = {"north_alpha": 600.0, "south_alpha": 1200.0}


def bench(layout: str, particle: str, n_blocks: int, block_size: int) -> None:
    sub = load_subarray(layout)
    pop = Population(f"bench-{particle}", particle, {"type": "power_law", "index": -2.0},
                     n_showers=(n_blocks + 1) * block_size, energy_min_tev=0.03, energy_max_tev=30.0,
                     max_scatter_m=SCATTER_M.get(layout, 1000.0),
                     viewcone_deg=0.0 if particle == "gamma" else 5.0)
    src = ShowerSource(pop, sub, 70.0, 0.0, 1, block_size)
    sim = TelescopeSimulator(sub, sub.tel_ids, 70.0, 0.0, 1)
    t0 = time.perf_counter()
    sim.simulate(src.block(0))
    warm = time.perf_counter() - t0

    prof = cProfile.Profile()
    n_images = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    prof.enable()
    for b in range(1, n_blocks + 1):
        events = sim.simulate(src.block(b))
        n_images += sum(ev.n_events for ev in events.values())
    prof.disable()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0

    stages: dict[str, float] = {}
    for (_, _, name), (_, _, _, cum, _) in pstats.Stats(prof).stats.items():
        if name in STAGES:
            stages[STAGES[name]] = stages.get(STAGES[name], 0.0) + cum
    n_showers = n_blocks * block_size
    print(f"{layout} ({sub.n_tels} telescopes), {particle}, {n_showers} showers in {n_blocks} blocks "
          f"(warm-up block incl. compile + NSB traces: {warm:.1f} s)")
    print(f"  {n_showers / cpu:10.0f} showers/s per core (CPU time; {n_showers / wall:.0f} per wall-clock s)")
    print(f"  {n_images / cpu:10.0f} triggered telescope images/s per core (full waveforms; "
          f"{n_images / wall:.0f} per wall-clock s), {n_images / n_showers:.2f} per shower")
    for stage in ("shower sampling", "photon projection", "trigger", "waveform synthesis"):  # of wall
        print(f"  {stage:20s} {stages.get(stage, 0.0) / wall:6.1%}")
    print(f"  {'other (numpy glue)':20s} {1 - sum(stages.values()) / wall:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", nargs="+", default=["north_alpha", "south_alpha"])
    parser.add_argument("--particle", default="gamma", choices=["gamma", "proton", "electron"])
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--block-size", type=int, default=500)
    args = parser.parse_args()
    for layout in args.layouts:
        bench(layout, args.particle, args.blocks, args.block_size)


if __name__ == "__main__":
    main()
