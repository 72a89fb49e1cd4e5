"""On-site reducer: round trips, pixel selection, byte accounting, codecs, DL0 calibration."""

import numpy as np
import pytest

from ctasim.dl0.calibration import r1_to_dl1
from ctasim.dl0.pixel_selection import dvr_pixel_selection, select_pixels
from ctasim.dl0.reduction import (
    STAGES,
    OnsiteReducer,
    ReductionConfig,
    calibrate_dl0,
)
from ctasim.dl0.testing import toy_images

#: samples of a pulse's peak from the window edge within which its charge is cut (the extractor's reach)
EDGE_SAMPLES = 3
CONFIGS = {
    "raw": ReductionConfig.for_variant("raw"),
    "integrated": ReductionConfig.for_variant("integrated"),
    "pixel_selection": ReductionConfig.for_variant("pixel_selection"),
    "pixsel_window": ReductionConfig.for_variant("pixel_selection", window_samples=20),
    "dropped_window": ReductionConfig.for_variant("pixel_selection", integrate=False, window_samples=20),
    "raw_gain_window": ReductionConfig.for_variant("raw", gain_selection=True, window_samples=24),
    "pixsel_sparse": ReductionConfig.for_variant("pixel_selection", keep_unselected_charges=False),
    "raw_delta_codec": ReductionConfig.for_variant("raw", codec="delta-blosc2-zstd-bitshuffle"),
}


@pytest.fixture(scope="module")
def reduced(north, lst_block):
    events = lst_block[0]
    return {name: OnsiteReducer(north, cfg).reduce(events, "gamma", 3) for name, cfg in CONFIGS.items()}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_round_trip_gives_back_kept_data(reduced, lst_block, north, name):
    events = lst_block[0]
    block, stats = reduced[name]
    cfg = CONFIGS[name]
    cols = block.decode()
    assert block.n_events == events.n_events and block.block_index == 3
    np.testing.assert_array_equal(cols["event_id"], events.event_id)
    np.testing.assert_array_equal(cols["trigger_time"], events.trigger_time)
    charge, peak_time, gain = r1_to_dl1(events.waveform, north.tel(events.tel_id))
    if cfg.integrate:
        stored = cols["pixel_mask"] if cfg.sparse_charges else slice(None)   # sparse: rows of the mask
        np.testing.assert_array_equal(cols["charge"], charge[stored])
        np.testing.assert_array_equal(cols["peak_time"], peak_time[stored])
    assert ("waveform" in cols) == cfg.stores_waveforms
    if not cfg.stores_waveforms:
        return
    mask = cols.get("pixel_mask", np.ones(charge.shape, bool))
    e, p = np.nonzero(mask)
    start = cols.get("window_start", np.zeros(len(e), np.uint16))
    n_w = cols["waveform"].shape[-1]
    samples = start[e][:, None] + np.arange(n_w)
    if cfg.gain_selection:
        np.testing.assert_array_equal(cols["gain_channel"], gain[e, p])
        expected = events.waveform[e, gain[e, p], p][np.arange(len(e))[:, None], samples][:, None]
    else:
        expected = np.moveaxis(events.waveform, 1, 2)[e, p][:, :, :n_w]
    np.testing.assert_array_equal(cols["waveform"], expected)
    assert stats.kept_waveform_fraction == pytest.approx(mask.mean())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_bytes_add_up(reduced, lst_block, name):
    events = lst_block[0]
    block, stats = reduced[name]
    assert list(stats.bytes) == list(STAGES)
    assert stats.bytes["r1"] == events.waveform.nbytes + events.event_id.nbytes + events.trigger_time.nbytes
    assert stats.bytes["pixel_selection"] == block.uncompressed_nbytes()
    assert stats.bytes["compression"] == block.nbytes
    assert stats.factors()["compression"] == pytest.approx(stats.bytes["r1"] / block.nbytes)
    assert set(stats.seconds) == {"calibration", "pixel_selection", "charge_coding", "waveform_gather", "compression"}


