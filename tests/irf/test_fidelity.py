"""Fidelity factors against Prod5 (ctasim.irf.fidelity) on hand-made irf.bins, and the script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ctasim.irf.fidelity import LIMITS, fidelity, fidelity_table

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fidelity.py"


def bins(**ours):
    """Three bins at 0.03, 1 and 50 TeV; Prod5 North 1.0 everywhere, ours as given (default 1.0)."""
    out = {"e_center_tev": [0.03, 1.0, 50.0]}
    for key in LIMITS:
        out[key] = ours.get(key, [1.0, 1.0, 1.0])
        out[f"prod5_north_{key}"] = [1.0, 1.0, 1.0]
    return out


def test_factor_is_the_distance_from_prod5_either_way_inside_the_energy_range():
    result = fidelity(bins(r68_deg=[9.0, 0.5, 9.0], effective_area_m2=[1.0, 1.4, 1.0]), "north")
    r68 = result["quantities"]["r68_deg"]
    assert [r["e_center_tev"] for r in r68["rows"]] == [1.0]          # 0.03 and 50 TeV lie outside 0.05-30
    assert r68["rows"][0]["ratio"] == 0.5 and r68["worst"] == 2.0 and r68["within"] is False
    area = result["quantities"]["effective_area_m2"]
    assert area["worst"] == pytest.approx(1.4) and area["within"] is True   # limit 1.5x
    assert result["worst"] == 2.0 and result["within"] is False


def test_the_effective_area_is_compared_without_the_theta_cut_as_prod5s_full_enclosure_irfs():
    b = bins(effective_area_m2=[1.0, 0.68, 1.0]) | {"effective_area_no_theta_cut_m2": [1.0, 1.1, 1.0]}
    area = fidelity(b, "north")["quantities"]["effective_area_m2"]
    assert area["rows"][0]["ours"] == 1.1 and area["within"] is True
    # an older summary without the column: the theta-cut area
    older = fidelity(bins(effective_area_m2=[1.0, 0.6, 1.0]), "north")
    assert older["quantities"]["effective_area_m2"]["within"] is False


def test_no_background_passing_is_outside_not_skipped():
    result = fidelity(bins(background_rate_per_s_mev_sr=[0.0, 0.0, 0.0]), "north")
    q = result["quantities"]["background_rate_per_s_mev_sr"]
    assert q["zero_bins"] == 1 and q["within"] is False and q["worst"] is None
    assert "1 bin(s) with none passing" in "\n".join(fidelity_table(result))


def test_bins_with_too_few_events_are_listed_but_not_compared():
    b = bins(r68_deg=[1.0, 5.0, 1.0], background_rate_per_s_mev_sr=[1.0, 0.0, 1.0])
    b["n_gammas"], b["n_background"] = [100, 19, 100], [100, 4, 100]
    result = fidelity(b, "north")
    for key in ("r68_deg", "background_rate_per_s_mev_sr"):
        q = result["quantities"][key]
        assert q["few_bins"] == 1 and q["zero_bins"] == 0 and q["worst"] is None and q["within"] is None
    b["n_gammas"], b["n_background"] = [100, 20, 100], [100, 5, 100]
    result = fidelity(b, "north")
    assert result["quantities"]["r68_deg"]["worst"] == 5.0
    assert result["quantities"]["background_rate_per_s_mev_sr"]["zero_bins"] == 1
    assert "too few events (4)" in "\n".join(fidelity_table(fidelity(bins() | {"n_background": [0, 4, 0]}, "north")))


def test_a_background_rate_behind_a_cut_set_on_too_few_gammas_is_not_compared():
    b = bins(background_rate_per_s_mev_sr=[1.0, 0.05, 1.0]) | {"n_gammas": [100, 16, 100], "n_background": [9, 9, 9]}
    result = fidelity(b, "north")
    q = result["quantities"]["background_rate_per_s_mev_sr"]
    assert q["few_bins"] == 1 and q["worst"] is None and q["rows"][0]["n_events"] == 16
    assert "too few gammas (16)" in "\n".join(fidelity_table(result))
    b["n_gammas"] = [100, 20, 100]
    assert fidelity(b, "north")["quantities"]["background_rate_per_s_mev_sr"]["worst"] == pytest.approx(20.0)


def test_nulls_are_bins_without_statistics():
    result = fidelity(bins(energy_resolution=[None, None, None]), "north")
    q = result["quantities"]["energy_resolution"]
    assert q["rows"] == [] and q["worst"] is None and q["within"] is None and result["within"] is None


def test_script_prints_the_table_and_refuses_a_run_without_irfs(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"irf": {"site": "north", "bins": bins(r68_deg=[1, 1.2, 1])}}))
    done = subprocess.run([sys.executable, str(SCRIPT), str(run)], capture_output=True, text=True)
    assert done.returncode == 0 and "| r68_deg | 1 | 1.2 | 1 | 1.20 |" in done.stdout
    assert "worst factor overall: 1.20x" in done.stdout
    (run / "summary.json").write_text(json.dumps({"irf": {"error": "no test protons"}}))
    done = subprocess.run([sys.executable, str(SCRIPT), str(run)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().endswith("no test protons") and done.stderr.count("\n") == 1
