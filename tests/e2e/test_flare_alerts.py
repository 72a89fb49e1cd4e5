"""The shipped flare scenario through the whole on-site chain with the real-time analysis: exactly
one alert, after the injected flare starts; while the rolling window holds no flare event (before
the flare, and once it has left the window) the steady source alone stays below the threshold; the
latencies and the analysis timing are in summary.json and each alert is a JSON file."""

import json
from pathlib import Path

import pytest

from actors.orchestrator import run_scenario
from ctasim.instrument.config import read_yaml
from ctasim.paths import SCENARIO_DIR
from ctasim.scenario import validate_scenario


@pytest.fixture(scope="module")
def flare_run(tmp_path_factory):
    data = read_yaml(SCENARIO_DIR / "flare.yaml")
    scenario = validate_scenario(data | {"execution": {"backend": "local"}}, "flare.yaml")
    return run_scenario(scenario, tmp_path_factory.mktemp("flare"))


def test_the_flare_raises_exactly_one_alert_after_it_starts(flare_run):
    alerts = flare_run.summary["alerts"]
    (flare,) = alerts["flares"]
    assert flare["population"] == "flare" and flare["start_s"] == 90.0
    assert alerts["n_alerts"] == 1
    (alert,) = alerts["alerts"]
    assert flare["start_s"] < alert["sim_time_s"] < flare["stop_s"]
    assert alert["latency_sim_s"] == pytest.approx(alert["sim_time_s"] - flare["start_s"])
    assert 0.0 <= alert["latency_wall_s"] < 60.0
    assert alert["significance"] >= alerts["threshold_sigma"]
    assert alert["data_complete_until_s"] >= alert["sim_time_s"]


def test_each_alert_is_written_as_a_json_record(flare_run):
    files = sorted((flare_run.run_dir / "alerts").glob("alert_*.json"))
    assert [f.name for f in files] == ["alert_0001.json"]
    record = json.loads(files[0].read_text())
    # the summary adds what only the simulation knows: which flare, and the latency after its start
    in_summary = flare_run.summary["alerts"]["alerts"][0]
    assert record == {k: v for k, v in in_summary.items() if k not in ("flare", "latency_sim_s")}


def test_the_steady_source_alone_stays_below_the_threshold(flare_run):
    alerts = flare_run.summary["alerts"]
    (flare,) = alerts["flares"]
    curve, window = alerts["light_curve"], alerts["window_s"]
    before = [s for t, s in zip(curve["time_s"], curve["significance"]) if t < flare["start_s"]]
    after = [s for t, s in zip(curve["time_s"], curve["significance"]) if t - window > flare["stop_s"]]
    assert len(before) >= 10 and len(after) >= 5   # the windows without a flare event
    assert max(before + after) < alerts["threshold_sigma"]


def test_the_analysis_keeps_up_and_sees_every_archived_event(flare_run):
    alerts, summary = flare_run.summary["alerts"], flare_run.summary
    timing = alerts["timing"]
    assert timing["keeps_up"] is True
    assert timing["block_wall_s_median"] < timing["block_span_s_median"]
    assert timing["blocks"] == summary["timing"]["n_blocks"]
    archived = summary["accounting"]["stages"]["array_events_archived"]["total"]
    assert alerts["totals"]["array_events"] == archived
    assert "realtime" in summary["timing"]["stage_seconds"]


def test_every_alerts_key_is_documented(flare_run):
    alerts = flare_run.summary["alerts"]
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    keys = [f"alerts.{k}" for k in alerts] + [f"`{k}`" for k in (*alerts["alerts"][0], *alerts["timing"],
                                                                  *alerts["totals"])]
    missing = [k for k in keys if (k if k.startswith("`") else f"`{k}`") not in text]
    assert not missing, f"not documented in the README: {missing}"
