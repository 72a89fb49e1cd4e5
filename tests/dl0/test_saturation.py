"""Pixels clipped at the ADC's full scale: the charge comes back from the pulse shape."""

import numpy as np
import pytest

from ctasim.dl0.calibration import baseline_adc, r1_to_dl1
from ctasim.dl0.saturation import saturated_charges
from ctasim.instrument.config import load_telescope_types
from ctasim.sim.electronics import pulse_template, synthesize_waveforms

CHARGES = np.array([50.0, 500.0, 2_000.0, 8_000.0, 30_000.0])   # p.e. in every pixel of each event


def _r1(type_name: str, arrival_ns: float = 30.3):
    """Noise-free R1 of one telescope type: event e has CHARGES[e] p.e. in every pixel (same
    arrival time, so the extractors' neighbour peak finding sees it); the baseline is the camera's
    (pedestal + NSB shift)."""
    tel = load_telescope_types()[type_name]
    cam, ro = tel.camera, tel.camera.readout
    n = CHARGES.size
    trace = np.zeros((ro.n_samples + 1, cam.geometry.n_pixels), np.float32)
    trace += np.float32((baseline_adc(cam)[0] - ro.pedestal_adc) / ro.gain_adc_per_pe[0])
    n_pix = cam.geometry.n_pixels
    wf = synthesize_waveforms(trace, np.zeros(n, np.int64), np.arange(n + 1) * n_pix,
                              np.tile(np.arange(n_pix, dtype=np.int32), n), np.full(n * n_pix, arrival_ns),
                              np.repeat(CHARGES, n_pix), pulse_template(cam), ro.sample_width_ns,
                              ro.n_samples, np.asarray(ro.gain_adc_per_pe, np.float64), ro.pedestal_adc,
                              float(ro.adc_max))
    return tel, wf


@pytest.mark.parametrize("type_name", ["MST_MST_FlashCam", "SST_GCT_CHEC"])
def test_single_gain_cameras_recover_clipped_pixels(type_name):
    tel, wf = _r1(type_name)
    ro = tel.camera.readout
    clipped = wf[:, 0, 0].max(axis=1) >= ro.adc_max
    assert not clipped[:2].any() and clipped[-2:].all()     # 8,000 and 30,000 p.e. exceed one sample
    charge, _, _ = r1_to_dl1(wf, tel)
    np.testing.assert_allclose(charge[:, 0], CHARGES, rtol=0.05)
    # the clipped sum alone keeps only part of a 30,000 p.e. pulse
    rows, q = saturated_charges(wf[:, 0, 0], np.zeros(CHARGES.size, np.intp), ro, baseline_adc(tel.camera))
    assert rows.tolist() == np.flatnonzero(clipped).tolist() and q == pytest.approx(CHARGES[clipped], rel=0.05)


def test_dual_gain_cameras_switch_to_the_low_gain_and_recover_only_beyond_it():
    tel, wf = _r1("MST_MST_NectarCam")
    # the high gain clips from 2,000 p.e. and the low gain (0.47 counts per p.e.) only above ~7,800
    rows, _ = saturated_charges(wf[:, 1, 0], np.ones(CHARGES.size, np.intp), tel.camera.readout,
                                baseline_adc(tel.camera))
    charge, _, gain = r1_to_dl1(wf, tel)
    assert gain[-1, 0] == 1 and gain[0, 0] == 0            # the low gain takes the bright pixels
    np.testing.assert_allclose(charge[:, 0], CHARGES, rtol=0.05)
    assert rows.tolist() == [CHARGES.size - 1]
