"""Central trigger: accepted event ids per telescope, accounting of every trigger, R1 bytes."""

from __future__ import annotations

import numpy as np

from ctasim.accounting import STAGE_R1_CAMERA, STAGE_R1_READOUT, TRIGGER_BALANCES
from ctasim.datamodel.r1 import r1_event_nbytes
from ctasim.datamodel.simulation import SHOWER_DTYPE, ShowerTruth
from ctasim.onsite.camera_station import TriggerReport
from ctasim.onsite.central_trigger import CentralTrigger

POINTING = (70.0, 0.0)  # alt, az (deg)


def report(tel_id, event_id, trigger_time):
    return TriggerReport(np.asarray(tel_id, np.int16), np.asarray(event_id, np.int64),
                         np.asarray(trigger_time, np.float64))


def test_decision_accepts_coincident_showers_and_meters_r1(north):
    showers = np.zeros(3, SHOWER_DTYPE)
    showers["obs_id"], showers["event_id"] = 1, [10, 11, 12]
    truth = ShowerTruth("gamma", 0, showers, 0.0, 0.5)
    trigger = CentralTrigger(north, 2, 1000.0, POINTING)
    # shower 10 seen by LSTs 1, 2 (one station) and MST 5 (another); shower 11 by MST 6 alone
    decision = trigger.decide("gamma", 0, truth, report([1, 2], [10, 10], [0.1, 0.1]),
                              report([5, 6], [10, 11], [0.1, 0.3]))
    assert decision.result.event_id.tolist() == [10]
    assert {t: ids.tolist() for t, ids in decision.accepted.items() if ids.size} == {1: [10], 2: [10], 5: [10]}
    assert set(decision.accepted) == set(north.tel_ids.tolist())
    decision.accounting.check(TRIGGER_BALANCES)
    lst, mst = north.tel(1).camera, north.tel(5).camera
    lst_bytes = r1_event_nbytes(lst.geometry.n_pixels, lst.readout.n_channels, lst.readout.n_samples)
    mst_bytes = r1_event_nbytes(mst.geometry.n_pixels, mst.readout.n_channels, mst.readout.n_samples)
    assert lst_bytes == 1855 * 2 * 40 * 2
    assert decision.rates.stage_bytes(STAGE_R1_CAMERA) == 2 * lst_bytes + 2 * mst_bytes
    assert decision.rates.stage_bytes(STAGE_R1_READOUT) == 2 * lst_bytes + mst_bytes
    assert decision.rates.stream_seconds("gamma") == 0.5
    assert decision.accounting.total("showers_simulated") == 3
    assert decision.accounting.total("showers_no_telescope_trigger") == 1


def test_no_trigger_at_all_closes_too(north):
    showers = np.zeros(2, SHOWER_DTYPE)
    trigger = CentralTrigger(north, 2, 1000.0, POINTING)
    decision = trigger.decide("proton", 4, ShowerTruth("proton", 4, showers, 2.0, 2.5), report([], [], []))
    assert decision.result.n_events == 0 and all(ids.size == 0 for ids in decision.accepted.values())
    decision.accounting.check(TRIGGER_BALANCES)
    assert decision.rates.stage_bytes(STAGE_R1_CAMERA) == 0
