"""DL2 table assembly: DATA_MODEL.md column names, truth join, per-telescope split."""

import numpy as np
import pytest

from ctasim.datamodel.dl2 import DL2_EVENT_UNITS, DL2_TEL_UNITS
from ctasim.instrument.config import load_subarray
from ctasim.reco.dl2 import (
    build_dl2_events,
    build_dl2_telescope,
    split_per_telescope,
)
from ctasim.reco.stereo import reconstruct_stereo
from ctasim.reco.toy import toy_events

EVENT_COLUMNS = [
    "obs_id",
    "event_id",
    "time",
    "pointing_alt",
    "pointing_az",
    "reco_alt",
    "reco_az",
    "hillas_alt",
    "hillas_az",
    "reco_core_x",
    "reco_core_y",
    "reco_h_max",
    "reco_energy",
    "gammaness",
    "multiplicity",
    "is_valid",
]
TRUE_COLUMNS = [
    "true_energy",
    "true_alt",
    "true_az",
    "true_core_x",
    "true_core_y",
    "true_shower_primary_id",
]
TEL_COLUMNS = [
    "obs_id",
    "event_id",
    "tel_id",
    "impact_distance",
    "reco_energy_tel",
    "gammaness_tel",
    "disp_tel",
]


@pytest.fixture(scope="module")
def block():
    subarray = load_subarray("north_alpha")
    table, truth = toy_events(subarray, 50, seed=31, obs_id=7)
    perm = np.random.default_rng(0).permutation(table.size)
    table = table[perm]
    return table, truth, reconstruct_stereo(table, subarray, 70.0, 0.0)


def test_event_table(block):
    _, truth, stereo = block
    energy = np.arange(stereo.n_events, dtype=float)
    direction = (stereo.reco_alt + 0.01, stereo.reco_az)
    events = build_dl2_events(stereo, direction, energy, np.full(stereo.n_events, 0.5))
    assert list(events.dtype.names) == EVENT_COLUMNS
    assert np.isnan(events["time"]).all()
    assert (events["pointing_alt"] == 70.0).all()
    with_truth = build_dl2_events(stereo, direction, energy, np.zeros(stereo.n_events), truth=truth[::-1])
    assert list(with_truth.dtype.names) == EVENT_COLUMNS + TRUE_COLUMNS
    np.testing.assert_array_equal(with_truth["true_energy"], truth["true_energy"])
    np.testing.assert_array_equal(with_truth["time"], truth["time"])
    np.testing.assert_array_equal(with_truth["reco_alt"], direction[0])   # the direction given
    np.testing.assert_array_equal(with_truth["hillas_alt"], stereo.reco_alt)   # the plane intersection
    no_direction = build_dl2_events(stereo, (np.full(stereo.n_events, np.nan), stereo.reco_az), energy, energy)
    assert stereo.is_valid.any() and not no_direction["is_valid"].any()
    assert set(DL2_EVENT_UNITS) <= set(with_truth.dtype.names)
    with pytest.raises(ValueError, match="not in table"):
        build_dl2_events(stereo, direction, energy, energy, truth=truth[1:])


def test_telescope_table_and_split(block):
    table, _, stereo = block
    tel = build_dl2_telescope(table, stereo, np.ones(table.size), np.zeros(table.size), np.full(table.size, 0.3))
    assert list(tel.dtype.names) == TEL_COLUMNS
    assert set(DL2_TEL_UNITS) <= set(tel.dtype.names)
    np.testing.assert_array_equal(tel["impact_distance"], stereo.impact_distance)
    assert (tel["disp_tel"] == 0.3).all()
    parts = split_per_telescope(tel)
    assert sum(p.size for p in parts.values()) == tel.size
    for tel_id, part in parts.items():
        assert (part["tel_id"] == tel_id).all()
        assert (np.diff(part["event_id"]) > 0).all()
