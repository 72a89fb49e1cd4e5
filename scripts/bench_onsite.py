"""On-site chain throughput in-process vs Ray, and peak memory for a run twice as long.

Each configuration runs in its own subprocess (clean Ray state); memory is the peak of the summed
PSS (proportional set size: shared pages, such as Ray's object store mapped into every worker,
counted once in all) of the run's whole process tree (Ray's daemons and workers included),
sampled every 0.5 s.

    python scripts/bench_onsite.py [--showers 600] [--layout north_alpha] [--per-actor auto] [--slow-archiver S]
                                   [--fresh-install]

Prints array events/s for each backend, the share of the chain's wall time each stage took (summed
over its actors: on Ray they overlap; the archiver's with closing the archive), the time to the first
archived block, the Ray speed-up over in-process (target: 1.8x on 2 CPUs at steady state) and the peak memory of a run
with twice the showers (target: within 10 %). ``--slow-archiver S`` adds Ray runs whose archiver
sleeps S s per block (scenario ``faults.process.slow_archiver_s``): back-pressure must keep their
memory as flat. ``--fresh-install`` first runs each backend with an empty numba cache
(``NUMBA_CACHE_DIR``) and prints its time to the first block (numba compiling everything).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import psutil

RUN = """
import json, sys, time
from actors.orchestrator import ActorGraph
from ctasim.scenario import validate_scenario
cfg = json.loads(sys.argv[1])
t0 = time.perf_counter()
graph = ActorGraph(validate_scenario(cfg), backend=cfg["execution"]["backend"])
result = graph.run()
graph.shutdown()
acc = result.summary["accounting"]["stages"]
timing = result.summary["timing"]
print(json.dumps({"wall_s": time.perf_counter() - t0, "chain_s": timing["wall_seconds"],
                  "driver_peak_mb": timing["driver_peak_rss_mib"], "first_block_s": timing["first_block_seconds"],
                  "stage_s": timing["stage_seconds"], "camera_actors": timing["camera_actors"],
                  "close_s": timing["archive_close_seconds"],
                  "array_events": acc["array_events"]["total"],
                  "telescope_events": acc["telescope_events_archived"]["total"]}))
"""


def scenario(n_showers: int, layout: str, backend: str, per_actor: int | str, out: str, slow_s: float = 0.0) -> dict:
    half = n_showers // 2
    return {
        "name": "bench_onsite", "seed": 3, "output_dir": out, "array": {"layout": layout},
        "particles": [
            {"name": "gamma", "particle": "gamma", "n_showers": half, "energy_min_tev": 0.03,
             "energy_max_tev": 50.0, "max_scatter_m": 600.0, "rate_hz": 1000.0},
            {"name": "proton", "particle": "proton", "n_showers": half, "energy_min_tev": 0.1,
             "energy_max_tev": 100.0, "max_scatter_m": 800.0, "viewcone_deg": 5.0, "rate_hz": 9000.0},
        ],
        "simulation": {"block_size": 100},
        "execution": {"backend": backend, "telescopes_per_actor": per_actor, "max_blocks_in_flight": 4},
        "faults": {"process": {"slow_archiver_s": slow_s}},
    }


def tree_pss(proc: psutil.Process) -> int:
    """Summed proportional set size (bytes) of a process and all its descendants."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def run(cfg: dict, env: dict | None = None) -> dict:
    """Run one scenario in a subprocess (``env``: extra environment); its result plus the peak PSS of
    its process tree."""
    proc = subprocess.Popen([sys.executable, "-c", RUN, json.dumps(cfg)], stdout=subprocess.PIPE, text=True,
                            env=os.environ | (env or {}))
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, tree_pss(ps))
        time.sleep(0.5)
    out = proc.stdout.read().strip().splitlines()
    if proc.returncode:
        raise SystemExit(f"run failed ({proc.returncode})")
    return json.loads(out[-1]) | {"peak_pss_mb": peak / 2**20}


