"""One command, one table: ctasim's throughput per stage against the targets of the scale issue.

    python scripts/bench.py [--quick] [--output FILE.md] [--json FILE]
    python scripts/bench.py --results FILE.json [--output FILE.md]   # re-assemble, measure nothing

This script measures nothing itself: it runs the benchmark scripts beside it as subprocesses, each
the one implementation of its measurement, and assembles their machine-readable output into one
markdown table (stdout, and ``--output``):

- ``bench_sim.py --json``: simulation, triggered telescope images/s and R1 MB/s per core, per layout;
- ``bench_onsite.py --json``: the on-site chain in-process and on Ray, for a run and one twice as long
  (array events/s, stage shares, Ray / in-process wall time, peak PSS of the process tree), and the
  first block of a fresh install (``--fresh-install``, full sizes);
- ``ctasim run --no-ray`` of bench_onsite.py's scenario (same showers and seed as its first
  in-process run) with DL1 and DL2: R1 bytes of its array events (the chain's MB/s), the archiver's
  the cores for a 10 kHz array trigger, DL2 events/s (model training included);
- ``bench_offline.py --json`` on that run: DL1 images/s and DL0 MB/s per core, in-process and on Ray;
- ``bench_irf.py``: DL2 events/s per core through cuts, IRFs and sensitivity, and the ratio to pyirf;
- ``bench_dl1.py --json``: ctasim vs ctapipe on the same images (R1 -> charge, image parameters, stereo).

Beside each figure its target (issue 11's table and acceptance) and met / not met. ``--quick``
uses small sizes (5.5 min on 2 cores shared with a load of 12-16, most of it bench_onsite.py's
five runs; to check the script works: its figures are dominated by start-up costs); the default
sizes are the issue's (``bench_onsite.py --showers 10000`` etc., ~20 min or more on 2 cores).
``--json FILE`` writes the sub-results and the rows; ``--results FILE`` reads such a file back and
prints its table again. Per-core figures: in-process runs use one core, Ray runs the CPUs of the
machine (``os.cpu_count()``). MB are 10^6 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ctasim.io.atomic import write_text_atomic

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
ONSITE_LAYOUT = "north_alpha"  # bench_onsite.py's default layout and its scenario's telescopes per actor
ONSITE_PER_ACTOR = "auto"

#: sizes of each sub-benchmark: the issue's (full) and a quick check of the script
SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "sim": ["--blocks", "10"],
        "showers": 10_000,
        "onsite": ["--fresh-install"],
        "offline": ["--passes", "2", "--no-keep-images"],  # parameters only: the processing, not gzip
        "irf": ["--n-events", "5000"],
        "dl1": [],
    },
    "quick": {
        "sim": ["--blocks", "2", "--block-size", "100"],
        "showers": 200,  # fewer leave DL2 without gammas and protons to train on
        "onsite": [],
        "offline": ["--passes", "2", "--no-keep-images"],  # parameters only: the processing, not gzip
        "irf": ["--n-events", "1000", "--repeats", "1"],
        "dl1": ["--n-images", "50", "--n-events", "20", "--n-stereo", "2000", "--n-stereo-ctapipe", "50",
                "--repeat", "3", "--repeat-reference", "1"],
    },
}


@dataclass(frozen=True)
class Target:
    """A required value: ``op`` one of ">=", "<", "within" (|value| <= ``value``)."""

    op: str
    value: float
    unit: str = ""

    def met(self, measured: float) -> bool:
        if self.op == ">=":
            return measured >= self.value
        if self.op == "<":
            return measured < self.value
        return abs(measured) <= self.value

    def __str__(self) -> str:
        op = "within ±" if self.op == "within" else f"{self.op} "
        return f"{op}{number(self.value)}{self.unit}"


# issue 11's targets
SIM_IMAGES_PER_CORE = {"north_alpha": Target(">=", 5000), "south_alpha": Target(">=", 3000)}
ONSITE_EVENTS_PER_CORE = Target(">=", 300)
ARCHIVER_SHARE = Target("<", 10, " %")
RAY_SPEEDUP = Target(">=", 1.8, "x")         # Ray on 2 CPUs vs in-process, steady state
MEMORY_GROWTH = Target("within", 10, " %")  # peak memory when the run length doubles
DL1_IMAGES_PER_CORE = Target(">=", 5000)
FRESH_FIRST_BLOCK_S = Target("<", 15, " s")


@dataclass(frozen=True)
class Row:
    """One line of the table: ``value`` in ``unit`` (None: not measured), its target and source."""

    stage: str
    quantity: str
    value: float | None
    unit: str
    target: Target | None
    source: str
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "not measured"
        if self.target is None:
            return ""
        return "met" if self.target.met(self.value) else "**not met**"


def number(x: float) -> str:
    """A figure with thousands separators above 100, three significant digits below."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


