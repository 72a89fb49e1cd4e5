"""summary.json ``data_quality.telescopes``: the telescope health flags of a run
(``ctasim.onsite.telescope_health``), the telescope faults injected (scenario
``faults.instrument.telescopes``), whether each was flagged, and their measured effect against a
run of the same scenario and seed without them.

The effect compares, faulty vs fault-free: each faulty telescope's camera trigger rate (Hz) and
read-out events; the array trigger rate (Hz), the DL0 archive rate (bytes per simulated second)
and the reconstruction quality of the valid test gammas over all energies (68 % containment
radius R68 in deg, energy resolution dE/E and bias, as ``ctasim.reco.metrics`` defines them).
With several faults at once the run-wide figures are their combined effect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..accounting import STAGE_DL0_ARCHIVED
from ..datamodel import paths
from ..datamodel.ids import PRIMARY_IDS
from ..errors import CtasimError, DataFileError
from ..io.tables import read_table
from ..offline.files import data_files
from ..reco.metrics import angular_resolution, energy_bias_resolution
from ..scenario import Scenario, TelescopeFaults

#: the flag each injected fault should raise
EXPECTED_FLAG = {"no_data": "silent", "garbage": "garbage", "clock_offset": "clock_offset",
                 "runaway_trigger": "rate_anomaly"}
MIN_GAMMAS = 10  # valid test gammas below which the reconstruction figures are None
ALL_ENERGIES_TEV = (1e-4, 1e4)  # one true-energy bin holding every gamma


def injected(faults: TelescopeFaults) -> list[dict[str, Any]]:
    """The telescope faults of a scenario: ``tel_id``, ``fault``, ``setting`` (ns, Hz or None)."""
    out = [{"tel_id": b.tel_id, "fault": b.mode, "setting": None} for b in faults.broken]
    out += [{"tel_id": int(t), "fault": "clock_offset", "setting": float(ns)}
            for t, ns in faults.clock_offset_ns.items()]
    out += [{"tel_id": r.tel_id, "fault": "runaway_trigger", "setting": r.rate_hz} for r in faults.runaway_trigger]
    return sorted(out, key=lambda f: (f["tel_id"], f["fault"]))


def reco_quality(run_dir: str | Path) -> dict[str, Any] | None:
    """R68 (deg), energy resolution and bias of a run's valid test gammas over all energies, and their
    number; None without DL2 files."""
    if not any((Path(run_dir) / "dl2").glob("*.dl2.h5")):
        return None
    events = []
    for path in data_files(run_dir, "dl2"):
        try:
            with h5py.File(path, "r") as h5:
                events.append(read_table(h5, paths.DL2_SUBARRAY_EVENTS)[0])
        except (OSError, KeyError) as err:
            raise DataFileError(f"{path}: unreadable DL2 file ({err})") from None
    ev = np.concatenate(events)
    g = ev[~ev["is_train"] & ev["is_valid"] & (ev["true_shower_primary_id"] == PRIMARY_IDS["gamma"])
           & np.isfinite(ev["reco_energy"])]
    edges = np.array([ALL_ENERGIES_TEV[0], ALL_ENERGIES_TEV[1]])
    r68 = angular_resolution(g["true_energy"], g["reco_alt"], g["reco_az"], g["true_alt"], g["true_az"], edges,
                             min_events=MIN_GAMMAS)
    energy = energy_bias_resolution(g["true_energy"], g["reco_energy"], edges, min_events=MIN_GAMMAS)
    return {"n_test_gammas": int(g.size), "r68_deg": r68["angular_resolution_deg"][0],
            "energy_resolution": energy["energy_resolution"][0], "energy_bias": energy["energy_bias"][0]}


def run_figures(run_dir: str | Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The figures a fault changes, of one run (its summary with ``data_quality.telescopes`` health)."""
    health = summary["data_quality"]["telescopes"]["telescopes"]
    dl0 = summary["rates"]["stages"].get(STAGE_DL0_ARCHIVED, {})
    return {
        "array_trigger_rate_hz": summary["rates"]["array_trigger"]["rate_hz"],
        "dl0_bytes_per_s": dl0.get("bytes_per_s"),
        "telescopes": {k: {"trigger_rate_hz": v["trigger_rate_hz"], "n_read_out": v["n_read_out"]}
                       for k, v in health.items()},
        "reconstruction": reco_quality(run_dir),
    }


