"""The ``ctasim`` command: run scenarios, validate them, compute data-rate budgets, draw events.

User errors (bad scenario, missing or damaged files) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
from pathlib import Path

import psutil

from .errors import CtasimError
from .rates import DEFAULT_ARRAY_TRIGGER_RATE_HZ

#: errno of a read-only, forbidden or full output place
UNWRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT}


def _cmd_run(args: argparse.Namespace) -> int:
    from actors.backend import check_reachable
    from actors.orchestrator import run_scenario

    from .io.run_dir import prepare_run_dir
    from .scenario import load_scenario

    if args.resume:
        scenario = _resumed_scenario(args)
        run_dir = args.resume
    elif args.scenario is None:
        raise CtasimError("run: give a SCENARIO to run, or --resume RUN_DIR to continue an interrupted run")
    else:
        overrides = {"seed": args.seed} if args.seed is not None else None
        scenario = load_scenario(args.scenario, overrides)
        run_dir = args.output
    # a cluster's memory is not this machine's: there only the block count is checked
    _check_memory(scenario, None if args.address else psutil.virtual_memory().available, ray=not args.no_ray)
    if args.address:
        check_reachable(args.address)
    if not args.resume:
        prepare_run_dir(scenario.run_dir(run_dir), overwrite=args.overwrite)
    backend = "local" if args.no_ray else "ray"
    result = run_scenario(scenario, run_dir=run_dir, backend=backend, address=args.address,
                          progress=not args.quiet, resume=bool(args.resume))
    print(f"run directory: {result.run_dir}")
    print(f"report:        {result.run_dir / 'report.md'}")
    restarts = result.summary.get("restarts") or {}
    if restarts.get("count") or restarts.get("resumed_blocks"):
        which = ", ".join(f"{e['role']} actor {e['actor']} at block {e['block']}" for e in restarts["events"])
        resumed = f"; resumed after {restarts['resumed_blocks']} archived blocks" if restarts["resumed_blocks"] else ""
        print(f"restarts:      {restarts['count']}{f' ({which})' if which else ''}{resumed}")
    alerts = result.summary.get("alerts")
    if alerts is not None:
        raised = ", ".join(f"{a['significance']:.1f} sigma at {a['sim_time_s']:.1f} s" for a in alerts["alerts"])
        where = f" ({raised}) in {result.run_dir / 'alerts'}" if raised else ""
        print(f"alerts:        {alerts['n_alerts']}{where}")
    return 0


def _resumed_scenario(args: argparse.Namespace):
    """The scenario an interrupted run in ``args.resume`` started with (its archive journal)."""
    from .onsite.archive_journal import SCENARIO_FILE, ArchiveJournal
    from .scenario import validate_scenario

    given = [name for name, value in (("SCENARIO", args.scenario), ("--output", args.output),
                                      ("--seed", args.seed), ("--overwrite", args.overwrite or None))
             if value is not None]
    if given:
        raise CtasimError(f"run --resume {args.resume}: continues the run stored there; {', '.join(given)} "
                          "cannot be given with it")
    if not Path(args.resume).is_dir():
        raise CtasimError(f"{args.resume}: no such run directory to resume")
    journal = ArchiveJournal(args.resume)
    return validate_scenario(journal.read_scenario(), str(journal.dir / SCENARIO_FILE))


def _check_memory(scenario, available_bytes: float | None, ray: bool = True) -> list:
    """The run's block memory estimates (``ctasim.sim.memory``) on Ray or in one process; one-line
    error if too large."""
    from .instrument.config import load_subarray
    from .sim.memory import check_run_memory

    sub = load_subarray(scenario.array.layout)
    # auto: one camera actor per CPU of this machine (a cluster's are not known before Ray starts)
    processes = len(scenario.execution.camera_groups(sub.tel_ids, os.cpu_count() or 1)) if ray else 0
    return check_run_memory(scenario.populations(), scenario.simulation.block_size,
                            scenario.execution.max_blocks_in_flight, sub.site.obs_level_m, available_bytes,
                            processes)


def _cmd_verify(args: argparse.Namespace) -> int:
    from .io.verify import verify_run

    result = verify_run(args.run_dir)
    for problem in result.problems:
        print(problem)
    if result.problems:
        return 2
    print(result.summary_line())
    return 0


def _cmd_process(args: argparse.Namespace) -> int:
    from actors.backend import check_reachable, make_backend
    from actors.offline_executor import offline_executor

    from .io.atomic import ensure_writable
    from .io.run_dir import load_run
    from .io.verify import require_intact

    run_dir = args.run_dir
    # the levels this pass writes anew may be missing or stale; nothing may be damaged
    require_intact(run_dir, ("dl1",) + (("dl2",) if args.dl2 else ()) + (("models",) if args.dl2 and not args.models
                                                                           else ()))
    from .offline import merge_sections, run_offline
    from .report.run_report import write_run_report
    from .scenario import OfflineConfig

    summary, provenance = load_run(run_dir)
    cleaning = ((provenance.get("scenario") or summary["scenario"]).get("offline") or {}).get("cleaning", {})
    config = OfflineConfig(dl1=True, dl2=args.dl2, models=args.models, keep_images=args.keep_images, cleaning=cleaning)
    ensure_writable(Path(run_dir) / "dl1")  # before starting Ray for nothing
    if args.address:
        check_reachable(args.address)
    backend = make_backend("local" if args.no_ray else "ray", args.address)  # DL1's work units run on it
    try:
        merge_sections(summary, run_offline(run_dir, config, executor=offline_executor(backend)))
    finally:
        backend.shutdown()
    write_run_report(run_dir, summary, provenance.get("scenario", summary["scenario"]))
    print(f"updated {run_dir / 'summary.json'} and {run_dir / 'report.md'}")
    return 0


def _cmd_irf(args: argparse.Namespace) -> int:
    from .io.run_dir import load_run
    from .io.verify import require_intact

    run_dir = args.run_dir
    require_intact(run_dir)
    from .offline import run_offline
    from .report.run_report import write_run_report
    from .scenario import OfflineConfig, irf_config

    summary, provenance = load_run(run_dir)
    scenario = provenance.get("scenario", summary["scenario"])
    overrides = {"enabled": True, "livetime_h": args.livetime_h, "n_observations": args.observations,
                 "min_multiplicity": args.min_multiplicity}
    section = (scenario.get("irf") or {}) | {k: v for k, v in overrides.items() if v is not None}
    config = irf_config(section, f"{run_dir / 'provenance.json'} with the command-line options")
    summary.update(run_offline(run_dir, OfflineConfig(), config))
    write_run_report(run_dir, summary, scenario)
    print(f"IRF pass {summary['irf']['pass_number']}: updated {run_dir / 'summary.json'} and {run_dir / 'report.md'}")
    return 0


def _cmd_science(args: argparse.Namespace) -> int:
    from .io.run_dir import load_run
    from .io.verify import require_intact

    run_dir = args.run_dir
    require_intact(run_dir)
    from .offline.science import science_from_dl3, write_science_pass
    from .report.run_report import write_run_report

    summary, provenance = load_run(run_dir)
    summary["science"] = write_science_pass(run_dir, science_from_dl3(run_dir, args.irf_pass))
    write_run_report(run_dir, summary, provenance.get("scenario", summary["scenario"]))
    fit = summary["science"]["fit"]
    print(f"science pass {summary['science']['pass_number']} (IRF pass {summary['science']['irf_pass']}): "
          f"index {fit['index']:.3f} +- {fit['index_error']:.3f}; {summary['science']['file']}")
    return 0


def _cmd_reprocess(args: argparse.Namespace) -> int:
    from .instrument.config import read_yaml
    from .offline.reprocess import reprocess

    changes = read_yaml(args.config) if args.config is not None else None
    if args.label is not None and isinstance(changes, dict | None):
        changes = (changes or {}) | {"label": args.label}
    folder, summary = reprocess(args.run_dir, changes, str(args.config or "--label"))
    print(f"pass {summary['pass']['number']}: {folder} (report: {folder / 'report.md'})")
    return 0


def _cmd_dvr(args: argparse.Namespace) -> int:
    from .instrument.config import read_yaml
    from .io.run_dir import load_run
    from .io.verify import require_intact
    from .offline.dvr import run_study
    from .paths import CONFIG_DIR
    from .report.run_report import write_run_report
    from .scenario import dvr_variants, irf_config

    source = args.variants or CONFIG_DIR / "dvr_variants.yaml"
    variants = dvr_variants(read_yaml(source), str(source))   # before touching the run
    run_dir = args.run_dir
    require_intact(run_dir)
    summary, provenance = load_run(run_dir)
    scenario = provenance.get("scenario", summary["scenario"])
    section = scenario.get("irf") or {}
    irf = irf_config(section | {"spectral_fit": False}, f"{run_dir / 'provenance.json'}") if section.get(
        "enabled") else None
    summary["dvr"] = run_study(run_dir, variants, irf)
    write_run_report(run_dir, summary, scenario)
    print(f"{'variant':32s} {'bytes/array event':>18s} {'factor from R1':>15s}")
    for name, entry in summary["dvr"]["variants"].items():
        print(f"{name:32s} {entry['bytes_per_array_event']:18.0f} {entry['reduction_factor_from_r1']:15.1f}")
    print(f"updated {run_dir / 'summary.json'} (dvr) and {run_dir / 'report.md'}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    blocks = _check_memory(scenario, None)   # reads the layout's contents too, not only that it exists
    worst = max(blocks, key=lambda b: b.bytes_per_block)
    print(f"{args.scenario}: valid scenario {scenario.name!r} (hash {scenario.hash()[:12]}); largest block "
          f"~{worst.bytes_per_block / 1e9:.2g} GB ({worst.population!r}, x {scenario.execution.max_blocks_in_flight} "
          "in flight)")
    return 0


def _cmd_rates(args: argparse.Namespace) -> int:
    from .instrument.config import load_subarray
    from .rates import BudgetAssumptions, budget, format_budget
    from .scenario import load_scenario

    layout = args.target
    if Path(args.target).suffix in (".yaml", ".yml") and "layouts" not in Path(args.target).parts:
        layout = load_scenario(args.target).array.layout
    assumptions = BudgetAssumptions(array_trigger_rate_hz=args.array_rate)
    print(format_budget(budget(load_subarray(layout), assumptions)))
    return 0


def _cmd_display(args: argparse.Namespace) -> int:
    from .display import display_event

    path = display_event(args.run_dir, args.event_id, args.tel_id, args.output, waveform=args.waveform)
    print(f"wrote {path}")
    return 0


def _cmd_layouts(args: argparse.Namespace) -> int:
    from .instrument.config import available_layouts, load_subarray

    for name in available_layouts():
        sub = load_subarray(name)
        classes = sub.size_classes()
        counts = ", ".join(f"{c} {int((classes == c).sum())}" for c in ("LST", "MST", "SST") if (classes == c).any())
        print(f"{name:14s} {sub.n_tels:4d} telescopes ({counts})  {sub.site.name}")
    return 0


def _positive(what: str, unit: str):
    """An argparse type: a finite number > 0 (``what`` in ``unit``), else a one-line usage error (exit 2)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r}: expected a finite {what} above 0 {unit}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ctasim", description="CTA data-path testbed")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a scenario end to end and write its report")
    r.add_argument("scenario", nargs="?", help="scenario YAML file, or the name of a shipped one (quickstart)")
    r.add_argument("--output", "-o", type=Path, help="run directory (overrides the scenario's output_dir)")
    r.add_argument("--address", help="Ray cluster address (default: start an embedded local Ray)")
    r.add_argument("--no-ray", action="store_true", help="run every actor in this process, without Ray")
    r.add_argument("--seed", type=int, help="override the scenario seed")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    r.add_argument("--overwrite", action="store_true",
                   help="replace an earlier run in the run directory (default: refuse a non-empty one)")
    r.add_argument("--resume", type=Path, metavar="RUN_DIR",
                   help="continue an interrupted run in RUN_DIR (its scenario, its archived blocks kept)")
    r.set_defaults(func=_cmd_run)

    o = sub.add_parser("process", help="offline stages over an existing run: DL0 -> DL1 (-> DL2)")
    o.add_argument("run_dir", type=Path)
    o.add_argument("--dl2", action="store_true", help="also reconstruct DL2 (stereo, energy, gammaness)")
    o.add_argument("--models", help="directory of trained models (default: train on half of this run)")
    o.add_argument("--keep-images", action=argparse.BooleanOptionalAction, default=None,
                   help="store DL1 images (default: only for small runs)")
    o.add_argument("--address", help="Ray cluster address for the DL1 work units (default: an embedded local Ray)")
    o.add_argument("--no-ray", action="store_true", help="run the DL1 work units in this process, without Ray")
    o.set_defaults(func=_cmd_process)

    i = sub.add_parser("irf", help="IRFs, sensitivity and DL3 of an existing run's DL2 (a new pass)")
    i.add_argument("run_dir", type=Path)
    i.add_argument("--livetime-h", type=_positive("livetime", "h"),
                   help="DL3 livetime (h; default: the scenario's irf section)")
    i.add_argument("--observations", type=int, help="number of DL3 observations (default: the scenario's)")
    i.add_argument("--min-multiplicity", type=int,
                   help="telescopes an event needs to enter the IRFs (default: the scenario's irf section)")
    i.set_defaults(func=_cmd_irf)

    sc = sub.add_parser("science", help="DL4 on/off spectral fit and sky map from an existing run's DL3 files")
    sc.add_argument("run_dir", type=Path)
    sc.add_argument("--irf-pass", type=int, help="IRF / DL3 pass to analyse (default: the latest)")
    sc.set_defaults(func=_cmd_science)

    rp = sub.add_parser("reprocess", help="re-run the offline stages from a run's DL0 with a new configuration, "
                        "into a new pass beside the old ones (RUN_DIR/passes/pass<K>)")
    rp.add_argument("run_dir", type=Path)
    rp.add_argument("--config", "-c", type=Path,
                    help="YAML of the changes: label, description, offline: {...}, irf: {...} (keys of the "
                         "scenario's sections; default: none, the run's configuration again)")
    rp.add_argument("--label", help="name of the pass in the report (overrides the file's label)")
    rp.set_defaults(func=_cmd_reprocess)

    dv = sub.add_parser("dvr", help="the data-volume reduction study of a run whose archive is full R1 "
                        "(reduction.variant raw): every variant derived, reconstructed with the run's models")
    dv.add_argument("run_dir", type=Path)
    dv.add_argument("variants", type=Path, nargs="?",
                    help="YAML list of variants (name, base, settings; default: configs/dvr_variants.yaml)")
    dv.set_defaults(func=_cmd_dvr)

    ve = sub.add_parser("verify", help="check every file, table, block checksum, the accounting and provenance "
                                       "of a run directory")
    ve.add_argument("run_dir", type=Path)
    ve.set_defaults(func=_cmd_verify)

    v = sub.add_parser("validate", help="check a scenario file without running it")
    v.add_argument("scenario", help="scenario YAML file, or the name of a shipped one")
    v.set_defaults(func=_cmd_validate)

    b = sub.add_parser("rates", help="analytic data-rate budget of a layout or scenario, no simulation")
    b.add_argument("target", help="layout name, layout YAML or scenario YAML")
    b.add_argument("--array-rate", type=_positive("rate", "Hz"), default=DEFAULT_ARRAY_TRIGGER_RATE_HZ,
                   help=f"array trigger rate in Hz (default {DEFAULT_ARRAY_TRIGGER_RATE_HZ:g})")
    b.set_defaults(func=_cmd_rates)

    d = sub.add_parser("display", help="draw one camera image (or waveform) of a run as a PNG")
    d.add_argument("run_dir", type=Path)
    d.add_argument("--event-id", type=int, help="event id (default: brightest image)")
    d.add_argument("--tel-id", type=int, help="telescope id (default: brightest image)")
    d.add_argument("--waveform", action="store_true", help="draw waveforms of the brightest pixels")
    d.add_argument("--output", "-o", type=Path, help="PNG path")
    d.set_defaults(func=_cmd_display)

    lay = sub.add_parser("layouts", help="list the array layouts")
    lay.set_defaults(func=_cmd_layouts)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CtasimError as err:
        print(f"ctasim: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ctasim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `ctasim layouts | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # an output place that cannot be written: the user's to fix, not a bug
        if err.errno not in UNWRITABLE:
            raise
        print(f"ctasim: error: {err.filename or 'output'}: cannot write ({os.strerror(err.errno)}); "
              "nothing of this step was published", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
