"""Data quality of a run's pixels: summary.json ``data_quality.pixels``, from its DL1 (and DL2) files.

``pixel_quality(run_dir)`` compares the pixel status the data quality found from the pedestal events
(``/dl1/monitoring/telescope/pixel_status``, ``ctasim.dl0.pixel_status``) with what was injected
(``/simulation/service/pixel_faults``, absent in a healthy run: nothing injected), per telescope type:

- ``injected``: telescopes, pixels, ``dead``, ``hot`` and ``star`` pixels (a star pixel: the star adds at
  least ``STAR_PIXEL_FRACTION`` x the camera's dark-sky NSB rate), and the NSB gradient (fraction of
  the central rate per deg, fitted to the injected NSB rates without the stars, as the monitoring fits);
- ``found``: ``dead`` and ``noisy`` pixels, the NSB gradient measured (mean over the telescopes);
- ``detection``: per fault ``true_positives`` and ``missed``; ``false_positives`` per status (a noisy
  pixel with at least ``STAR_LIGHT_FRACTION`` x NSB of star light is the star's, not a false one);
- ``dl1``: ``images``, ``images_surviving_cleaning`` (at least one pixel after cleaning) and their
  ``survival_fraction``, ``masked_pixel_images`` (unusable pixels x images: charges masked in cleaning).

``telescopes`` lists the found pixel ids per telescope (``tel_NNN``: ``dead``, ``noisy``) and
``reconstruction`` the R68 (deg) and dE/E (half the 16-84 % width) of all valid test gammas of the
DL2 files (None without DL2 or with fewer than ``MIN_EVENTS``). ``pixel_fault_effect`` sets the
trigger rates, DL1 survival and reconstruction of a run beside those of its healthy twin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..accounting import TELESCOPE_TRIGGERS
from ..datamodel import paths
from ..datamodel.ids import PRIMARY_IDS
from ..datamodel.monitoring import PIXEL_STATUS_DEAD, PIXEL_STATUS_NOISY
from ..dl0.pixel_status import DEAD_STD_FRACTION, NOISY_STD_FACTOR
from ..errors import DataFileError
from ..instrument.subarray import SubarrayDescription
from ..io.instrument import read_subarray
from ..io.tables import read_table
from ..reco.metrics import angular_resolution, energy_bias_resolution
from .files import data_files

STAR_PIXEL_FRACTION = 1.0    # x dark-sky NSB rate: a star pixel the data quality should find
STAR_LIGHT_FRACTION = 0.25   # x dark-sky NSB rate: a noisy pixel with this much star light is the star's
MIN_EVENTS = 5               # test gammas needed for the overall R68 and dE/E
E_RANGE_TEV = np.array([1e-3, 1e3])


def _tables(h5: h5py.File, group: str) -> dict[int, np.ndarray]:
    node = h5.get(group)
    if node is None:
        return {}
    return {int(name.removeprefix("tel_")): read_table(h5, f"{group}/{name}")[0][0] for name in node}


def _plane_gradient(lon: np.ndarray, lat: np.ndarray, rate: np.ndarray) -> float:
    """Fraction per deg of the plane fitted to ``rate`` over (lon, lat) deg, of its centre value."""
    design = np.column_stack([np.ones(rate.size), lon, lat])
    centre, d_lon, d_lat = np.linalg.lstsq(design, rate, rcond=None)[0]
    return float(np.hypot(d_lon, d_lat) / centre) if centre > 0 else 0.0


def _blank() -> dict[str, Any]:
    zero = {"dead": 0, "hot": 0, "star": 0}
    return {"telescopes": 0, "pixels": 0, "injected": dict(zero), "found": {"dead": 0, "noisy": 0},
            "detection": {"dead": {"true_positives": 0, "missed": 0}, "hot": {"true_positives": 0, "missed": 0},
                          "star": {"true_positives": 0, "missed": 0},
                          "false_positives": {"dead": 0, "noisy": 0}},
            "nsb_gradient": {"injected_per_deg": [], "found_per_deg": [], "found_direction_deg": []},
            "dl1": {"images": 0, "images_surviving_cleaning": 0, "masked_pixel_images": 0}}


def _add_telescope(out: dict, tel, status: np.ndarray, truth: np.ndarray | None) -> dict[str, list[int]]:
    """Add one telescope's injected and found pixels to its type's figures; returns its found ids."""
    n = status["pixel_status"].size
    dead_found = (status["pixel_status"] & PIXEL_STATUS_DEAD) > 0
    noisy_found = (status["pixel_status"] & PIXEL_STATUS_NOISY) > 0
    none = np.zeros(n, bool)
    nsb = tel.camera.nsb_rate_ghz
    dead, hot = (truth["dead"], truth["hot"]) if truth is not None else (none, none)
    star_rate = truth["star_rate"] if truth is not None else np.zeros(n)
    star = star_rate >= STAR_PIXEL_FRACTION * nsb
    star_light = star_rate >= STAR_LIGHT_FRACTION * nsb
    out["telescopes"] += 1
    out["pixels"] += n
    for key, mask in (("dead", dead), ("hot", hot), ("star", star)):
        out["injected"][key] += int(mask.sum())
    out["found"]["dead"] += int(dead_found.sum())
    out["found"]["noisy"] += int(noisy_found.sum())
    det = out["detection"]
    for key, mask, found in (("dead", dead, dead_found), ("hot", hot, noisy_found), ("star", star, noisy_found)):
        det[key]["true_positives"] += int((mask & found).sum())
        det[key]["missed"] += int((mask & ~found).sum())
    det["false_positives"]["dead"] += int((dead_found & ~dead).sum())
    det["false_positives"]["noisy"] += int((noisy_found & ~hot & ~star_light).sum())
    grad = out["nsb_gradient"]
    if truth is not None:
        geom = tel.camera.geometry
        lon, lat = tel.camera_to_fov_deg(geom.pix_x, geom.pix_y)
        grad["injected_per_deg"].append(_plane_gradient(lon, lat, (truth["nsb_rate"] - star_rate).astype(float)))
    grad["found_per_deg"].append(float(status["nsb_gradient_per_deg"]))
    grad["found_direction_deg"].append(float(status["nsb_gradient_direction_deg"]))
    return {"dead": np.flatnonzero(dead_found).tolist(), "noisy": np.flatnonzero(noisy_found).tolist()}


def _reconstruction(run_dir: Path) -> dict[str, Any]:
    """Overall R68 and dE/E of the valid test gammas of the run's DL2 files (None: no DL2)."""
    try:
        files = data_files(run_dir, "dl2")
    except DataFileError:
        return {"r68_deg": None, "energy_resolution": None, "n_gammas": 0}
    events = []
    for path in files:
        with h5py.File(path, "r") as h5:
            events.append(read_table(h5, paths.DL2_SUBARRAY_EVENTS)[0])
    ev = np.concatenate(events)
    g = (~ev["is_train"] & ev["is_valid"] & (ev["true_shower_primary_id"] == PRIMARY_IDS["gamma"])
         & np.isfinite(ev["reco_energy"]))
    ev = ev[g]
    r68 = angular_resolution(ev["true_energy"], ev["reco_alt"], ev["reco_az"], ev["true_alt"], ev["true_az"],
                             E_RANGE_TEV, min_events=MIN_EVENTS)["angular_resolution_deg"][0]
    res = energy_bias_resolution(ev["true_energy"], ev["reco_energy"], E_RANGE_TEV,
                                 min_events=MIN_EVENTS)["energy_resolution"][0]
    return {"r68_deg": r68, "energy_resolution": res, "n_gammas": int(ev.size)}


