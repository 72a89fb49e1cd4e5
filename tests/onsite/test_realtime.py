"""The real-time analysis (ctasim.onsite.realtime) on synthetic reconstructed events with known
times and directions: regions, the rolling Li & Ma significance, complete-data evaluation,
alerts with re-arming, and the summary's latencies and timing. The whole chain with DL0 blocks
is run in tests/e2e/test_flare_alerts.py."""

import json

import numpy as np
import pytest

from ctasim.errors import ConfigError
from ctasim.instrument.config import load_subarray
from ctasim.irf.sensitivity import li_ma_significance
from ctasim.onsite.realtime import (
    RealTimeAnalysis,
    RealTimeConfig,
    alerts_section,
    realtime_timing,
    write_alert,
)
from ctasim.reco.metrics import angular_separation_deg

POINTING = (70.0, 0.0)


class SyntheticAnalysis(RealTimeAnalysis):
    """Takes (time, alt, az) arrays instead of DL0 blocks."""

    def _directions(self, blocks):
        time, alt, az = blocks
        return np.asarray(time, float), np.asarray(alt, float), np.asarray(az, float), len(time)


@pytest.fixture(scope="module")
def subarray():
    return load_subarray("north_alpha")


def analysis(subarray, **settings) -> SyntheticAnalysis:
    config = RealTimeConfig(**{"theta_cut_deg": 0.3, "window_s": 30.0, "min_on_events": 5} | settings)
    return SyntheticAnalysis(subarray, POINTING, config)


def events(rta, on_times, off_times):
    """Events at the target (on) and at the first off position (off), at the given times (s)."""
    n_on, n_off = len(on_times), len(off_times)
    alt = np.r_[np.full(n_on, rta.target[0]), np.full(n_off, rta.off_positions[0][0])]
    az = np.r_[np.full(n_on, rta.target[1]), np.full(n_off, rta.off_positions[0][1])]
    return np.r_[on_times, off_times], alt, az


def feed(rta, on_times, off_times, block_s=10.0, t_end=None):
    """All events in blocks of ``block_s`` seconds, each block complete up to its start; then finish."""
    on_times, off_times = np.asarray(on_times, float), np.asarray(off_times, float)
    t_end = max(on_times.max(initial=0), off_times.max(initial=0)) if t_end is None else t_end
    alerts = []
    for start in np.arange(0.0, t_end + block_s, block_s):
        sel_on = on_times[(on_times >= start) & (on_times < start + block_s)]
        sel_off = off_times[(off_times >= start) & (off_times < start + block_s)]
        alerts += rta.analyse(events(rta, sel_on, sel_off), start, f"block at {start}").alerts
    return alerts + rta.finish()


def test_off_positions_are_reflected_at_the_target_offset(subarray):
    rta = analysis(subarray, target_offset_deg=0.5, theta_cut_deg=0.35, n_off=3)
    assert len(rta.off_positions) == 3 and rta.alpha == pytest.approx(1 / 3)
    for alt, az in [rta.target, *rta.off_positions]:
        assert angular_separation_deg(alt, az, *POINTING) == pytest.approx(0.5, abs=1e-9)
    for alt, az in rta.off_positions:
        assert angular_separation_deg(alt, az, *rta.target) > 2 * 0.35


def test_region_larger_than_the_offset_is_refused_in_one_line(subarray):
    with pytest.raises(ConfigError, match="theta_cut_deg") as err:
        analysis(subarray, target_offset_deg=0.3, theta_cut_deg=0.4)
    assert "\n" not in str(err.value)


def test_rearm_must_be_below_threshold():
    with pytest.raises(ValueError, match="rearm_sigma"):
        RealTimeConfig(threshold_sigma=4.0, rearm_sigma=4.0)


def test_one_burst_raises_one_alert_inside_it(subarray):
    rng = np.random.default_rng(1)
    background_on = np.sort(rng.uniform(0, 400, 40))   # 0.1 Hz in the on region
    off = np.sort(rng.uniform(0, 400, 120))            # alpha 1/3: the same background rate
    burst = np.sort(rng.uniform(200, 260, 60))         # +1 Hz for 60 s
    rta = analysis(subarray, n_off=3)
    alerts = feed(rta, np.r_[background_on, burst], off)
    assert len(alerts) == 1 and rta.summary()["n_alerts"] == 1
    alert = alerts[0]
    assert 200 <= alert["sim_time_s"] <= 260
    assert alert["significance"] >= 5.0 and alert["n_on"] >= 5
    # the recorded counts are those of the window ending at the alert time, and give its significance
    window = (alert["sim_time_s"] - 30.0, alert["sim_time_s"])
    all_on = np.r_[background_on, burst]
    assert alert["n_on"] == np.sum((all_on > window[0]) & (all_on <= window[1]))
    assert alert["n_off"] == np.sum((off > window[0]) & (off <= window[1]))
    assert alert["significance"] == pytest.approx(float(li_ma_significance(alert["n_on"], alert["n_off"], 1 / 3)))


