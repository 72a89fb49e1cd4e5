"""Stereo trigger on hand-made trigger lists with known answers, and against a plain reference."""

import numpy as np
import pytest

from ctasim.array_trigger import StereoTrigger, array_trigger
from ctasim.datamodel.trigger import BELOW_MULTIPLICITY, DUPLICATE, OUTSIDE_WINDOW, READ_OUT

LAYOUT = np.array([5, 1, 3, 7], np.int16)  # deliberately not sorted: columns follow the layout
NS = 1e-9


def run(triggers, min_tels=2, window_ns=100.0, layout=LAYOUT):
    """triggers: list of (tel_id, event_id, time_s)."""
    tel, ev, t = (np.array(c) for c in zip(*triggers)) if triggers else ([], [], [])
    return array_trigger(tel, ev, t, layout, min_tels, window_ns)


def test_two_showers_known_answer():
    t0 = 1234.5
    r = run(
        [
            (1, 10, t0),
            (3, 10, t0 + 40 * NS),
            (7, 10, t0 + 900 * NS),  # 7 outside the window
            (5, 11, t0 + 1e-3),
        ]
    )  # alone: below multiplicity
    assert r.event_id.tolist() == [10]
    assert r.time.tolist() == [t0]
    assert r.tels_with_trigger.tolist() == [[False, True, True, False]]
    assert r.multiplicity.tolist() == [2]
    assert r.fate.tolist() == [READ_OUT, READ_OUT, OUTSIDE_WINDOW, BELOW_MULTIPLICITY]
    assert r.trigger_event_row.tolist() == [0, 0, -1, -1]
    assert r.fate_counts() == {
        "read_out": 2,
        "below_multiplicity": 1,
        "outside_window": 1,
        "duplicate": 0,
    }
    assert r.n_showers_triggered == 2 and r.n_showers_below_multiplicity == 1
    assert r.readout_event_ids(3).tolist() == [10] and r.readout_event_ids(7).size == 0
    table = r.trigger_table(obs_id=4)
    assert table["obs_id"].tolist() == [4] and table["tels_with_trigger"].shape == (1, 4)


@pytest.mark.parametrize(
    "dt_ns,accepted", [(100.0, True), (100.0009, True), (100.01, False), (101.0, False)]
)
def test_window_edge_is_inclusive(dt_ns, accepted):
    t0 = 3600.123456789  # large absolute time: float rounding must not move the edge
    r = run([(1, 1, t0), (3, 1, t0 + dt_ns * NS)], window_ns=100.0)
    assert (r.n_events == 1) == accepted


def test_min_telescopes_one_accepts_every_triggered_shower():
    r = run([(1, 1, 0.0), (3, 2, 1.0), (5, 3, 2.0), (7, 3, 2.0 + 10 * NS)], min_tels=1)
    assert r.event_id.tolist() == [1, 2, 3]
    assert r.multiplicity.tolist() == [1, 1, 2]
    assert (r.fate == READ_OUT).all()


def test_empty_input():
    r = run([])
    assert r.n_events == 0 and r.tels_with_trigger.shape == (0, 4)
    assert r.n_showers_triggered == 0 and sum(r.fate_counts().values()) == 0


def test_pileup_is_kept_separate_and_counted():
    # two showers, one telescope each, 30 ns apart: a truth-blind trigger would merge them
    r = run([(1, 1, 5.0), (3, 2, 5.0 + 30 * NS), (5, 3, 9.0), (7, 3, 9.0)])
    assert r.event_id.tolist() == [3]
    assert r.fate.tolist() == [BELOW_MULTIPLICITY, BELOW_MULTIPLICITY, READ_OUT, READ_OUT]
    assert r.n_pileup_showers == 2


def test_duplicate_trigger_of_one_telescope():
    r = run([(1, 1, 0.0), (1, 1, 20 * NS), (3, 1, 50 * NS)])
    assert r.fate.tolist() == [READ_OUT, DUPLICATE, READ_OUT] and r.multiplicity.tolist() == [2]


def test_best_window_of_a_shower_wins():
    # first window holds one telescope, the second three: the second is the candidate
    r = run([(1, 1, 0.0), (3, 1, 500 * NS), (5, 1, 520 * NS), (7, 1, 540 * NS)])
    assert r.time.tolist() == [500 * NS]
    assert r.fate.tolist() == [OUTSIDE_WINDOW, READ_OUT, READ_OUT, READ_OUT]


def test_validation():
    with pytest.raises(ValueError, match="not in the layout"):
        run([(2, 1, 0.0)])
    with pytest.raises(ValueError, match="min_telescopes"):
        run([(1, 1, 0.0)], min_tels=0)


def _reference(tel, ev, t, layout, min_tels, window_s):
    """Plain-Python statement of the documented semantics, one shower at a time."""
    col = {int(x): i for i, x in enumerate(layout)}
    fate = np.full(tel.size, -1)
    events = {}
    for e in np.unique(ev):
        idx = sorted(np.flatnonzero(ev == e), key=lambda k: (t[k], col[int(tel[k])]))
        windows, cur = [], []
        for k in idx:
            if cur and t[k] - t[cur[0]] > window_s:
                windows.append(cur)
                cur = []
            cur.append(k)
        windows.append(cur)
        best = max(windows, key=lambda w: (len({int(tel[k]) for k in w}), -t[w[0]]))
        mult = len({int(tel[k]) for k in best})
        seen = set()
        for w in windows:
            for k in w:
                if w is not best:
                    fate[k] = OUTSIDE_WINDOW
                elif int(tel[k]) in seen:
                    fate[k] = DUPLICATE
                else:
                    seen.add(int(tel[k]))
                    fate[k] = READ_OUT if mult >= min_tels else BELOW_MULTIPLICITY
        if mult >= min_tels:
            events[int(e)] = (
                t[best[0]],
                sorted(col[int(tel[k])] for k in best if fate[k] == READ_OUT),
            )
    return fate, events


def test_matches_reference_on_random_triggers_in_any_order():
    rng = np.random.default_rng(5)
    n_showers, layout = 400, np.arange(1, 14, dtype=np.int16)
    ev = rng.integers(0, n_showers, 3000)
    t = 1e3 + ev * 3e-7 + rng.exponential(150e-9, ev.size)  # showers 300 ns apart: pile-up
    tel = rng.integers(1, 14, ev.size).astype(np.int16)
    trig = StereoTrigger(layout, min_telescopes=3, window_ns=200.0)
    r = trig.process(tel, ev, t)
    fate, events = _reference(tel, ev, t, layout, 3, (200.0 + 1e-3) * 1e-9)
    np.testing.assert_array_equal(r.fate, fate)
    assert r.event_id.tolist() == sorted(events, key=lambda e: (events[e][0], e))
    for row, e in enumerate(r.event_id.tolist()):
        assert r.time[row] == events[e][0]
        assert np.flatnonzero(r.tels_with_trigger[row]).tolist() == sorted(set(events[e][1]))
    perm = rng.permutation(ev.size)
    r2 = trig.process(tel[perm], ev[perm], t[perm])
    np.testing.assert_array_equal(r2.fate, r.fate[perm])
    np.testing.assert_array_equal(r2.tels_with_trigger, r.tels_with_trigger)
    assert r.n_pileup_showers > 0
