"""Accidental (NSB-only) camera triggers: their rate, their injection and their stereo coincidences."""

from __future__ import annotations

import numpy as np
import pytest

from ctasim.accounting import TRIGGER_BALANCES
from ctasim.array_trigger import array_trigger
from ctasim.datamodel.ids import is_nsb_event, nsb_event_ids
from ctasim.datamodel.trigger import NSB_ONLY_EVENT, READ_OUT
from ctasim.onsite import camera_station
from ctasim.onsite.camera_station import CameraStation
from ctasim.onsite.central_trigger import CentralTrigger
from ctasim.rng import block_rng
from ctasim.sim.electronics import make_noise_trace
from ctasim.sim.source import Population, ShowerSource
from ctasim.sim.trigger import AccidentalRate, _camera_crossings, accidental_rate, group_upcrossing_probability

POINTING = (70.0, 0.0)
LST = 1


def _lst(north):
    cam = north.tel(LST).camera
    dt = cam.readout.sample_width_ns
    return cam, dt, max(1, round(cam.trigger.window_ns / dt))


def test_upcrossing_model_matches_a_direct_count():
    rng = np.random.default_rng(3)
    x = rng.poisson(1.0, 1_000_000)
    s = np.convolve(x, np.ones(4, int))[3:x.size]
    counted = ((s[1:] >= 9) & (s[:-1] < 9)).mean()
    assert counted == pytest.approx(group_upcrossing_probability(np.array([1.0]), 4, 9)[0], rel=0.05)


def test_rate_rises_steeply_as_the_threshold_falls(north):
    cam, dt, window = _lst(north)
    trace = make_noise_trace(block_rng(5, "nsb/test"), cam, 4096)
    geom = cam.geometry
    rate = np.full(geom.n_pixels, cam.nsb_rate_ghz)
    thresholds = np.arange(20, 31)
    est = [accidental_rate(trace.nsb_counts, rate, geom.neighbors_indptr, geom.neighbors_indices, t, window,
                           dt).rate_hz for t in thresholds]
    assert np.all(np.diff(est) < 0)
    assert np.all(np.asarray(est[:-1]) / np.asarray(est[1:]) > 3.0)   # > 3x per p.e. of threshold
    assert est[0] / est[-1] > 1e4                                        # 10 p.e.: > 4 decades
    # where counting is possible the camera logic itself agrees: monotonic counts
    counts = _camera_crossings(trace.nsb_counts, geom.neighbors_indptr, geom.neighbors_indices,
                               np.arange(17, 25, dtype=np.int64), window)
    assert np.all(np.diff(counts) <= 0) and counts[0] > 30 * max(counts[-1], 1)


def test_doubling_the_nsb_raises_the_rate(north):
    cam, dt, window = _lst(north)
    geom = cam.geometry
    rates = []
    for scale in (1.0, 2.0):
        trace = make_noise_trace(block_rng(5, "nsb/test"), cam, 4096, np.full(geom.n_pixels, scale))
        rate = np.full(geom.n_pixels, cam.nsb_rate_ghz * scale)
        rates.append(accidental_rate(trace.nsb_counts, rate, geom.neighbors_indptr, geom.neighbors_indices,
                                     cam.trigger.threshold_pe, window, dt).rate_hz)
    assert rates[1] > 100 * rates[0] > 0


def _block(north, n_showers=50):
    """A block of faint gammas (few or no camera triggers) and its source."""
    pop = Population("faint", "gamma", {"type": "power_law", "index": -2.0}, n_showers=n_showers,
                     energy_min_tev=0.005, energy_max_tev=0.01, max_scatter_m=300.0, rate_hz=5e3)
    return ShowerSource(pop, north, *POINTING, 11, n_showers).block(0)


def _station(north, nsb_stream="faint"):
    return CameraStation(north, north.tel_ids.tolist(), POINTING, 11, 4, n_pedestal_events=0, nsb_stream=nsb_stream)