def per_actor(text: str) -> int | str:
    """``--per-actor``: a positive integer or ``auto``."""
    return text if text == "auto" else int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--showers", type=int, default=600, help="showers (half gamma, half proton)")
    ap.add_argument("--layout", default="north_alpha")
    ap.add_argument("--per-actor", type=per_actor, default="auto",
                    help="telescopes per camera actor (Ray; default auto: one camera actor per CPU)")
    ap.add_argument("--slow-archiver", type=float, default=0.0, help="also Ray with an archiver this slow (s/block)")
    ap.add_argument("--fresh-install", action="store_true", help="also the first block with an empty numba cache")
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON document (last line)")
    args = ap.parse_args()
    fresh = {}
    backends = {"local": ("local", 0.0), "ray": ("ray", 0.0)}
    if args.slow_archiver:
        backends["ray+slow"] = ("ray", args.slow_archiver)
    with tempfile.TemporaryDirectory() as tmp:
        if args.fresh_install:
            for backend in ("local", "ray"):
                cold = run(scenario(200, args.layout, backend, args.per_actor, f"{tmp}/cold_{backend}"),
                           {"NUMBA_CACHE_DIR": f"{tmp}/numba_cache_{backend}"})
                fresh[backend] = {"first_block_s": cold["first_block_s"], "camera_actors": cold["camera_actors"]}
                print(f"first block of a fresh install (empty numba cache), {backend}: {cold['first_block_s']:.1f} s "
                      f"({cold['camera_actors']} camera actors; target < 15 s)")
        # warm the numba cache once so neither backend pays for compilation
        run(scenario(100, args.layout, "local", args.per_actor, f"{tmp}/warm"))
        rows = {}
        for name, (backend, slow_s) in backends.items():
            for factor in (1, 2):
                cfg = scenario(factor * args.showers, args.layout, backend, args.per_actor, f"{tmp}/{name}{factor}",
                               slow_s)
                rows[(name, factor)] = run(cfg)
    print(f"{'backend':8s} {'showers':>8s} {'array ev':>9s} {'chain s':>8s} {'array ev/s':>11s} {'camera':>7s} "
          f"{'reducer':>7s} {'archiver':>8s} {'1st blk s':>9s} {'peak MB':>8s} {'driver MB':>9s}")
    for (backend, factor), r in rows.items():
        rate = r["array_events"] / r["chain_s"]
        # the archiver's share includes closing the archive (the journal merged into the DL0 files)
        seconds = r["stage_s"] | {"archiver": r["stage_s"].get("archiver", 0.0) + r["close_s"]}
        share = {k: 100 * seconds.get(k, 0.0) / r["chain_s"] for k in ("camera", "reducer", "archiver")}
        print(f"{backend:8s} {factor * args.showers:8d} {r['array_events']:9d} {r['chain_s']:8.1f} {rate:11.1f} "
              f"{share['camera']:6.0f}% {share['reducer']:6.0f}% {share['archiver']:7.0f}% {r['first_block_s']:9.1f} "
              f"{r['peak_pss_mb']:8.0f} {r['driver_peak_mb']:9.0f}")
    for factor in (1, 2):
        ratio = rows[("local", factor)]["chain_s"] / rows[("ray", factor)]["chain_s"]
        print(f"Ray speed-up over in-process, {factor}x showers: {ratio:.2f}")
    # the second half of the longer run, free of the fixed start-up cost (actor processes, code loading)
    extra = {b: rows[(b, 2)]["chain_s"] - rows[(b, 1)]["chain_s"] for b in ("local", "ray")}
    print(f"Ray speed-up over in-process for the extra {args.showers} showers (steady state): "
          f"{extra['local'] / extra['ray']:.2f} (target >= 1.8 on 2 CPUs; "
          f"{rows[('ray', 1)]['camera_actors']} camera actors)")
    for backend in backends:
        growth = rows[(backend, 2)]["peak_pss_mb"] / rows[(backend, 1)]["peak_pss_mb"] - 1
        print(f"peak memory growth for a run twice as long, {backend}: {100 * growth:+.1f} % (target within 10 %)")
    if args.json:
        print(json.dumps(figures(rows, extra, fresh, args.showers)))


def figures(rows: dict, extra: dict[str, float], fresh: dict, showers: int) -> dict:
    """The printed figures as one document: per backend and run length (1, 2) the run's counts,
    rate, stage shares of the chain's wall time (the archiver's with closing the archive) and peak
    memory; Ray / in-process wall time per length and for the extra showers (steady state); the
    fresh-install first blocks."""
    runs: dict[str, dict[str, dict]] = {}
    for (backend, factor), r in rows.items():
        seconds = r["stage_s"] | {"archiver": r["stage_s"].get("archiver", 0.0) + r["close_s"]}
        runs.setdefault(backend, {})[str(factor)] = {
            "showers": factor * showers, "array_events": r["array_events"], "chain_s": r["chain_s"],
            "array_events_per_s": r["array_events"] / r["chain_s"], "peak_mb": r["peak_pss_mb"],
            "driver_mb": r["driver_peak_mb"], "first_block_s": r["first_block_s"], "camera_actors": r["camera_actors"],
            "share_pct": {k: 100 * v / r["chain_s"] for k, v in sorted(seconds.items())}}
    ratios = {str(f): rows[("ray", f)]["chain_s"] / rows[("local", f)]["chain_s"] for f in (1, 2)}
    return {"runs": runs, "ray_over_in_process": ratios | {"steady": extra["ray"] / extra["local"]},
            "fresh_install": fresh}


if __name__ == "__main__":
    main()
