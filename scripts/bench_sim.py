"""Benchmark of the toy simulator on one core: showers/s, triggered telescope images/s, and where the
time goes (shower sampling, photon projection, trigger, waveform synthesis).

    python scripts/bench_sim.py [--layouts north_alpha south_alpha] [--blocks 10] [--particle gamma] [--json]

Rates are per CPU second of this process (single-threaded, so per core; on a shared machine the
wall-clock rates are lower and also printed). Stage times come from cProfile over the numba kernels
(few calls each, so the profiler's overhead is negligible); the first block is a warm-up
(compilation, NSB traces) and is not counted.
``--json`` prints one JSON list instead, an object per layout (the figures printed, R1 bytes included).
"""

from __future__ import annotations

import argparse
import cProfile
import json
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
    "transmitted_photons": "photon projection",
    "instrument_smearing": "photon projection",
    "group_trigger": "trigger",
    "synthesize_waveforms": "waveform synthesis",
    "synthesize_with_overlay": "waveform synthesis",
    "single_pe_charges": "waveform synthesis",
}
SCATTER_M = {"north_alpha": 600.0, "south_alpha": 1200.0}


def bench(layout: str, particle: str, n_blocks: int, block_size: int) -> dict:
    """One layout's figures: showers, images and R1 bytes (full waveforms) per CPU and wall second,
    the warm-up block's seconds and each stage's fraction of the wall time."""
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
    n_images = n_bytes = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    prof.enable()
    for b in range(1, n_blocks + 1):
        events = sim.simulate(src.block(b))
        n_images += sum(ev.n_events for ev in events.values())
        n_bytes += sum(ev.nbytes for ev in events.values())
    prof.disable()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0

    stages: dict[str, float] = {}
    for (_, _, name), (_, _, _, cum, _) in pstats.Stats(prof).stats.items():
        if name in STAGES:
            stages[STAGES[name]] = stages.get(STAGES[name], 0.0) + cum
    n_showers = n_blocks * block_size
    fractions = {stage: stages.get(stage, 0.0) / wall
                 for stage in ("shower sampling", "photon projection", "trigger", "waveform synthesis")}
    stats = pstats.Stats(prof).stats.items()
    glue = sum(tot for (_, _, name), (_, _, tot, _, _) in stats if name == "_simulate_telescope")
    fractions["per-telescope glue (python)"] = glue / wall
    return {"layout": layout, "n_telescopes": sub.n_tels, "particle": particle, "showers": n_showers,
            "blocks": n_blocks, "warm_up_s": warm, "cpu_s": cpu, "wall_s": wall, "images": n_images,
            "r1_bytes": n_bytes, "showers_per_cpu_s": n_showers / cpu, "images_per_cpu_s": n_images / cpu,
            "r1_mb_per_cpu_s": n_bytes / 1e6 / cpu, "images_per_wall_s": n_images / wall,
            "stage_fractions": fractions | {"other": 1 - sum(fractions.values())}}


def print_result(r: dict) -> None:
    """The figures of ``bench`` in words."""
    print(f"{r['layout']} ({r['n_telescopes']} telescopes), {r['particle']}, {r['showers']} showers in {r['blocks']} "
          f"blocks (warm-up block incl. compile + NSB traces: {r['warm_up_s']:.1f} s)")
    print(f"  {r['showers_per_cpu_s']:10.0f} showers/s per core (CPU time; {r['showers'] / r['wall_s']:.0f} per "
          "wall-clock s)")
    print(f"  {r['images_per_cpu_s']:10.0f} triggered telescope images/s per core (full waveforms; "
          f"{r['images_per_wall_s']:.0f} per wall-clock s), {r['images'] / r['showers']:.2f} per shower, "
          f"{r['r1_mb_per_cpu_s']:.0f} MB/s of R1 per core")
    for stage, fraction in r["stage_fractions"].items():  # of wall
        print(f"  {stage:20s} {fraction:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", nargs="+", default=["north_alpha", "south_alpha"])
    parser.add_argument("--particle", default="gamma", choices=["gamma", "proton", "electron"])
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--block-size", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print one JSON list, an object per layout")
    args = parser.parse_args()
    results = []
    for layout in args.layouts:
        results.append(bench(layout, args.particle, args.blocks, args.block_size))
        if not args.json:
            print_result(results[-1])
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
