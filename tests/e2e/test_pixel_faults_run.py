"""End to end, one tiny in-process run per pixel fault (2 LST + 2 MST, 300 gammas + 100 protons, DL2):
the run completes, the report flags the fault, the accounting closes, every image is counted, the
data quality finds the injected pixels, and the effect on trigger rates, DL1 and reconstruction is in
summary.json (the dead-pixel run with its healthy twin, which the other runs are compared with)."""

from __future__ import annotations

import json
import math

import h5py
import pytest

from actors.orchestrator import HEALTHY_DIR, run_scenario
from ctasim.datamodel import paths
from ctasim.scenario import validate_scenario

pytestmark = pytest.mark.e2e

LAYOUT = """name: mini_north
site: {name: 'CTAO-North (La Palma)', lon_deg: -17.8920302, lat_deg: 28.7621661, altitude_m: 2177.0,
       obs_level_m: 2158.0}
telescopes:
  - {tel_id: 1, name: L-01, type: LST_LST_LSTCam, pos: [-70.93, -52.07, 43.00]}
  - {tel_id: 2, name: L-02, type: LST_LST_LSTCam, pos: [-35.27, 66.14, 32.00]}
  - {tel_id: 3, name: M-01, type: MST_MST_NectarCam, pos: [-211.54, 5.66, 50.30]}
  - {tel_id: 4, name: M-15, type: MST_MST_NectarCam, pos: [0.00, 0.00, 29.00]}
"""
FAULTS = {
    "dead": {"dead": {"fraction": 0.1, "pixels": {1: [0, 1, 2]}}},
    "hot": {"hot": {"fraction": 0.02, "rate_ghz": 3.0}},
    "star": {"stars": [{"fov_lon_deg": 0.6, "fov_lat_deg": -0.4, "magnitude": 3.0},
                       {"alt_deg": 70.8, "az_deg": 0.0, "magnitude": 4.0}]},
    "gradient": {"nsb_gradient": {"fraction_per_deg": 0.15, "direction_deg": 120.0}},
}


def _run(tmp_path_factory, fault: str):
    base = tmp_path_factory.getbasetemp()
    layout = base / "mini_north.yaml"
    if not layout.exists():
        layout.write_text(LAYOUT)
    run_dir = tmp_path_factory.mktemp(fault)
    scenario = validate_scenario({
        "name": f"pixfault_{fault}", "seed": 7, "output_dir": str(run_dir), "array": {"layout": str(layout)},
        "particles": [
            {"name": "gamma", "particle": "gamma", "n_showers": 300, "energy_min_tev": 0.1, "energy_max_tev": 30.0,
             "max_scatter_m": 400.0, "rate_hz": 2000.0},
            {"name": "proton", "particle": "proton", "n_showers": 100, "energy_min_tev": 0.2,
             "energy_max_tev": 50.0, "max_scatter_m": 600.0, "viewcone_deg": 4.0, "rate_hz": 6000.0},
        ],
        "simulation": {"block_size": 100},
        "offline": {"dl1": True, "dl2": True},
        "faults": {"compare_healthy": fault == "dead", "instrument": {"pixels": FAULTS[fault]}},
    })
    run_scenario(scenario, backend="local")
    return run_dir, json.loads((run_dir / "summary.json").read_text()), (run_dir / "report.md").read_text()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {fault: _run(tmp_path_factory, fault) for fault in FAULTS}


@pytest.fixture(scope="module")
def healthy(runs):
    return json.loads((runs["dead"][0] / HEALTHY_DIR / "summary.json").read_text())


def _check_run(summary, report):
    acc = summary["accounting"]
    assert acc["closed"] is True and acc["error"] is None
    pixels = summary["data_quality"]["pixels"]
    assert "### Data quality: pixels" in report
    images = sum(t["dl1"]["images"] for t in pixels["by_tel_type"].values())
    assert images == acc["stages"]["telescope_events_archived"]["total"] > 0     # no image lost uncounted
    effect = pixels["effect"]["faulty"]
    for key in ("array_trigger_rate_hz", "r68_deg", "energy_resolution"):
        assert isinstance(effect[key], float) and math.isfinite(effect[key]) and effect[key] > 0
    assert set(effect["camera_trigger_rate_hz"]) == set(effect["survival_fraction"]) == {"LST", "MST"}
    return pixels


