"""Charge extraction: known-answer pulses and agreement with ctapipe's extractors."""

from dataclasses import replace

import numpy as np
import pytest

from ctasim.dl0.calibration import calibrate_r1, calibrate_waveforms
from ctasim.dl0.extraction import METHODS, extract_charge, integration_correction, resolve_settings
from ctasim.dl0.testing import synthetic_r1, toy_images

CAMERAS = ["LST_LST_LSTCam", "MST_MST_NectarCam", "MST_MST_FlashCam", "SST_GCT_CHEC"]


@pytest.mark.parametrize("type_name", CAMERAS)
def test_noiseless_pulses_give_injected_charge_and_time(telescope_types, type_name):
    tel = telescope_types[type_name]
    ro = tel.camera.readout
    rng = np.random.default_rng(1)
    n_pix = tel.camera.geometry.n_pixels
    charge = np.full((4, n_pix), 100.0)
    # arrival phases spread over one sample, pulses well inside the readout
    times = 0.4 * ro.n_samples * ro.sample_width_ns + rng.uniform(0, ro.sample_width_ns, (4, n_pix))
    events = synthetic_r1(tel, charge, times, rng, noise_pe=0.0)
    for method in ("local_peak", "neighbor_peak"):
        image, peak_time = calibrate_r1(events, tel, method=method)
        # ctapipe's integration correction (binned pulse): right to ~1.5% on average over
        # arrival phases, within ~8% for any single phase
        assert np.median(image) == pytest.approx(100.0, rel=0.02)
        assert np.abs(image / 100.0 - 1).max() < 0.08
        # peak time = charge-weighted mean time of the window: later than the peak of the
        # skewed pulse by a fraction of its width
        delay = peak_time - times
        assert 0 <= np.median(delay) < 0.25 * ro.pulse_fwhm_ns
        assert np.std(delay) < 0.25 * ro.sample_width_ns


def test_toy_images_recovered_within_noise(lst_block, lst):
    events, charge, times = lst_block
    image, peak_time = calibrate_r1(events, lst)
    bright = charge > 30
    ratio = image[bright] / charge[bright]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.01)
    # noise: 0.2 p.e. per sample over the 8-sample window + p.e. rounding of ADC counts
    assert np.std(image[bright] - charge[bright]) < 1.0
    assert np.median(np.abs(peak_time[bright] - times[bright] - 0.5)) < 0.2
    dark = charge == 0
    assert abs(np.median(image[dark])) < 0.3 and np.std(image[dark]) < 0.5


def test_fixed_window_and_window_clipping(lst):
    ro = lst.camera.readout
    wf = np.zeros((1, lst.camera.geometry.n_pixels, ro.n_samples), np.float32)
    wf[0, :, 2] = 1.0
    s = replace(resolve_settings("LSTCam", "fixed_window", 4, 3), peak_index=1)
    charge, t = extract_charge(wf, lst.camera.geometry, ro, settings=s)
    # window [-2, 2) clipped to [0, 2): the pulse at sample 2 is outside it
    assert np.all(charge == 0) and np.allclose(t, 1 * ro.sample_width_ns)
    s = replace(s, peak_index=3)
    charge, t = extract_charge(wf, lst.camera.geometry, ro, settings=s)
    assert np.allclose(charge, integration_correction(ro, 4, 3))
    assert np.allclose(t, 2 * ro.sample_width_ns)


def test_unknown_method_is_refused(lst):
    with pytest.raises(Exception, match="expected one of"):
        resolve_settings("LSTCam", "two_pass")


@pytest.mark.reference
@pytest.mark.parametrize("method", METHODS)
def test_agrees_with_ctapipe(lst, method):
    pytest.importorskip("ctapipe")
    from ctapipe.image import extractor as ce

    from ctasim.ctapipe_compat import to_ctapipe_subarray

    classes = {"fixed_window": ce.FixedWindowSum, "local_peak": ce.LocalPeakWindowSum,
               "neighbor_peak": ce.NeighborPeakWindowSum}
    rng = np.random.default_rng(5)
    charge, times = toy_images(lst, 3, rng)
    charge[0, :40] = 3000.0  # saturated high gain: low gain selected for these pixels
    events = synthetic_r1(lst, charge, times, rng)
    wf, gain = calibrate_waveforms(events.waveform, lst.camera.readout)
    assert gain[0, :40].all()
    settings = replace(resolve_settings("LSTCam", method, 7, 3), peak_index=16)
    ours, ours_t = extract_charge(wf, lst.camera.geometry, lst.camera.readout, settings=settings)
    kwargs = {"peak_index": 16} if method == "fixed_window" else {}
    extractor = classes[method](to_ctapipe_subarray(lst), window_width=7, window_shift=3, **kwargs)
    n_pix = lst.camera.geometry.n_pixels
    for e in range(len(wf)):
        dl1 = extractor(wf[e][None], tel_id=1, selected_gain_channel=gain[e].astype(np.int64),
                        broken_pixels=np.zeros((2, n_pix), bool))
        np.testing.assert_allclose(ours[e], dl1.image, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ours_t[e], dl1.peak_time, rtol=1e-5, atol=1e-5)
