"""Small in-process runs with telescope faults: each run completes, the report flags each fault,
the accounting closes exactly and every archived event is counted, and summary.json holds each
fault's measured effect against the same scenario and seed without it. To stay fast, one run carries
three faults on different telescopes (no data, clock offset, runaway trigger: their per-telescope
effects are their own, the run-wide ones combined) against one shared fault-free run; the garbage
run makes its own healthy twin (``faults.compare_healthy``), both with DL2 for the reconstruction."""

from __future__ import annotations

import json

import pytest
from chain_helpers import tiny_scenario

from actors.orchestrator import run_scenario
from ctasim.io.verify import verify_file
from ctasim.scenario import validate_scenario

pytestmark = pytest.mark.e2e
N_SHOWERS = 100


def _scenario(run_dir, telescopes=None, offline=None, compare_healthy=False):
    data = tiny_scenario(run_dir, n_showers=N_SHOWERS).to_dict()
    data["faults"]["instrument"]["telescopes"] |= telescopes or {}
    data["faults"]["compare_healthy"] = compare_healthy
    data["offline"] |= offline or {}
    return validate_scenario(data)


@pytest.fixture(scope="module")
def fault_free(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("fault_free")
    run_scenario(_scenario(run_dir), backend="local")
    return run_dir


def _run(run_dir, telescopes, offline=None, compare_healthy=False):
    run_scenario(_scenario(run_dir, telescopes, offline, compare_healthy), backend="local")
    summary = json.loads((run_dir / "summary.json").read_text())
    acc = summary["accounting"]
    assert acc["closed"] is True, acc["error"]
    checks = [verify_file(f) for f in sorted((run_dir / "dl0").glob("*.h5"))]
    assert all(c.ok for c in checks), [str(p) for c in checks for p in c.problems]
    archived = sum(c.events for c in checks)
    assert archived == acc["stages"]["telescope_events_archived"]["total"] > 0
    dq = summary["data_quality"]["telescopes"]
    assert dq["all_flagged"] is True
    return summary, dq, (run_dir / "report.md").read_text()


@pytest.fixture(scope="module")
def three_faults(tmp_path_factory, fault_free):
    return _run(tmp_path_factory.mktemp("three_faults"),
                {"broken": [{"tel_id": 2, "mode": "no_data"}], "clock_offset_ns": {7: 500.0},
                 "runaway_trigger": [{"tel_id": 9, "rate_hz": 5000.0}], "healthy_run": str(fault_free)})


def _injected(dq, tel_id):
    return next(f for f in dq["injected"] if f["tel_id"] == tel_id)


def test_the_fault_free_run_flags_nothing(fault_free):
    dq = json.loads((fault_free / "summary.json").read_text())["data_quality"]["telescopes"]
    assert dq["flags"] == [] and len(dq["telescopes"]) == 13
    assert "Data quality: telescopes" in (fault_free / "report.md").read_text()


def test_exactly_the_faulty_telescopes_are_flagged(three_faults):
    _, dq, _ = three_faults
    assert [(f["tel_id"], f["flag"]) for f in dq["flags"]] == [(2, "silent"), (7, "clock_offset"),
                                                                (9, "rate_anomaly")]
    assert dq["effect"]["reconstruction"] is None        # no DL2 in these runs


def test_a_telescope_sending_no_data(three_faults):
    summary, dq, report = three_faults
    assert summary["accounting"]["stages"]["telescope_triggers_dropped.no_data"]["total"] > 0
    rate = _injected(dq, 2)["effect"]["trigger_rate_hz"]
    assert rate["faulty"] == 0 < rate["fault_free"]
    assert "**tel 2 silent**" in report and "dropped: no_data" in report


def test_a_clock_offset(three_faults):
    _, dq, report = three_faults
    assert dq["telescopes"]["tel_007"]["peer_dt_median_ns"] == pytest.approx(500.0, abs=30.0)
    read_out = _injected(dq, 7)["effect"]["n_read_out"]
    assert read_out["faulty"] < 0.2 * read_out["fault_free"]      # it falls out of the coincidence window
    assert _injected(dq, 7)["effect"]["trigger_rate_hz"]["ratio"] == 1.0
    assert "**tel 7 clock_offset**" in report


def test_a_runaway_trigger_rate(three_faults):
    summary, dq, report = three_faults
    rate = _injected(dq, 9)["effect"]["trigger_rate_hz"]
    assert rate["ratio"] > 3.0 and rate["faulty"] > 5000.0 * 0.8
    assert summary["accounting"]["stages"]["telescope_triggers"]["by_stream"]["nsb"] > 0
    assert "**tel 9 rate_anomaly**" in report


def test_a_telescope_sending_garbage(tmp_path):
    _, dq, report = _run(tmp_path / "run", {"broken": [{"tel_id": 5, "mode": "garbage"}]}, {"dl2": True},
                         compare_healthy=True)
    assert [(f["tel_id"], f["flag"]) for f in dq["flags"]] == [(5, "garbage")]
    assert dq["comparison_run"] == str(tmp_path / "run" / "healthy")
    assert dq["injected"][0]["effect"]["trigger_rate_hz"]["ratio"] == 1.0   # it triggers as before
    assert dq["effect"]["dl0_bytes_per_s"]["ratio"] > 1.2                   # random counts compress badly
    reco = dq["effect"]["reconstruction"]
    assert reco["n_test_gammas"]["fault_free"] >= 10
    assert reco["r68_deg"]["faulty"] > 0 and reco["energy_resolution"]["ratio"] is not None
    assert "**tel 5 garbage**" in report and "R68, all energies" in report