# ---------------------------------------------------------------- running the benchmark scripts


def run_script(args: list[str], what: str) -> str:
    """stdout of a subprocess in the repository (this tree's ctasim first on the path); stderr passes
    through; SystemExit naming ``what`` when it fails."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    print(f"[bench] {what} ...", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode:
        raise SystemExit(f"bench.py: {what} failed (exit {proc.returncode})")
    print(f"[bench] {what}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return proc.stdout


def last_json(text: str) -> Any:
    """The last JSON document of a script's stdout: it starts at a line beginning with '{' or '['."""
    starts = [m.start() for m in re.finditer(r"^[\[{]", text, re.MULTILINE)]
    if not starts:
        raise ValueError("no JSON document in the output")
    return json.loads(text[starts[-1]:])


def run_figures(run_dir: Path) -> dict[str, Any]:
    """What the table needs from a run's summary.json and files: array events, R1 read-out bytes,
    stage seconds, cores for 10 kHz, DL2 figures and the bytes of the DL1 files DL2 read."""
    s = json.loads((run_dir / "summary.json").read_text())
    dl1_files = [Path(f) for f in s["dl1"]["files"]]
    return {
        "array_events": s["accounting"]["stages"]["array_events"]["total"],
        "r1_read_out_bytes": s["rates"]["stages"]["r1_read_out"]["bytes"],
        "stage_seconds": s["timing"]["stage_seconds"],
        "cores_for_10khz": s["timing"].get("cores_for_10khz"),
        "dl2": {k: s["dl2"][k] for k in ("array_events", "wall_s", "stereo_s", "models_s", "events_per_s")},
        "dl1_bytes": sum(f.stat().st_size for f in dl1_files),
    }


def make_run(showers: int, work: Path) -> Path:
    """``ctasim run --no-ray`` of bench_onsite.py's scenario (its first in-process run: same showers,
    layout and seed) with DL1 and DL2: the input of bench_offline.py and the chain's bytes."""
    import yaml

    sys.path.insert(0, str(SCRIPTS))
    from bench_onsite import scenario

    run_dir = work / "run"
    cfg = scenario(showers, ONSITE_LAYOUT, "local", ONSITE_PER_ACTOR, str(run_dir))
    cfg["offline"] = {"dl1": True, "dl2": True}
    path = work / "bench_run.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    run_script(["-c", "import sys; from ctasim.cli import main; sys.exit(main(sys.argv[1:]))",
                "run", str(path), "--no-ray", "-q", "-o", str(run_dir)], f"ctasim run ({showers} showers, DL1 + DL2)")
    return run_dir


def collect(mode: str, work: Path) -> dict[str, Any]:
    """Every sub-result (the scripts' own output, parsed) of one mode's sizes."""
    size = SIZES[mode]
    script = lambda name: str(SCRIPTS / name)  # noqa: E731
    results: dict[str, Any] = {"mode": mode, "cpu_count": os.cpu_count()}
    results["sim"] = last_json(run_script([script("bench_sim.py"), "--json", *size["sim"]], "bench_sim.py"))
    results["onsite"] = last_json(run_script([script("bench_onsite.py"), "--json", "--showers", str(size["showers"]),
                                              *size["onsite"]], f"bench_onsite.py --showers {size['showers']}"))
    run_dir = make_run(size["showers"], work)
    results["run"] = run_figures(run_dir)
    results["offline"] = last_json(run_script([script("bench_offline.py"), str(run_dir), "--json",
                                               "--cpus", str(os.cpu_count()), *size["offline"]], "bench_offline.py"))
    results["irf"] = last_json(run_script([script("bench_irf.py"), *size["irf"]], "bench_irf.py"))
    results["ctapipe"] = last_json(run_script([script("bench_dl1.py"), "--json", *size["dl1"]], "bench_dl1.py"))
    results["load_average"] = list(os.getloadavg())
    return results


# ---------------------------------------------------------------- assembling the table


def sim_rows(sim: list[dict]) -> list[Row]:
    rows = []
    for r in sim:
        note = f"{r['particle']}, {r['showers']} showers, {r['n_telescopes']} telescopes"
        rows += [Row("simulation", f"{r['layout']}: triggered telescope images/s per core", r["images_per_cpu_s"],
                     "", SIM_IMAGES_PER_CORE.get(r["layout"]), "bench_sim.py", note),
                 Row("simulation", f"{r['layout']}: R1 MB/s per core (full waveforms)", r["r1_mb_per_cpu_s"], "",
                     None, "bench_sim.py")]
    return rows


