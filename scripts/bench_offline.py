"""End-to-end offline DL1 speed: ``process_dl1`` in-process vs on Ray, on the archives of a run.

Make the input once (about 3 minutes on 2 cores), then time it::

    ctasim run scenarios/quickstart.yaml --no-ray -o /work/runs/qs_bench
    python scripts/bench_offline.py /work/runs/qs_bench [--cpus 2] [--unit-events 2000]
        [--keep-images | --no-keep-images] [--profile] [--skip-ray] [--passes 2] [--json]

Each pass reads ``RUN/dl0`` and writes its DL1 files into a fresh temporary directory (the run is
not touched), I/O, checksums and file publication included. Prints telescope images per wall
second for the in-process executor (one core) and for Ray tasks on an embedded Ray of ``--cpus``
CPUs, per core and the ratio Ray / in-process of the last passes (the first pass of each pays
one-time costs: Ray starts its workers, a process loads its numba caches and imports astropy), and
checks that both wrote the same tables (``/ctasim/table_checksums`` of every file). ``--profile``
runs the last in-process pass under cProfile and prints the time of each part (HDF5 reads, decode +
checksum, calibration, cleaning, parameters, writing). Target: >= 5,000 images/s per core.
``--json`` prints the same figures as one JSON object (``results``' keys) instead of the table.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # per-core figures
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # actors/ beside ctasim/

import h5py
import numpy as np

from ctasim.offline.dl1 import process_dl1
from ctasim.offline.dl1_units import UNIT_EVENTS

#: (part, functions whose cumulative time it is) for --profile: module path fragment, function name
PARTS = (
    ("HDF5 reads of DL0 blocks", "ctasim/io/archive.py", "_read"),
    ("block decode (codecs)", "ctasim/datamodel/codecs.py", "decode"),
    ("block checksum", "ctasim/datamodel/dl0.py", "checksum"),
    ("calibration (calibrate_dl0)", "ctasim/dl0/reduction.py", "calibrate_dl0"),
    ("cleaning (clean_images)", "ctasim/image/cleaning.py", "clean_images"),
    ("parameters (image_parameters)", "ctasim/image/parameters.py", "image_parameters"),
    ("table writes (append_table)", "ctasim/io/tables.py", "append_table"),
    ("table checksums (seal_tables)", "ctasim/io/checksums.py", "seal_tables"),
    ("side tables (copy_tables)", "ctasim/offline/files.py", "copy_tables"),
    ("pixel status (run_pixel_status)", "ctasim/offline/dl1.py", "run_pixel_status"),
    ("ctapipe index (write_dl1_index)", "ctasim/io/ctapipe_tables.py", "write_dl1_index"),
    ("buffered table rows (flush)", "ctasim/io/table_buffer.py", "flush"),
    ("publication (fsync, rename)", "ctasim/io/atomic.py", "publish"),
)


def one_pass(run: Path, executor, keep_images: bool | None, unit_events: int) -> tuple[dict, dict[str, bytes]]:
    """One timed ``process_dl1`` into a temporary directory: (stats, table checksums per file name)."""
    with tempfile.TemporaryDirectory(prefix="bench_offline_", dir=run.parent) as out:
        _, stats = process_dl1(out, keep_images=keep_images, dl0_run=run, executor=executor, unit_events=unit_events)
        digests = {}
        for path in stats["files"]:
            with h5py.File(path, "r") as h5:
                digests[Path(path).name] = h5["/ctasim/table_checksums"][()].tobytes()
    return stats, digests


def print_profile(profile: cProfile.Profile, wall: float) -> None:
    """Cumulative seconds of each part of ``PARTS`` and the top functions by own time."""
    stats = pstats.Stats(profile)
    print(f"\nprofile of the in-process pass ({wall:.1f} s wall):")
    for part, module, name in PARTS:
        cum = sum(v[3] for (file, _, func), v in stats.stats.items() if func == name and file.endswith(module))
        print(f"  {part:34s} {cum:7.2f} s  {100 * cum / wall:5.1f} %")
    stats.sort_stats("tottime").print_stats(12)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run directory with dl0/ (e.g. made by `ctasim run ... --no-ray`)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the embedded Ray")
    parser.add_argument("--unit-events", type=int, default=UNIT_EVENTS, help="telescope events per work unit")
    parser.add_argument("--keep-images", action=argparse.BooleanOptionalAction, default=None,
                        help="store images (default: as process_dl1, kept below KEEP_IMAGES_BELOW)")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process pass")
    parser.add_argument("--skip-ray", action="store_true", help="in-process only")
    parser.add_argument("--passes", type=int, default=2,
                        help="passes per executor in one process / Ray session (the first: cold)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)

    from ctasim.offline.executor import InProcessExecutor

    rows, same = [], None
    for n in range(args.passes):  # the first pays the process's one-time costs (numba cache loads, astropy import)
        profile = cProfile.Profile() if args.profile and n == args.passes - 1 else None
        t0 = time.perf_counter()
        if profile:
            profile.enable()
        local, local_digests = one_pass(args.run, InProcessExecutor(), args.keep_images, args.unit_events)
        if profile:
            profile.disable()
            print_profile(profile, time.perf_counter() - t0)
        rows.append(("in-process" if n else "in-process cold", 1, local))
    if not args.skip_ray:
        from actors.backend import RayBackend
        from actors.offline_executor import RayExecutor

        backend = RayBackend(num_cpus=args.cpus)
        try:
            executor = RayExecutor(backend)
            for n in range(args.passes):  # the first starts the workers (imports, numba cache loads)
                remote, remote_digests = one_pass(args.run, executor, args.keep_images, args.unit_events)
                rows.append(("ray" if n else "ray cold", args.cpus, remote))
        finally:
            backend.shutdown()
        same = remote_digests == local_digests
    dl0_bytes = sum(f.stat().st_size for f in (args.run / "dl0").glob("*.h5"))
    result = results(rows, args.passes, same, dl0_bytes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_results(result, args.unit_events)


def results(rows: list[tuple[str, int, dict]], passes: int, identical: bool | None, dl0_bytes: int) -> dict:
    """The figures of the passes: images, units, DL0 archive bytes read per pass, and per pass
    (``executor``, ``cpus``, ``wall_s``, ``images_per_s``, ``images_per_s_per_core``, ``mb_per_s_per_core``
    of DL0 read, ``image_processing_s``), the ratio Ray / in-process of the last passes (None with
    ``--skip-ray``), whether both wrote the same tables (None with ``--skip-ray``), the load average."""
    first = rows[0][2]
    passes_out = [{"executor": name, "cpus": cpus, "wall_s": st["wall_s"], "images_per_s": st["images_per_s"],
                   "images_per_s_per_core": st["images_per_s"] / cpus,
                   "mb_per_s_per_core": dl0_bytes / 1e6 / st["wall_s"] / cpus,
                   "image_processing_s": st["image_processing_s"]}
                  for name, cpus, st in rows]
    ratio = None
    if len(rows) > passes:
        ratio = rows[-1][2]["images_per_s"] / rows[passes - 1][2]["images_per_s"]
    return {"telescope_events": first["telescope_events"], "units": first["units"], "dl0_bytes": dl0_bytes,
            "images_stored": first["images_stored"], "passes": passes_out, "ratio_ray_over_in_process": ratio,
            "identical_tables": identical, "load_average": np.round(os.getloadavg(), 1).tolist(),
            "cpu_count": os.cpu_count()}


def print_results(r: dict, unit_events: int) -> None:
    """``results`` as a table."""
    print(f"\n{r['telescope_events']} telescope images, {r['units']} units of ~{unit_events} events, "
          f"images stored: {r['images_stored']}")
    print(f"{'executor':15s} {'cpus':>4s} {'wall s':>8s} {'images/s':>9s} {'per core':>9s} {'MB/s/core':>9s} "
          f"{'image proc. s':>13s}")
    for p in r["passes"]:
        print(f"{p['executor']:15s} {p['cpus']:4d} {p['wall_s']:8.2f} {p['images_per_s']:9.0f} "
              f"{p['images_per_s_per_core']:9.0f} {p['mb_per_s_per_core']:9.1f} {p['image_processing_s']:13.2f}")
    if r["ratio_ray_over_in_process"] is not None:
        print(f"ratio ray / in-process: {r['ratio_ray_over_in_process']:.2f}x (last passes); "
              f"identical tables: {r['identical_tables']}")
    print(f"load average during the run: {r['load_average']} on {r['cpu_count']} cores")


if __name__ == "__main__":
    main()
