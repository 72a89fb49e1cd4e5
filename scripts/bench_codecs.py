"""Compression ratio and compress / decompress speed (MB/s per core) of every DL0 codec on simulated
LST and NectarCam data (North Alpha), in the layouts the on-site reducer stores.

    python scripts/bench_codecs.py [--showers 300] [--max-events 60] [--codecs zstd lz4 ...]
                                   [--repeat 3] [--threads 1] [--json]

For each camera: one block of gamma showers (0.05-50 TeV within 400 m, seed 1) through the simulator,
then the reducer's columns: raw waveforms (uint16 [n * n_pix, 2, n_s]), gain-selected waveforms
([n * n_pix, 1, n_s]), charges and peak times (float32 [n, n_pix]) and, lossy, the same coded as
integers (charges in steps of 0.5 x their Poisson noise, peak times in steps of 0.25 ns). Speeds
are uncompressed MB (1e6 bytes) per second of wall time, the best of ``--repeat`` calls, blosc2 on
``--threads`` threads; every round trip is checked to be bit-exact (``ctasim.dl0.codec_speed``).
``--json`` prints one JSON object (the settings and the rows) instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # per-core figures

import numpy as np

from ctasim.datamodel import codecs
from ctasim.dl0.codec_speed import measure_codecs
from ctasim.dl0.reduction import OnsiteReducer, ReductionConfig
from ctasim.instrument.config import load_subarray
from ctasim.sim.camera_sim import TelescopeSimulator
from ctasim.sim.source import Population, ShowerSource

CAMERAS = {"LSTCam": 1, "NectarCam": 5}   # North Alpha tel_ids
CODED = dict(charge_coding="poisson", charge_step_sigma=0.5, peak_time_step_ns=0.25)


def columns(subarray, events, cfg: ReductionConfig) -> dict[str, np.ndarray]:
    """The reducer's stored columns for ``cfg`` (uncompressed)."""
    block, _ = OnsiteReducer(subarray, cfg.model_copy(update={"codec": "none"})).reduce(events, "bench", 0)
    return {k: codecs.decode("none", b, block.dtypes[k], block.shapes[k]) for k, b in block.payload.items()}


def camera_arrays(n_showers: int, max_events: int) -> dict[str, dict[str, np.ndarray]]:
    """Camera name -> the arrays measured (label -> array)."""
    north = load_subarray("north_alpha")
    pop = Population("gamma", "gamma", n_showers=n_showers, energy_min_tev=0.05, energy_max_tev=50.0,
                     max_scatter_m=400.0)
    block = ShowerSource(pop, north, 70.0, 0.0, 1, n_showers).block(0)
    simulated = TelescopeSimulator(north, list(CAMERAS.values()), 70.0, 0.0, 1).simulate(block)
    out = {}
    for name, tel_id in CAMERAS.items():
        events = simulated[tel_id].take(np.arange(min(max_events, simulated[tel_id].n_events)))
        raw = columns(north, events, ReductionConfig.for_variant("raw"))
        gain = columns(north, events, ReductionConfig.for_variant("raw", gain_selection=True))
        integrated = columns(north, events, ReductionConfig.for_variant("integrated"))
        coded = columns(north, events, ReductionConfig.for_variant("integrated", **CODED))
        out[name] = {
            "raw waveforms": raw["waveform"],
            "gain-selected waveforms": gain["waveform"],
            "charges float32": integrated["charge"],
            "peak times float32": integrated["peak_time"],
            "charges poisson 0.5 (int16)": coded["charge"],
            "peak times 0.25 ns (int16)": coded["peak_time"],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--showers", type=int, default=300)
    ap.add_argument("--max-events", type=int, default=60, help="telescope events per camera at most")
    ap.add_argument("--codecs", nargs="+", default=list(codecs.CODECS), choices=codecs.CODECS, metavar="CODEC")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="blosc2 threads")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args(argv)

    rows = []
    for camera, arrays in camera_arrays(args.showers, args.max_events).items():
        n_events = len(next(a for k, a in arrays.items() if k.startswith("charges")))
        for row in measure_codecs(arrays, args.codecs, args.repeat, args.threads):
            rows.append({"camera": camera, "n_events": n_events, **row})
    if args.json:
        print(json.dumps({"showers": args.showers, "repeat": args.repeat, "threads": args.threads, "rows": rows},
                         indent=1))
        return 0
    print(f"{'camera':10s} {'data':28s} {'MB':>6s} {'codec':30s} {'ratio':>6s} {'comp MB/s':>10s} {'dec MB/s':>9s}")
    for r in rows:
        print(f"{r['camera']:10s} {r['data']:28s} {r['nbytes'] / 1e6:6.2f} {r['codec']:30s} {r['ratio']:6.2f} "
              f"{r['compress_mb_s']:10.0f} {r['decompress_mb_s']:9.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