def onsite_rows(onsite: dict, run: dict, cpus: int) -> list[Row]:
    local, ray = onsite["runs"]["local"], onsite["runs"]["ray"]
    n = local["1"]["showers"]
    src = f"bench_onsite.py --showers {n}"
    same = run["array_events"] == local["1"]["array_events"]
    bytes_note = ("R1 read out, bytes of the same events from `ctasim run`" if same else
                  f"R1 read out; `ctasim run` had {run['array_events']} array events, bench_onsite "
                  f"{local['1']['array_events']}: bytes scaled per event")
    r1_bytes = run["r1_read_out_bytes"] / run["array_events"] * local["1"]["array_events"] if run["array_events"] else 0
    ratio = onsite["ray_over_in_process"]
    share = local["1"]["share_pct"]
    rows = [
        Row("on-site chain", "array events/s per core, in-process", local["1"]["array_events_per_s"], "",
            ONSITE_EVENTS_PER_CORE, src, f"{local['1']['array_events']} array events, {n} showers"),
        Row("on-site chain", f"array events/s per core, Ray ({cpus} CPUs)", ray["1"]["array_events_per_s"] / cpus,
            "", None, src),
        Row("on-site chain", "R1 MB/s per core, in-process", r1_bytes / 1e6 / local["1"]["chain_s"], "", None,
            src, bytes_note),
        Row("on-site chain", f"R1 MB/s per core, Ray ({cpus} CPUs)", r1_bytes / 1e6 / ray["1"]["chain_s"] / cpus, "",
            None, src),
        Row("on-site chain", f"speed-up 1 -> {cpus} CPUs (in-process / Ray wall time), {n} showers", 1 / ratio["1"],
            "x", None, src),
        Row("on-site chain", f"speed-up 1 -> {cpus} CPUs, {2 * n} showers", 1 / ratio["2"], "x", None, src),
        Row("on-site chain", f"speed-up 1 -> {cpus} CPUs, the extra {n} showers (steady state)", 1 / ratio["steady"],
            "x", RAY_SPEEDUP, src),
        Row("on-site chain", "archiver share of the chain's wall time, in-process (closing the archive included)",
            share.get("archiver"), " %", ARCHIVER_SHARE, src,
            ", ".join(f"{k} {v:.0f} %" for k, v in sorted(share.items(), key=lambda kv: -kv[1]))),
    ]
    for backend, label in (("local", "in-process"), ("ray", "Ray")):
        one, two = onsite["runs"][backend]["1"]["peak_mb"], onsite["runs"][backend]["2"]["peak_mb"]
        rows.append(Row("on-site chain", f"peak memory growth, run twice as long, {label}",
                        100 * (two / one - 1), " %", MEMORY_GROWTH, src,
                        f"peak PSS {one:,.0f} -> {two:,.0f} MB ({n} -> {2 * n} showers)"))
    cores = run.get("cores_for_10khz")
    if cores and cores.get("total") is not None:
        top = sorted(cores["stages"].items(), key=lambda kv: -kv[1])
        rows.append(Row("on-site chain", "cores for a 10 kHz array trigger in real time, in-process", cores["total"],
                        "", None, "ctasim run", ", ".join(f"{k} {c:,.0f}" for k, c in top)))
        if cores.get("onsite_total") is not None:
            rows.append(Row("on-site chain", "of which the on-site software (without the simulated source and "
                            "cameras)", cores["onsite_total"], "", None, "ctasim run"))
    for backend, label in (("local", "in-process"), ("ray", "Ray")):
        first = onsite.get("fresh_install", {}).get(backend)
        rows.append(Row("fresh install", f"first block, empty numba cache, {label}",
                        first["first_block_s"] if first else None, " s", FRESH_FIRST_BLOCK_S,
                        "bench_onsite.py --fresh-install" if first else "",
                        f"{first['camera_actors']} camera actor(s)" if first else "full sizes only"))
    return rows


def dl1_rows(offline: dict, cpus: int) -> list[Row]:
    passes = {p["executor"]: p for p in offline["passes"]}
    local, ray = passes.get("in-process"), passes.get("ray")
    src = "bench_offline.py"
    note = f"{offline['telescope_events']} images, {offline['units']} units, warm pass, parameters only"
    rows = [Row("DL1", "images/s per core, in-process (archive -> DL1 file)",
                local["images_per_s_per_core"] if local else None, "", DL1_IMAGES_PER_CORE, src, note),
            Row("DL1", "DL0 MB/s per core, in-process", local["mb_per_s_per_core"] if local else None, "", None, src)]
    if ray:
        rows += [Row("DL1", f"images/s per core, Ray ({ray['cpus']} CPUs)", ray["images_per_s_per_core"], "", None,
                     src),
                 Row("DL1", f"DL0 MB/s per core, Ray ({ray['cpus']} CPUs)", ray["mb_per_s_per_core"], "", None, src),
                 Row("DL1", f"speed-up 1 -> {ray['cpus']} CPUs (Ray / in-process images/s)",
                     offline["ratio_ray_over_in_process"], "x", RAY_SPEEDUP, src,
                     f"identical tables: {offline['identical_tables']}")]
    else:
        rows.append(Row("DL1", f"speed-up 1 -> {cpus} CPUs", None, "x", RAY_SPEEDUP, src, "run without Ray"))
    return rows


