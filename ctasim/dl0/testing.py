"""Known-answer R1 waveforms for tests and benchmarks of the DL0 stage (not the simulator).

Each event holds a toy elliptical image (Gaussian charge profile, linear time gradient across the
image) drawn on the camera; every pixel's waveform is the camera's baseline (pedestal + the DC
shift of its night-sky background, ``calibration.baseline_adc``, as simulated R1 has it) + gain x
charge x reference pulse peaking at the pixel's time, plus Gaussian noise, in every gain channel,
rounded and clipped to the ADC range. The injected charges (p.e.) and peak times (ns) are returned with the events.
"""

from __future__ import annotations

import numpy as np

from ..datamodel.r1 import TelescopeEvents
from ..instrument.telescope import PULSE_SAMPLE_WIDTH_NS, TelescopeDescription
from .calibration import baseline_adc


def toy_images(
    tel: TelescopeDescription,
    n_events: int,
    rng: np.random.Generator,
    intensity_pe: tuple[float, float] = (50.0, 5000.0),
    min_pe: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """(charge float64 [n, n_pix] p.e., arrival time float64 [n, n_pix] ns of the pulse peak).

    Intensities log-uniform in ``intensity_pe``; widths ~1-1.5 pitch, lengths 2-8 pitch; pixels
    below ``min_pe`` get no signal. Peak times lie around the middle of the readout.
    """
    geom, ro = tel.camera.geometry, tel.camera.readout
    pitch, r_max = geom.pitch, 0.6 * geom.radius
    size = np.exp(rng.uniform(*np.log(intensity_pe), n_events))
    rad = r_max * np.sqrt(rng.uniform(0, 1, n_events))
    phi = rng.uniform(0, 2 * np.pi, n_events)
    cx, cy = rad * np.cos(phi), rad * np.sin(phi)
    psi = rng.uniform(0, np.pi, n_events)
    width = pitch * rng.uniform(1.0, 1.5, n_events)
    length = pitch * rng.uniform(2.0, 8.0, n_events)
    dx = geom.pix_x[None, :] - cx[:, None]
    dy = geom.pix_y[None, :] - cy[:, None]
    along = dx * np.cos(psi)[:, None] + dy * np.sin(psi)[:, None]
    across = -dx * np.sin(psi)[:, None] + dy * np.cos(psi)[:, None]
    dens = np.exp(-0.5 * ((along / length[:, None]) ** 2 + (across / width[:, None]) ** 2))
    dens *= geom.pix_area[None, :] / (2 * np.pi * (length * width)[:, None])
    charge = size[:, None] * dens
    charge[charge < min_pe] = 0.0
    readout_ns = ro.n_samples * ro.sample_width_ns
    t0 = rng.uniform(0.35, 0.5, n_events) * readout_ns
    slope = rng.uniform(-1.0, 1.0, n_events) * 4.0 * ro.sample_width_ns  # ns per length
    times = t0[:, None] + slope[:, None] * along / length[:, None]
    return charge, np.clip(times, 0.0, readout_ns)


def synthetic_r1(
    tel: TelescopeDescription,
    charge: np.ndarray,
    times: np.ndarray,
    rng: np.random.Generator,
    noise_pe: float | None = None,
    tel_id: int = 1,
) -> TelescopeEvents:
    """R1 events (uint16 [n, n_channels, n_pix, n_s]) with pulses of ``charge`` p.e. peaking at
    ``times`` ns; Gaussian noise of ``noise_pe`` (p.e. of pulse peak; default the readout's
    electronic noise) on every sample."""
    ro = tel.camera.readout
    shape, t_peak = ro.reference_pulse()
    n, n_pix = charge.shape
    t_samples = np.arange(ro.n_samples) * ro.sample_width_ns
    # pulse value of every sample: reference pulse evaluated at (t_sample - t_pixel + t_peak)
    x = (t_samples[None, None, :] - times[:, :, None] + t_peak) / PULSE_SAMPLE_WIDTH_NS
    pulse = np.interp(x, np.arange(shape.size), shape, left=0.0, right=0.0)
    signal_pe = charge[:, :, None] * pulse
    sigma = ro.electronic_noise_pe if noise_pe is None else noise_pe
    wf = np.empty((n, ro.n_channels, n_pix, ro.n_samples), np.uint16)
    baseline = baseline_adc(tel.camera)
    for ch, gain in enumerate(ro.gain_adc_per_pe):
        adc = baseline[ch] + gain * (signal_pe + rng.normal(0.0, sigma, signal_pe.shape))
        wf[:, ch] = np.clip(np.rint(adc), 0, ro.adc_max)
    return TelescopeEvents(
        tel_id=tel_id,
        obs_id=1,
        event_id=np.arange(n, dtype=np.int64),
        trigger_time=np.sort(rng.uniform(0.0, 1.0, n)),
        waveform=wf,
        true_image=np.rint(charge).astype(np.int32),
        true_impact_distance=np.zeros(n, np.float32),
    )