def test_dead_pixels_found_masked_and_compared_with_the_healthy_twin(runs, healthy):
    run_dir, summary, report = runs["dead"]
    pixels = _check_run(summary, report)
    assert "**FLAGGED** LST (2 telescopes)" in report and "dead pixels" in report
    for t in pixels["by_tel_type"].values():
        det = t["detection"]
        assert t["injected"]["dead"] > 0 and det["dead"]["true_positives"] == t["injected"]["dead"]
        assert det["dead"]["missed"] == 0 and det["false_positives"] == {"dead": 0, "noisy": 0}
    assert pixels["telescopes"]["tel_001"]["dead"][:3] == [0, 1, 2]
    masked = 0
    for path in (run_dir / "dl1").glob("*.dl1.h5"):
        with h5py.File(path, "r") as h5:
            for tel_id in range(1, 5):
                status = h5[paths.tel_table_path(paths.DL1_MONITORING_PIXEL_STATUS, tel_id)][0]
                assert status["unusable"].sum() == len(pixels["telescopes"][paths.tel_table_name(tel_id)]["dead"])
                masks = h5[paths.tel_table_path(paths.DL1_IMAGES, tel_id)]["image_mask"]
                assert not masks[:, status["unusable"]].any()      # unusable pixels never survive cleaning
                masked += masks.shape[0] * int(status["unusable"].sum())
    assert masked == sum(t["dl1"]["masked_pixel_images"] for t in pixels["by_tel_type"].values()) > 0
    effect = pixels["effect"]
    assert effect["healthy"] is not None and effect["ratio"]["r68_deg"] is not None
    # a tenth of the pixels dead: fewer camera triggers and fewer p.e. than the same showers in healthy cameras
    for tel_type, ratio in effect["ratio"]["camera_trigger_rate_hz"].items():
        assert ratio < 1.0, tel_type
    healthy_pixels = healthy["data_quality"]["pixels"]
    assert "**FLAGGED**" not in (run_dir / HEALTHY_DIR / "report.md").read_text()
    for t in healthy_pixels["by_tel_type"].values():
        assert t["found"] == {"dead": 0, "noisy": 0} and t["injected"] == {"dead": 0, "hot": 0, "star": 0}


def test_hot_pixels_found_and_raise_the_trigger_rate(runs, healthy):
    _, summary, report = runs["hot"]
    pixels = _check_run(summary, report)
    assert "noisy pixels" in report and "**FLAGGED**" in report
    for tel_type, t in pixels["by_tel_type"].items():
        det = t["detection"]
        assert det["hot"]["true_positives"] == t["injected"]["hot"] > 0 and det["hot"]["missed"] == 0
        assert det["false_positives"] == {"dead": 0, "noisy": 0}
        rate = pixels["effect"]["faulty"]["camera_trigger_rate_hz"][tel_type]
        assert rate >= healthy["data_quality"]["pixels"]["effect"]["faulty"]["camera_trigger_rate_hz"][tel_type]


def test_stars_found_where_they_shine(runs):
    _, summary, report = runs["star"]
    pixels = _check_run(summary, report)
    assert "noisy pixels" in report
    for t in pixels["by_tel_type"].values():
        det = t["detection"]
        assert t["injected"]["star"] >= 4                 # two stars, at least two pixels each
        assert det["star"]["true_positives"] >= 0.8 * t["injected"]["star"]
        assert det["false_positives"] == {"dead": 0, "noisy": 0} and t["found"]["dead"] == 0


def test_nsb_gradient_measured_not_masked(runs):
    _, summary, report = runs["gradient"]
    pixels = _check_run(summary, report)
    assert "an NSB gradient of 15 %/deg towards 1" in report
    for t in pixels["by_tel_type"].values():
        grad = t["nsb_gradient"]
        assert grad["injected_per_deg"] == pytest.approx(0.15, rel=0.01)
        assert grad["found_per_deg"] == pytest.approx(0.15, rel=0.1)
        assert grad["found_direction_deg"] == pytest.approx(120.0, abs=5.0)
        assert t["found"] == {"dead": 0, "noisy": 0}