def dl2_rows(run: dict) -> list[Row]:
    d = run["dl2"]
    note = (f"{d['array_events']} array events; {d['wall_s']:.1f} s of which stereo {d['stereo_s']:.1f} s, "
            f"model training {d['models_s']:.1f} s")
    return [Row("DL2", "array events/s per core, in-process (DL1 -> DL2 file, training included)",
                d["events_per_s"], "", None, "ctasim run", note),
            Row("DL2", "DL1 MB/s per core, in-process", run["dl1_bytes"] / 1e6 / d["wall_s"] if d["wall_s"] else None,
                "", None, "ctasim run"),
            Row("DL2", "on Ray", None, "", None, "", "its three model trainings run at once as Ray tasks, the rest in "
                "the driver; not measured apart")]


def irf_rows(irf: dict) -> list[Row]:
    return [Row("IRF", "DL2 events/s per core (cuts, IRFs, sensitivity)", irf["dl2_events"] / irf["ctasim_s"], "",
                None, "bench_irf.py", f"{irf['dl2_events']} DL2 events in {irf['ctasim_s']:.2f} s"),
            Row("IRF", "ctasim vs pyirf on the same DL2 events", irf["speedup_pyirf_over_ctasim"], "x", None,
                "bench_irf.py", f"pyirf {irf['pyirf_s']:.2f} s")]


def ctapipe_rows(rows: list[dict]) -> list[Row]:
    return [Row("ctasim vs ctapipe", f"{r['section']}: {r['step']}", r["ratio"], "x",
                Target(">=", r["target"], "x") if r["target"] else None, "bench_dl1.py",
                f"{number(r['ctasim_us'])} vs {number(r['reference_us'])} µs") for r in rows]


def assemble(results: dict[str, Any]) -> list[Row]:
    """The table's rows from the sub-results of ``collect`` (pure: no measurement, no file)."""
    cpus = results["cpu_count"]
    return [
        *sim_rows(results["sim"]),
        *onsite_rows(results["onsite"], results["run"], cpus),
        *dl1_rows(results["offline"], cpus),
        *dl2_rows(results["run"]),
        *irf_rows(results["irf"]),
        *ctapipe_rows(results["ctapipe"]),
    ]


def to_markdown(rows: list[Row], results: dict[str, Any]) -> str:
    """The table, under one line naming the mode, the machine's CPUs and its load."""
    load = ", ".join(f"{x:.1f}" for x in results.get("load_average", []))
    lines = [f"ctasim benchmark ({results['mode']} sizes; {results['cpu_count']} CPUs; load average at the end "
             f"{load or 'unknown'})", "",
             "| stage | quantity | measured | target | status | from | note |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        measured = "—" if r.value is None else f"{number(r.value)}{r.unit}"
        lines.append(f"| {r.stage} | {r.quantity} | {measured} | {r.target or '—'} | {r.status} | {r.source} "
                     f"| {r.note} |")
    return "\n".join(lines) + "\n"


def to_json(rows: list[Row], results: dict[str, Any]) -> str:
    """The sub-results and the rows (with their status) as one JSON document."""
    return json.dumps({"results": results, "rows": [asdict(r) | {"status": r.status} for r in rows]}, indent=2,
                      default=str)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a few minutes): checks the script works")
    ap.add_argument("--output", type=Path, help="also write the markdown table here")
    ap.add_argument("--json", type=Path, help="also write the sub-results and rows here (JSON)")
    ap.add_argument("--results", type=Path, help="assemble the table from an earlier --json file, measure nothing")
    args = ap.parse_args(argv)
    if args.results:
        results = json.loads(args.results.read_text())["results"]
    else:
        with tempfile.TemporaryDirectory(prefix="ctasim_bench_") as work:
            results = collect("quick" if args.quick else "full", Path(work))
    rows = assemble(results)
    table = to_markdown(rows, results)
    print(table, end="")
    if args.output:
        write_text_atomic(args.output, table)
    if args.json:
        write_text_atomic(args.json, to_json(rows, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
