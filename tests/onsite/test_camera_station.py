"""Camera station: bounded R1 buffer, readout of the accepted events, monitoring from pedestal events."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ctasim.datamodel.monitoring import CAMERA_MONITORING_DTYPE
from ctasim.instrument.config import load_subarray
from ctasim.onsite.camera_station import PEDESTAL_EVENTS_PER_BLOCK, CameraStation, FlowControlError
from ctasim.sim.electronics import pedestal_variance_pe2
from ctasim.sim.source import Population, ShowerSource

POINTING = (70.0, 0.0)  # alt, az (deg)

TEL_IDS = [1, 2, 5, 6]  # two LSTs, two MSTs of North Alpha


@pytest.fixture(scope="module")
def blocks(north):
    pop = Population("gamma", "gamma", n_showers=120, energy_min_tev=0.3, energy_max_tev=30.0,
                     max_scatter_m=400.0, rate_hz=2000.0)
    source = ShowerSource(pop, north, *POINTING, 3, 60)
    return [source.block(i) for i in range(source.n_blocks)]


def decision(accepted):
    """The part of a central-trigger Decision a camera station reads."""
    return SimpleNamespace(accepted=accepted)


def test_readout_ships_accepted_events_and_counts_the_others(north, blocks):
    station = CameraStation(north, TEL_IDS, POINTING, 3, max_buffered_blocks=2)
    block = blocks[0]
    report = station.simulate(block)
    assert report.tel_id.size == report.event_id.size == report.trigger_time.size > 0
    triggered = {t: report.event_id[report.tel_id == t] for t in TEL_IDS}
    accepted = {t: ids[::2] for t, ids in triggered.items()}
    readout = station.readout(block.stream, block.block_index, decision(accepted))
    assert not station.buffer
    rows = readout.monitoring
    assert rows.dtype == CAMERA_MONITORING_DTYPE and rows["tel_id"].tolist() == TEL_IDS
    for row, tel_id in enumerate(TEL_IDS):
        events = readout.events[tel_id]
        assert events.event_id.tolist() == accepted[tel_id].tolist()
        assert readout.n_dropped[tel_id] == triggered[tel_id].size - accepted[tel_id].size
        assert rows["n_triggers"][row] == triggered[tel_id].size
        assert rows["n_read_out"][row] == events.n_events
    assert np.allclose(rows["trigger_rate_hz"], rows["n_triggers"] / (block.t_stop - block.t_start))
    assert np.all(rows["time"] == block.t_stop)


def test_buffer_is_bounded_and_readout_needs_a_buffered_block(north, blocks):
    station = CameraStation(north, [5], POINTING, 3, max_buffered_blocks=1, n_pedestal_events=0)
    station.simulate(blocks[0])
    with pytest.raises(FlowControlError, match="buffer full"):
        station.simulate(blocks[1])
    with pytest.raises(FlowControlError, match="not in the camera buffer"):
        station.readout(blocks[1].stream, blocks[1].block_index, decision({}))
    readout = station.readout(blocks[0].stream, blocks[0].block_index, decision({}))
    assert readout.events[5].n_events == 0 and readout.n_dropped[5] == readout.monitoring["n_triggers"][0]
    station.simulate(blocks[1])  # room again


@pytest.mark.parametrize("layout, tel_id", [("north_alpha", 1), ("north_alpha", 5), ("south_alpha", 1),
                                            ("south_alpha", 15)])
def test_pedestal_matches_the_configured_baseline_and_noise(layout, tel_id):
    sub = load_subarray(layout)
    station = CameraStation(sub, [tel_id], POINTING, 3, max_buffered_blocks=1)
    camera = sub.tel(tel_id).camera
    ro = camera.readout
    # NSB adds a small positive offset (~1-2 % of the baseline) on top of pedestal_adc
    expected_std = ro.gain_adc_per_pe[0] * np.sqrt(pedestal_variance_pe2(camera))
    for block_index in range(3):
        mean, std = station.pedestal(tel_id, "gamma", block_index)
        assert mean == pytest.approx(ro.pedestal_adc, rel=0.03)
        assert mean > ro.pedestal_adc
        assert std == pytest.approx(expected_std, rel=0.1)


def test_pedestal_events_leave_the_shower_events_unchanged(north, blocks):
    block = blocks[1]
    with_ped = CameraStation(north, TEL_IDS, POINTING, 3, 1)
    without = CameraStation(north, TEL_IDS, POINTING, 3, 1, n_pedestal_events=0)
    a, b = with_ped.simulate(block), without.simulate(block)
    assert a.event_id.tolist() == b.event_id.tolist() and a.trigger_time.tolist() == b.trigger_time.tolist()
    accepted = {t: a.event_id[a.tel_id == t] for t in TEL_IDS}
    ra = with_ped.readout(block.stream, block.block_index, decision(accepted))
    rb = without.readout(block.stream, block.block_index, decision(accepted))
    for tel_id in TEL_IDS:
        assert np.array_equal(ra.events[tel_id].waveform, rb.events[tel_id].waveform)
    assert np.all(ra.monitoring["n_pedestal_events"] == PEDESTAL_EVENTS_PER_BLOCK)
    # no pedestal events: counted as such, values 0, never NaN
    assert np.all(rb.monitoring["n_pedestal_events"] == 0)
    assert np.all(rb.monitoring["pedestal_mean_adc"] == 0) and np.all(rb.monitoring["pedestal_std_adc"] == 0)
    for rows in (ra.monitoring, rb.monitoring):
        assert all(np.isfinite(rows[n]).all() for n in rows.dtype.names)
    with pytest.raises(ValueError, match="no pedestal events"):
        without.pedestal(1, block.stream, block.block_index)


def test_pedestal_events_differ_per_block_and_stream(north):
    station = CameraStation(north, [1], POINTING, 3, 1)
    figures = {station.pedestal(1, s, i) for s in ("gamma", "proton") for i in range(2)}
    assert len(figures) == 4
    assert station.pedestal(1, "gamma", 0) == CameraStation(north, [1, 5], POINTING, 3, 1).pedestal(1, "gamma", 0)