@pytest.fixture
def fixed_rate(monkeypatch):
    """Skip the measurement: 2e5 Hz for every camera (and a cache of this test's own)."""
    monkeypatch.setattr(camera_station, "_HEALTHY_ACCIDENTALS", {})
    monkeypatch.setattr(CameraStation, "_measure_accidentals",
                        lambda *_: AccidentalRate(2e5, 0, 0.0, 1.0, 0, 0.0, 0, 0.0))
    return 2e5


def test_accidentals_are_injected_at_the_rate(north, fixed_rate):
    block = _block(north)
    st = _station(north)
    report = st.simulate(block)
    nsb = is_nsb_event(report.event_id)
    span = block.t_stop - block.t_start
    expected = fixed_rate * span * len(st.tel_ids)
    assert abs(nsb.sum() - expected) < 4 * np.sqrt(expected)
    t = report.trigger_time[nsb]
    assert np.all((t >= block.t_start) & (t <= block.t_stop))
    assert np.unique(report.event_id[nsb]).size == nsb.sum()
    assert report.nsb_live


def test_switch_off_changes_nothing(north):
    block = _block(north)
    trig = CentralTrigger(north, 2, 100.0, POINTING)
    tables = []
    for stream in (None, "another_stream"):     # off, and on for another stream only
        st = _station(north, nsb_stream=stream)
        report = st.simulate(block)
        d = trig.decide(block.stream, 0, block.truth(), report)
        tables.append((d.result.trigger_table(1).tobytes(), d.result.telescope_trigger_table(1).tobytes(),
                       sorted(d.accounting.counts.items())))
    assert tables[0] == tables[1]


def test_chance_coincidences_of_two_telescopes():
    rng = np.random.default_rng(2)
    rate, span, window_ns = 2e5, 0.05, 100.0       # 2e5 Hz x 0.05 s = 1e4 triggers per telescope
    tel, tt = [], []
    for tel_id in (1, 2):
        n = rng.poisson(rate * span)
        tel.append(np.full(n, tel_id, np.int16))
        tt.append(np.sort(rng.uniform(0, span, n)))
    # more than 4096 per telescope and block: number them in chunks of 4096
    ev = [np.concatenate([nsb_event_ids(b, tel_id, min(4096, x.size - 4096 * b))
                          for b in range(-(-x.size // 4096))]) for tel_id, x in zip((1, 2), tt)]
    r = array_trigger(np.concatenate(tel), np.concatenate(ev), np.concatenate(tt), np.array([1, 2]), 2, window_ns)
    expected = 2 * rate**2 * window_ns * 1e-9 * span      # 2 R^2 tau per pair
    assert r.n_events == 0
    assert expected / 2 < r.n_nsb_events < 2 * expected
    assert np.all(r.fate[r.fate != NSB_ONLY_EVENT] != READ_OUT)


def test_accidental_joins_a_single_telescope_shower():
    # one shower seen by tel 1 only, an accidental in tel 2 50 ns later: one array event
    ids = np.array([7, nsb_event_ids(0, 2, 1)[0]])
    r = array_trigger(np.array([1, 2]), ids, np.array([1.0, 1.0 + 50e-9]), np.array([1, 2]), 2, 100.0)
    assert r.n_events == 1 and r.event_id[0] == 7 and r.multiplicity[0] == 2
    assert list(r.fate) == [READ_OUT, READ_OUT] and r.n_nsb_events == 0
    assert not r.nsb_trigger.any()


def test_readout_of_an_accidental_in_a_shower_event(north, fixed_rate):
    block = _block(north)
    st = _station(north)
    report = st.simulate(block)
    trig = CentralTrigger(north, 2, 100.0, POINTING)
    d = trig.decide(block.stream, 0, block.truth(), report)
    d.accounting.check(balances=TRIGGER_BALANCES)
    ro = st.readout(block.stream, 0, d)
    n_out = sum(e.n_events for e in ro.events.values())
    assert n_out == sum(a.size for a in d.accepted.values())
    for e in ro.events.values():       # every read-out event carries its array event's (shower) id
        assert not is_nsb_event(e.event_id).any()
        assert np.isin(e.event_id, d.result.event_id).all()