def pixel_quality(run_dir: str | Path) -> dict[str, Any]:
    """summary.json ``data_quality.pixels`` of a run with DL1 files (see the module docstring)."""
    run_dir = Path(run_dir)
    files = data_files(run_dir, "dl1")
    by_type: dict[str, dict] = {}
    listed: dict[str, dict[str, list[int]]] = {}
    with h5py.File(files[0], "r") as h5:
        subarray: SubarrayDescription = read_subarray(h5)
        status = _tables(h5, paths.DL1_MONITORING_PIXEL_STATUS)
        truth = _tables(h5, paths.SIMULATION_PIXEL_FAULTS)
    tel_types = dict(zip(subarray.tel_ids.tolist(), subarray.size_classes().tolist()))
    for tel_id, row in sorted(status.items()):
        out = by_type.setdefault(tel_types[tel_id], _blank())
        listed[paths.tel_table_name(tel_id)] = _add_telescope(out, subarray.tel(tel_id), row, truth.get(tel_id))
    for path in files:
        with h5py.File(path, "r") as h5:
            for tel_id, row in status.items():
                table = paths.tel_table_path(paths.DL1_PARAMETERS, tel_id)
                if table not in h5:
                    continue
                params = read_table(h5, table)[0]
                dl1 = by_type[tel_types[tel_id]]["dl1"]
                dl1["images"] += int(params.size)
                dl1["images_surviving_cleaning"] += int((params["morphology_n_pixels"] > 0).sum())
                dl1["masked_pixel_images"] += int(params.size) * int(row["unusable"].sum())
    for out in by_type.values():
        dl1 = out["dl1"]
        dl1["survival_fraction"] = dl1["images_surviving_cleaning"] / dl1["images"] if dl1["images"] else None
        grad = out["nsb_gradient"]
        for key in list(grad):
            grad[key] = float(np.mean(grad[key])) if grad[key] else None
    return {
        "thresholds": {"dead_std_fraction": DEAD_STD_FRACTION, "noisy_std_factor": NOISY_STD_FACTOR,
                       "star_pixel_fraction": STAR_PIXEL_FRACTION, "star_light_fraction": STAR_LIGHT_FRACTION},
        "injected_any": bool(truth),
        "by_tel_type": by_type,
        "telescopes": listed,
        "reconstruction": _reconstruction(run_dir),
    }


