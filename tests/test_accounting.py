"""Accounting closes when every event ends in one state, and names the identity when it does not."""

import json

import pytest

from ctasim import accounting as A
from ctasim.array_trigger import array_trigger


def _trigger_block():
    # layout: tel 1, 2 LST; tel 3 MST. Shower 10: 3 tels, shower 11: 1 tel (below), 12: none
    r = array_trigger([1, 2, 3, 3], [10, 10, 10, 11], [0.0, 1e-8, 2e-8, 1.0], [1, 2, 3], 2, 100.0)
    return r, ["LST", "LST", "MST"]


def _closed_run():
    acc = A.Accounting()
    r, types = _trigger_block()
    acc.add(A.SHOWERS_SIMULATED, 3, "gamma")
    acc.record_array_trigger(r, "gamma", n_showers=3, tel_types=types)
    acc.add(A.ARRAY_EVENTS_ARCHIVED, 1, "gamma")
    acc.add(A.TELESCOPE_EVENTS_ARCHIVED, 2, "gamma", "LST")
    acc.add(A.TELESCOPE_EVENTS_ARCHIVED, 0, "gamma", "MST")
    acc.add(A.TELESCOPE_EVENTS_LOST + ".archive_write", 1, "gamma", "MST")
    return acc


def test_closed_run_checks_and_counts():
    acc = _closed_run()
    acc.check()
    assert acc.total(A.SHOWERS_NO_TELESCOPE_TRIGGER) == 1
    assert acc.total(A.SHOWERS_BELOW_MULTIPLICITY) == 1
    assert acc.total(A.TELESCOPE_TRIGGERS, tel_type="MST") == 2
    assert acc.total(A.TELESCOPE_TRIGGERS_DROPPED + ".*") == 1
    d = acc.to_dict()
    assert d["stages"][A.TELESCOPE_TRIGGERS]["by_tel_type"] == {"LST": 2, "MST": 2}
    assert A.Accounting.from_dict(json.loads(json.dumps(d))).counts == acc.counts


def test_merge_of_actors():
    merged = A.Accounting.merged([_closed_run(), _closed_run()])
    merged.check()
    assert merged.total(A.SHOWERS_SIMULATED) == 6


def test_open_accounting_raises_naming_the_mismatch():
    acc = _closed_run()
    acc.add(A.TELESCOPE_EVENTS_ARCHIVED, 1, "gamma", "LST")  # counted twice
    with pytest.raises(
        A.AccountingError,
        match=r"tel_type='LST'.*telescope_events_read_out = 2 but "
        r"telescope_events_archived \+ telescope_events_lost\.\* = 3",
    ):
        acc.check()
    acc2 = A.Accounting()
    acc2.add(A.SHOWERS_SIMULATED, 5, "proton")
    with pytest.raises(A.AccountingError, match="showers_simulated = 5"):
        acc2.check()
    acc2.check(balances=())  # a chain may choose which identities apply


def test_rate_meter():
    m1, m2 = A.RateMeter(), A.RateMeter()
    m1.add("r1", 1000, n_events=2, tel_type="LST", tel_id=1)
    m1.add("dl0", 100, n_events=2, tel_type="LST", tel_id=1)
    m2.add("r1", 3000, n_events=2, tel_type="MST", tel_id=3)
    m2.add("dl0", 200, n_events=2, tel_type="MST", tel_id=3)
    m1.add_time_span(0.0, 1.0)
    m2.add_time_span(1.0, 2.0)
    m = A.RateMeter().merge(m1, m2)
    d = json.loads(json.dumps(m.to_dict()))
    assert d["simulated_seconds"] == 2.0
    assert d["stages"]["r1"]["bytes_per_s"] == 2000.0
    assert d["stages"]["r1"]["gbit_per_s"] == pytest.approx(2000 * 8 / 1e9)
    assert d["stages"]["r1"]["by_tel_type"]["MST"]["bytes_per_event"] == 1500.0
    assert d["stages"]["dl0"]["by_telescope"]["tel_001"]["bytes"] == 100
    red = m.reduction({"dvr": ["r1", "dl0"]})
    assert red["dvr"]["overall"] == pytest.approx(4000 / 300)
    assert A.RateMeter.from_dict(d).to_dict() == m.to_dict()
    assert A.RateMeter().to_dict()["simulated_seconds"] == 0.0


def test_rate_meter_sums_streams_over_their_own_time_spans():
    m = A.RateMeter()
    m.add("r1", 1000, n_events=10, tel_type="LST", tel_id=1, stream="gamma")
    m.add("r1", 500, n_events=5, tel_type="LST", tel_id=1, stream="proton")
    m.add_time_span(0.0, 1.0, "gamma")  # gammas at a low rate: 1 s for their showers
    m.add_time_span(0.0, 0.1, "proton")  # protons ten times faster
    d = m.to_dict()
    assert d["stages"]["r1"]["bytes_per_s"] == pytest.approx(1000 / 1.0 + 500 / 0.1)
    assert d["streams"]["proton"]["seconds"] == pytest.approx(0.1)
    assert A.RateMeter.from_dict(d).to_dict() == d
