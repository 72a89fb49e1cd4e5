"""R1 calibration: pedestal, gain and gain selection."""

import numpy as np

from ctasim.dl0.calibration import (
    HIGH_GAIN,
    LOW_GAIN,
    calibrate_waveforms,
    gain_threshold_adc,
    pe_scale,
    r1_to_dl1,
)
from ctasim.dl0.testing import synthetic_r1


def test_gain_switches_at_saturation(lst):
    ro = lst.camera.readout
    n_pix = lst.camera.geometry.n_pixels
    # high-gain peak crosses the threshold between these charges (p.e.)
    switch_pe = (gain_threshold_adc(ro) - ro.pedestal_adc) / ro.gain_adc_per_pe[0]
    charge = np.zeros((2, n_pix))
    charge[0, :10] = 0.95 * switch_pe
    charge[0, 10:20] = 1.05 * switch_pe
    charge[1, :] = 5000.0  # far beyond high-gain saturation
    times = np.full(charge.shape, 16 * ro.sample_width_ns)  # peak on a sample
    events = synthetic_r1(lst, charge, times, np.random.default_rng(0), noise_pe=0.0)
    assert events.waveform[1, 0].max() == ro.adc_max  # high gain clipped at the ADC range
    _, gain = calibrate_waveforms(events.waveform, ro)
    assert np.all(gain[0, :10] == HIGH_GAIN) and np.all(gain[0, 10:20] == LOW_GAIN)
    assert np.all(gain[0, 20:] == HIGH_GAIN) and np.all(gain[1] == LOW_GAIN)
    image, _, gain2 = r1_to_dl1(events.waveform, lst)
    np.testing.assert_array_equal(gain, gain2)
    # the low gain measures the saturated pixels correctly
    np.testing.assert_allclose(image[1], 5000.0, rtol=0.03)
    np.testing.assert_allclose(image[0, 10:20], 1.05 * switch_pe, rtol=0.03)


def test_pedestal_and_gain(lst):
    ro = lst.camera.readout
    adc = np.full((1, ro.n_channels, lst.camera.geometry.n_pixels, ro.n_samples), ro.pedestal_adc + 16, np.uint16)
    wf, gain = calibrate_waveforms(adc, ro)
    assert np.all(gain == HIGH_GAIN)
    np.testing.assert_allclose(wf, 16 * pe_scale(ro)[0], rtol=1e-6)
