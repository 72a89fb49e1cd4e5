"""Block reducer: DL0 of the archived variant, bytes of every variant's steps, truth impacts."""

from __future__ import annotations

import numpy as np
import pytest

from ctasim.accounting import reduction_stage
from ctasim.datamodel.monitoring import CAMERA_MONITORING_DTYPE
from ctasim.datamodel.r1 import r1_event_nbytes
from ctasim.datamodel.simulation import IMPACT_DTYPE
from ctasim.dl0.reduction import ReductionConfig
from ctasim.dl0.testing import synthetic_r1, toy_images
from ctasim.onsite.camera_station import Readout
from ctasim.onsite.reducer import BlockReducer

CONFIGS = [ReductionConfig.for_variant("pixel_selection"), ReductionConfig.for_variant("integrated")]


def readout(north, tel_ids, n_events, seed):
    """A camera station's readout of synthetic events (no events for n_events 0)."""
    rng = np.random.default_rng(seed)
    events = {}
    for tel_id in tel_ids:
        tel = north.tel(tel_id)
        charge, times = toy_images(tel, n_events, rng)
        ev = synthetic_r1(tel, charge, times, rng, tel_id=tel_id)
        ev.true_impact_distance = rng.uniform(0, 300, n_events).astype(np.float32)
        events[tel_id] = ev
    rows = np.zeros(len(tel_ids), CAMERA_MONITORING_DTYPE)
    rows["tel_id"] = tel_ids
    return Readout(events, dict.fromkeys(tel_ids, 0), rows)


@pytest.fixture(scope="module")
def reduced(north):
    readouts = [readout(north, [1, 2], 6, 1), readout(north, [5], 4, 2), readout(north, [6], 0, 3)]
    return readouts, BlockReducer(north, CONFIGS).reduce("gamma", 3, *readouts)


def test_archived_variant_only_one_block_per_telescope_with_events(reduced):
    _, red = reduced
    assert [b.tel_id for b in red.blocks] == [1, 2, 5]
    assert all(b.block_index == 3 and b.stream == "gamma" for b in red.blocks)
    assert all("waveform" in b.payload for b in red.blocks)  # pixel selection keeps some waveforms
    assert red.n_events_reduced == {1: 6, 2: 6, 5: 4}
    assert red.timing == {}


def test_every_variant_is_metered(north, reduced):
    _, red = reduced
    lst, mst = north.tel(1).camera, north.tel(5).camera
    raw = 12 * r1_event_nbytes(lst.geometry.n_pixels, lst.readout.n_channels, lst.readout.n_samples) \
        + 4 * r1_event_nbytes(mst.geometry.n_pixels, mst.readout.n_channels, mst.readout.n_samples)
    r1 = {v: red.rates.stage_bytes(reduction_stage(v, "r1")) for v in ("pixel_selection", "integrated")}
    assert r1["pixel_selection"] == r1["integrated"]
    assert raw <= r1["integrated"] < 1.001 * raw  # the waveforms, plus the id columns
    for variant in r1:
        assert 0 < red.rates.stage_bytes(reduction_stage(variant, "compression")) < raw / 10
    kept, seen = red.waveform_pixels["integrated"]
    assert kept == 0 and seen == 12 * lst.geometry.n_pixels + 4 * mst.geometry.n_pixels
    kept, seen = red.waveform_pixels["pixel_selection"]
    assert 0 < kept < seen


def test_impact_rows_carry_the_truth(reduced):
    readouts, red = reduced
    assert sorted(red.impact) == [1, 2, 5]
    for tel_id, rows in red.impact.items():
        ev = next(r.events[tel_id] for r in readouts if tel_id in r.events)
        assert rows.dtype == IMPACT_DTYPE
        assert rows["event_id"].tolist() == ev.event_id.tolist() and np.all(rows["tel_id"] == tel_id)
        assert np.array_equal(rows["true_impact_distance"], ev.true_impact_distance)
        assert np.array_equal(rows["true_image_intensity"], ev.true_image.sum(axis=1).astype(np.float32))


def test_monitoring_rows_of_every_station_travel_on(reduced):
    _, red = reduced
    assert red.monitoring.dtype == CAMERA_MONITORING_DTYPE and red.monitoring["tel_id"].tolist() == [1, 2, 5, 6]