def _figures(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Trigger rates (Hz), DL1 survival and reconstruction of one run's summary."""
    seconds = summary.get("rates", {}).get("simulated_seconds") or 0.0
    triggers = summary.get("accounting", {}).get("stages", {}).get(TELESCOPE_TRIGGERS, {}).get("by_tel_type", {})
    pixels = summary.get("data_quality", {}).get("pixels", {})
    return {
        "array_trigger_rate_hz": summary.get("rates", {}).get("array_trigger", {}).get("rate_hz"),
        "camera_trigger_rate_hz": {t: n / seconds for t, n in triggers.items()} if seconds else {},
        "survival_fraction": {t: d["dl1"]["survival_fraction"] for t, d in pixels.get("by_tel_type", {}).items()},
        **pixels.get("reconstruction", {}),
    }


def pixel_fault_effect(summary: Mapping[str, Any], healthy: Mapping[str, Any] | None) -> dict[str, Any]:
    """The measured effect of the faults: this run's figures beside its healthy twin's (same scenario and
    seed without faults; ``healthy`` None: not run, ``healthy`` and the ratios null), with ratios
    faulty / healthy of each figure."""
    faulty = _figures(summary)
    twin = _figures(healthy) if healthy is not None else None

    def ratio(a: Any, b: Any) -> Any:
        if isinstance(a, Mapping):
            return {k: ratio(v, (b or {}).get(k)) for k, v in a.items()}
        return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None

    return {"faulty": faulty, "healthy": twin,
            "ratio": ratio({k: v for k, v in faulty.items() if k != "n_gammas"}, twin) if twin else None,
            "comparison": "faults.compare_healthy: the same scenario and seed without faults in healthy/"
            if twin else "none (set faults.compare_healthy: true for a fault-free twin run)"}