def test_the_first_crossing_is_found_at_event_resolution(subarray):
    rta = analysis(subarray, min_on_events=5)
    on = list(50.0 + 0.5 * np.arange(14))   # no off events: sigma grows with each event
    alerts = feed(rta, on, [], block_s=100.0, t_end=200.0)
    sig = [float(li_ma_significance(k, 0, rta.alpha)) for k in range(1, 15)]
    first = next(k for k in range(5, 15) if sig[k - 1] >= 5.0)
    assert first > 5
    assert len(alerts) == 1 and alerts[0]["sim_time_s"] == on[first - 1]


def test_a_second_burst_after_the_significance_fell_raises_a_second_alert(subarray):
    rng = np.random.default_rng(2)
    off = np.sort(rng.uniform(0, 800, 240))
    on = np.r_[rng.uniform(0, 800, 80), rng.uniform(200, 240, 50), rng.uniform(600, 640, 50)]
    alerts = feed(analysis(subarray, n_off=3), np.sort(on), off)
    assert [200 <= alerts[0]["sim_time_s"] <= 240, 600 <= alerts[1]["sim_time_s"] <= 640] == [True, True]
    assert len(alerts) == 2


def test_no_second_alert_while_the_significance_stays_high(subarray):
    on = np.arange(10.0, 300.0, 0.5)   # a steady excess, no off events: always far above threshold
    alerts = feed(analysis(subarray), on, [])
    assert len(alerts) == 1 and alerts[0]["sim_time_s"] < 15.0


def test_events_beyond_the_complete_data_wait_for_the_next_block(subarray):
    rta = analysis(subarray, min_on_events=5)
    burst = events(rta, np.linspace(10, 12, 20), [])
    assert rta.analyse(burst, 5.0).alerts == []          # data complete only up to 5 s
    assert rta.light_curve["time_s"][-1] == 5.0 and rta.light_curve["n_on"][-1] == 0
    alerts = rta.analyse(events(rta, [], []), 30.0).alerts
    assert len(alerts) == 1 and 10 <= alerts[0]["sim_time_s"] <= 12


def test_few_events_do_not_alert_however_significant(subarray):
    rta = analysis(subarray, min_on_events=10)
    assert feed(rta, np.linspace(5, 6, 9), [], t_end=50) == []
    assert max(rta.light_curve["significance"]) < 5 or rta.summary()["n_alerts"] == 0


def test_events_outside_every_region_are_counted_but_not_used(subarray):
    rta = analysis(subarray)
    far = (np.array([1.0, 2.0]), np.array([POINTING[0] + 2.0] * 2), np.array([0.0, 0.0]))
    result = rta.analyse(far, 0.0)
    assert (result.n_events, result.n_selected, result.n_on, result.n_off) == (2, 2, 0, 0)


def test_alerts_section_gives_latencies_after_the_flare_start(tmp_path):
    analysis_summary = {"alerts": [{"alert_id": 1, "sim_time_s": 20.0}, {"alert_id": 2, "sim_time_s": 130.0}]}
    flares = [{"population": "flare", "start_s": 100.0, "stop_s": 250.0}]
    out = alerts_section(analysis_summary, flares)
    assert out["flares"] == flares
    assert [a["latency_sim_s"] for a in out["alerts"]] == [None, 30.0]
    assert [a["flare"] for a in out["alerts"]] == [None, "flare"]
    path = write_alert(tmp_path / "alerts", out["alerts"][1])
    assert path.name == "alert_0002.json" and json.loads(path.read_text())["latency_sim_s"] == 30.0


def test_timing_compares_wall_seconds_with_the_simulated_span():
    timing = realtime_timing([0.5, 0.2, 3.0], [0.0, 10.0, 20.0], [10.0, 10.0, 2.0], 300)
    assert timing["simulated_s"] == 22.0 and timing["wall_s"] == pytest.approx(3.7)
    assert timing["keeps_up"] is True and timing["blocks_slower_than_their_span"] == 1
    assert timing["array_events_per_wall_s"] == pytest.approx(300 / 3.7)
    assert realtime_timing([], [], [], 0) == {"blocks": 0, "keeps_up": None}


def test_a_missing_models_directory_fails_before_any_actor_starts(tmp_path):
    from actors.orchestrator import ActorGraph
    from ctasim.errors import DataFileError
    from ctasim.scenario import load_scenario

    scenario = load_scenario("flare")
    scenario = scenario.model_copy(update={"alerts": scenario.alerts.model_copy(update={"models": str(tmp_path)})})
    graph = ActorGraph(scenario, tmp_path / "run", backend="local")
    with pytest.raises(DataFileError, match="no such model file"):
        graph.start()
    assert not graph.actors and not (tmp_path / "run").exists()