def _pair(faulty: float | None, fault_free: float | None) -> dict[str, float | None]:
    ratio = faulty / fault_free if faulty is not None and fault_free else None
    return {"faulty": faulty, "fault_free": fault_free, "ratio": ratio}


def effect(faulty: Mapping[str, Any], fault_free: Mapping[str, Any]) -> dict[str, Any]:
    """Faulty vs fault-free ``run_figures``: each figure as ``faulty``, ``fault_free``, ``ratio``."""
    reco_a, reco_b = faulty["reconstruction"] or {}, fault_free["reconstruction"] or {}
    return {
        "array_trigger_rate_hz": _pair(faulty["array_trigger_rate_hz"], fault_free["array_trigger_rate_hz"]),
        "dl0_bytes_per_s": _pair(faulty["dl0_bytes_per_s"], fault_free["dl0_bytes_per_s"]),
        "reconstruction": ({k: _pair(reco_a.get(k), reco_b.get(k))
                            for k in ("n_test_gammas", "r68_deg", "energy_resolution", "energy_bias")}
                           if reco_a and reco_b else None),
    }


def load_healthy_run(run_dir: str | Path, scenario: Scenario) -> dict[str, Any]:
    """The summary of an earlier run of ``scenario`` without its faults (same seed and settings, any
    output directory); a one-line CtasimError when it is not that run."""
    run_dir = Path(run_dir)
    try:
        prov = json.loads((run_dir / "provenance.json").read_text())
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError) as err:
        raise CtasimError(f"faults.instrument.telescopes.healthy_run {run_dir}: not a finished ctasim run "
                          f"({err})") from None
    want = scenario.without_faults().to_dict()
    got = dict(prov.get("scenario") or {})
    for d in (want, got):
        d.pop("output_dir", None)
    if got != want:
        keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
        raise CtasimError(f"faults.instrument.telescopes.healthy_run {run_dir}: a run of another scenario "
                          f"(differs in {', '.join(keys)}); run this scenario without faults there")
    if "telescopes" not in summary.get("data_quality", {}):
        raise CtasimError(f"faults.instrument.telescopes.healthy_run {run_dir}: its summary.json has no "
                          "data_quality.telescopes (made by an older ctasim); run it again")
    return summary


def fault_section(faults: TelescopeFaults, health: Mapping[str, Any], run_dir: str | Path,
                  summary: Mapping[str, Any], fault_free: tuple[Path, Mapping[str, Any]] | None) -> dict[str, Any]:
    """``injected`` (each fault with ``expected_flag``, ``flagged`` and, with a comparison run, the faulty
    telescope's ``effect``), ``comparison_run`` and the run-wide ``effect`` (None without comparison)."""
    flags = {(f["tel_id"], f["flag"]) for f in health["flags"]}
    mine = run_figures(run_dir, summary)
    other = run_figures(*fault_free) if fault_free is not None else None
    out = []
    for f in injected(faults):
        name = paths.tel_table_name(f["tel_id"])
        expected = EXPECTED_FLAG[f["fault"]]
        entry = dict(f, expected_flag=expected, flagged=(f["tel_id"], expected) in flags)
        if other is not None:
            a, b = mine["telescopes"][name], other["telescopes"][name]
            entry["effect"] = {"trigger_rate_hz": _pair(a["trigger_rate_hz"], b["trigger_rate_hz"]),
                               "n_read_out": _pair(a["n_read_out"], b["n_read_out"])}
        out.append(entry)
    return {
        "injected": out,
        "all_flagged": all(e["flagged"] for e in out),
        "comparison_run": str(fault_free[0]) if fault_free is not None else None,
        "effect": effect(mine, other) if other is not None else None,
    }