def test_variants_order_of_sizes(reduced):
    size = {k: v[1].bytes["compression"] for k, v in reduced.items()}
    assert size["integrated"] < size["pixel_selection"] < size["raw"]
    assert reduced["pixsel_window"][1].bytes["window_cut"] * 2 == pytest.approx(
        reduced["pixsel_window"][1].bytes["r1"], rel=0.01)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_calibrate_dl0_recovers_images(reduced, lst_block, north, name):
    events, true_charge, _ = lst_block
    tel = north.tel(events.tel_id)
    block, _ = reduced[name]
    image, peak_time = calibrate_dl0(block.decode(), tel)
    charge, times, _ = r1_to_dl1(events.waveform, tel)
    cols = block.decode()
    if "charge" in cols or "window_start" not in cols:
        # stored charges, or full-length waveforms re-extracted with the same extractor
        kept = cols.get("pixel_mask", np.ones(charge.shape, bool))
        np.testing.assert_array_equal(image[kept], charge[kept])
        np.testing.assert_array_equal(peak_time[kept], times[kept])
    else:
        # window cut around the image: same charges for the image pixels whose pulse lies inside the window
        # (a pixel peaking within the extractor's reach of the window's edge loses part of its pulse)
        dt = tel.camera.readout.sample_width_ns
        first = cols["window_start"][:, None] * dt
        last = first + (cols["waveform"].shape[-1] - 1) * dt
        inside = (times >= first + EDGE_SAMPLES * dt) & (times <= last - EDGE_SAMPLES * dt)
        bright = (true_charge > 20) & cols.get("pixel_mask", True) & inside
        assert bright.sum() > 0.9 * ((true_charge > 20) & cols.get("pixel_mask", True)).sum()
        np.testing.assert_allclose(image[bright], charge[bright], rtol=0.02, atol=0.5)
        np.testing.assert_allclose(peak_time[bright], times[bright], atol=0.3)
    if "pixel_mask" in cols and ("charge" not in cols or cols["charge"].ndim == 1):
        assert np.all(image[~cols["pixel_mask"]] == 0)


def test_reextraction_on_request(reduced, lst_block, north):
    events = lst_block[0]
    tel = north.tel(events.tel_id)
    cols = reduced["pixel_selection"][0].decode()
    image, _ = calibrate_dl0(cols, tel, method="neighbor_peak")
    charge, _, _ = r1_to_dl1(events.waveform, tel)
    mask = cols["pixel_mask"]
    np.testing.assert_array_equal(image[~mask], charge[~mask])  # stored for the others
    bright = mask & (charge > 50)
    np.testing.assert_allclose(image[bright], charge[bright], rtol=0.05)


def test_pixel_selection_small_and_huge_images(lst):
    geom = lst.camera.geometry
    rng = np.random.default_rng(4)
    charge, _ = toy_images(lst, 100, rng, intensity_pe=(50.0, 500.0))
    charge += rng.normal(0, 1.0, charge.shape)  # noise below the threshold
    sel = dvr_pixel_selection(charge.astype(np.float32), geom)
    assert sel.threshold_pe == 8.0 and not sel.full_camera.any()
    assert 0.002 < sel.mask.mean() < 0.05
    # selected = above threshold plus one ring of neighbours
    seed = charge > 8.0
    assert np.all(sel.mask[seed])
    neighbours = (seed.astype(int) @ _adjacency(geom)) > 0
    np.testing.assert_array_equal(sel.mask, seed | neighbours)
    huge = np.zeros((2, geom.n_pixels), np.float32)
    huge[0, :600] = 100.0
    huge[1, :300] = 100.0
    mask, full = select_pixels(huge, geom)
    assert full.tolist() == [True, False] and mask[0].all() and not mask[1].all()


def test_threshold_raised_when_too_many_survive(lst):
    geom = lst.camera.geometry
    rng = np.random.default_rng(6)
    charge = rng.normal(5.0, 2.5, (20, geom.n_pixels)).astype(np.float32)  # bright sky
    sel = dvr_pixel_selection(charge, geom)
    assert sel.threshold_pe > 8.0 and sel.survival_fraction <= 0.15
    assert select_pixels(charge, geom, sel.threshold_pe - 1)[0].mean() > 0.15


def _adjacency(geom):
    n = geom.n_pixels
    a = np.zeros((n, n), int)
    rows = np.repeat(np.arange(n), np.diff(geom.neighbors_indptr))
    a[rows, geom.neighbors_indices] = 1
    return a


def test_config_is_checked():
    with pytest.raises(Exception, match="expected one of"):
        ReductionConfig.for_variant("lossy")
    with pytest.raises(Exception, match="one of none, zstd"):
        ReductionConfig(codec="gzip")
