"""Telescope faults: as the cameras suffer them (ctasim.sim.telescope_faults, the camera station),
as the central trigger counts them, as the scenario takes them, and as the health checks flag them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ctasim.accounting import TELESCOPE_TRIGGERS_NO_DATA, TRIGGER_BALANCES
from ctasim.datamodel.ids import is_nsb_event
from ctasim.datamodel.r1 import TelescopeEvents
from ctasim.errors import ConfigError, CtasimError
from ctasim.onsite.camera_station import CameraStation
from ctasim.onsite.central_trigger import CentralTrigger
from ctasim.onsite.telescope_health import assess, nearest_peer_dt_ns
from ctasim.report.telescope_quality import load_healthy_run
from ctasim.scenario import validate_scenario
from ctasim.sim.source import Population, ShowerSource
from ctasim.sim.telescope_faults import TelescopeFaultSet, faulty_events, runaway_trigger_times

POINTING = (70.0, 0.0)
TELS = [1, 2, 3, 4]  # the LSTs


def _events(n=5, tel_id=3):
    rng = np.random.default_rng(1)
    return TelescopeEvents(tel_id, 1, np.arange(n, dtype=np.int64), np.linspace(0.1, 0.2, n),
                           rng.integers(390, 420, (n, 2, 10, 40), dtype=np.uint16))


def test_no_data_sends_nothing_garbage_random_counts_clock_shifted():
    ev = _events()
    assert faulty_events(TelescopeFaultSet(no_data=frozenset({3})), ev, 4095, 1, "g", 0).n_events == 0
    bad = faulty_events(TelescopeFaultSet(garbage=frozenset({3})), ev, 4095, 1, "g", 0)
    assert bad.waveform.shape == ev.waveform.shape and bad.waveform.dtype == np.uint16
    assert bad.waveform.max() <= 4095 and bad.waveform.std() > 1000 > ev.waveform.std()
    again = faulty_events(TelescopeFaultSet(garbage=frozenset({3})), ev, 4095, 1, "g", 0)
    assert np.array_equal(bad.waveform, again.waveform)            # deterministic per (seed, stream, block, tel)
    late = faulty_events(TelescopeFaultSet(clock_offset_ns={3: 250.0}), ev, 4095, 1, "g", 0)
    assert np.allclose(late.trigger_time - ev.trigger_time, 250e-9, atol=1e-15)
    assert faulty_events(TelescopeFaultSet(clock_offset_ns={4: 250.0}), ev, 4095, 1, "g", 0) is ev


def test_runaway_triggers_at_their_rate_in_the_block():
    t = runaway_trigger_times(2e4, 3, "gamma", 2, 9, 1.0, 1.5)
    assert abs(t.size - 1e4) < 5 * np.sqrt(1e4)
    assert np.all(np.diff(t) >= 0) and t.min() >= 1.0 and t.max() <= 1.5
    assert np.array_equal(t, runaway_trigger_times(2e4, 3, "gamma", 2, 9, 1.0, 1.5))
    assert not np.array_equal(t[:100], runaway_trigger_times(2e4, 3, "gamma", 2, 8, 1.0, 1.5)[:100])


@pytest.fixture(scope="module")
def block(north):
    pop = Population("gamma", "gamma", {"type": "power_law", "index": -2.0}, n_showers=60, energy_min_tev=0.3,
                     energy_max_tev=10.0, max_scatter_m=200.0, rate_hz=2000.0)
    return ShowerSource(pop, north, *POINTING, 11, 60).block(0)


@pytest.fixture(scope="module")
def healthy(north, block):
    st = CameraStation(north, TELS, POINTING, 11, 2, n_pedestal_events=4)
    return st, st.simulate(block)


def test_station_applies_each_fault_and_counts_what_it_kept(north, block, healthy):
    st0, rep0 = healthy
    faults = TelescopeFaultSet(no_data=frozenset({1}), garbage=frozenset({2}), clock_offset_ns={3: 400.0},
                               runaway_hz={4: 1e4}, accidental_stream="gamma")
    st = CameraStation(north, TELS, POINTING, 11, 2, n_pedestal_events=4, telescope_faults=faults)
    rep = st.simulate(block)
    n1 = int((rep0.tel_id == 1).sum())
    assert n1 > 0 and rep.suppressed == {1: n1} and not (rep.tel_id == 1).any()
    shower = ~is_nsb_event(rep.event_id)
    for tel, shift in ((2, 0.0), (3, 400e-9)):
        mine, mine0 = (rep.tel_id == tel) & shower, rep0.tel_id == tel
        assert np.allclose(rep.trigger_time[mine], rep0.trigger_time[mine0] + shift, atol=1e-15)
    extra = int(((rep.tel_id == 4) & ~shower).sum())
    assert rep.nsb_live and abs(extra - 1e4 * 0.03) < 5 * np.sqrt(300) and not (~shower & (rep.tel_id != 4)).any()
    rows = st.buffer[("gamma", 0)][1]
    by_tel = dict(zip(rows["tel_id"].tolist(), range(4)))
    assert rows["n_triggers"][by_tel[1]] == 0 and rows["n_pedestal_events"][by_tel[1]] == 0
    assert rows["n_triggers"][by_tel[4]] == int((rep.tel_id == 4).sum())
    healthy_rows = st0.buffer[("gamma", 0)][1]
    assert rows["pedestal_std_adc"][by_tel[2]] > 50 * healthy_rows["pedestal_std_adc"][by_tel[2]]
    assert rows["pedestal_std_adc"][by_tel[3]] == healthy_rows["pedestal_std_adc"][by_tel[3]]

    trigger = CentralTrigger(north, 2, 100.0, POINTING)
    decision = trigger.decide("gamma", 0, block.truth(), rep)
    acc = decision.accounting
    acc.check(TRIGGER_BALANCES)
    assert acc.total(TELESCOPE_TRIGGERS_NO_DATA) == n1
    readout = st.readout("gamma", 0, decision)
    assert readout.events[1].n_events == 0
    assert readout.events[2].waveform.std() > 500        # garbage all the way to the readout


def _scenario(compare_healthy=False, **telescopes):
    return {"name": "t", "seed": 1, "particles": [{"name": "gamma", "particle": "gamma", "n_showers": 200}],
            "faults": {"instrument": {"telescopes": telescopes}, "compare_healthy": compare_healthy}}


def test_scenario_takes_faults_and_refuses_bad_ones_in_one_line():
    sc = validate_scenario(_scenario(broken=[{"tel_id": 2, "mode": "no_data"}, {"tel_id": 3, "mode": "garbage"}],
                                     clock_offset_ns={5: 300}, runaway_trigger=[{"tel_id": 6, "rate_hz": 5000}]))
    f = sc.telescope_fault_set()
    assert f.no_data == {2} and f.garbage == {3} and f.clock_offset_ns == {5: 300.0} and f.runaway_hz == {6: 5000.0}
    assert f.accidental_stream == "gamma"
    assert not sc.without_faults().faults.instrument.telescopes.any()
    bad = [
        (_scenario(broken=[{"tel_id": 99, "mode": "no_data"}]), "tel_id [99] not in layout north_alpha"),
        (_scenario(broken=[{"tel_id": 2, "mode": "dead"}]), "broken[0].mode"),
        (_scenario(runaway_trigger=[{"tel_id": 2, "rate_hz": 1e5}]), "at most 3000 triggers per block"),
        (_scenario(clock_offset_ns={2: 0}), "non-zero offsets"),
        (_scenario(compare_healthy=True, healthy_run="x"), "not both"),
    ]
    for data, message in bad:
        with pytest.raises(ConfigError) as err:
            validate_scenario(data, "f.yaml")
        assert message in str(err.value) and "\n" not in str(err.value)


def test_a_healthy_run_of_another_scenario_is_refused(tmp_path):
    sc = validate_scenario(_scenario(clock_offset_ns={5: 300}, healthy_run=str(tmp_path)))
    with pytest.raises(CtasimError, match="not a finished ctasim run"):
        load_healthy_run(tmp_path, sc)
    other = sc.without_faults().to_dict() | {"seed": 2}
    (tmp_path / "provenance.json").write_text(json.dumps({"scenario": other}))
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(CtasimError, match="differs in seed"):
        load_healthy_run(tmp_path, sc)


def test_nearest_peer_time_difference():
    tel = np.array([1, 2, 3, 1, 2])
    t = np.array([0.0, 100e-9, 1.0, 2.0, 2.0 + 3e-6])
    dt = nearest_peer_dt_ns(tel, t, 2)
    assert np.allclose(dt, [100.0, 3000.0])
    assert nearest_peer_dt_ns(tel, t, 3).size == 0          # 1 s from any other: no neighbour


def _measured(change=None):
    """Synthetic ``measure`` figures of 5 healthy MSTs; ``change`` maps tel_id to altered figures."""
    change = change or {}
    rng = np.random.default_rng(2)
    out = {}
    for tel in range(1, 6):
        out[tel] = {"type": "MST", "n_triggers": 100, "n_read_out": 90, "trigger_rate_hz": 500.0,
                    "pedestal_mean_adc": 255.0, "pedestal_std_adc": 6.0, "n_triggers_in_table": 100,
                    "peer_dt_ns": rng.normal(0.0, 5.0, 90)} | change.get(tel, {})
    return out


def test_each_fault_raises_its_flag_and_healthy_telescopes_none():
    assert assess(_measured())["flags"] == []
    cases = {
        "silent": {"n_triggers": 0, "n_read_out": 0, "n_triggers_in_table": 0, "peer_dt_ns": np.empty(0),
                   "pedestal_mean_adc": None, "pedestal_std_adc": None},
        "rate_anomaly": {"n_triggers": 900, "n_triggers_in_table": 900},
        "clock_offset": {"peer_dt_ns": np.random.default_rng(3).normal(400.0, 5.0, 90)},
        "garbage": {"pedestal_mean_adc": 2047.0, "pedestal_std_adc": 1180.0},
    }
    for flag, figures in cases.items():
        result = assess(_measured({3: figures}))
        assert [(f["tel_id"], f["flag"]) for f in result["flags"]] == [(3, flag)], flag
        assert result["telescopes"]["tel_003"]["flags"] == [flag]
    isolated = assess(_measured({4: {"peer_dt_ns": np.zeros(3)}}))
    assert [(f["tel_id"], f["flag"]) for f in isolated["flags"]] == [(4, "clock_offset")]
    assert "never coincides" in isolated["flags"][0]["reason"]
    # a runaway camera's triggers mostly lack a neighbour: that is not a clock offset
    runaway = assess(_measured({2: {"n_triggers": 900, "n_triggers_in_table": 900}}))
    assert [f["flag"] for f in runaway["flags"]] == ["rate_anomaly"]
