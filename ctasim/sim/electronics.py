"""Camera electronics: night-sky background, single-p.e. charges, pulse shaping and digitisation.

Cheap approach of TOY_PHYSICS.md: per camera type, one long trace per pixel holds the
night-sky background (Poisson p.e. uniform in time, each with a single-p.e. charge and the
camera's pulse shape) plus white electronic noise, in units of the single-p.e. pulse peak, and the
NSB p.e. count per sample (for the trigger). Events read random windows of it; Cherenkov pulses
are added only where there are Cherenkov p.e.; ``adc = pedestal + gain * amplitude``, rounded and
clipped to the ADC range, per gain channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..instrument.telescope import PULSE_SAMPLE_WIDTH_NS, CameraDescription

TRACE_SAMPLES = 8192        # samples of the NSB trace of a camera type
PULSE_TAIL_CUT = 1e-4       # pulse tail below this fraction of the peak is dropped (speed)


@dataclass(frozen=True)
class NoiseTrace:
    """NSB + electronic noise of every pixel: amplitude (p.e. peak units) and NSB p.e. counts.

    Time-major, so that an event's window is one contiguous block of memory.
    """

    amplitude: np.ndarray   # float32 [n_trace, n_pixels]
    nsb_counts: np.ndarray  # uint8 [n_trace, n_pixels], NSB p.e. arriving in each sample


def single_pe_charges(rng: np.random.Generator, n: int, excess_noise_factor: float) -> np.ndarray:
    """Charges (p.e.) of n photoelectrons: gamma-distributed, mean 1, variance ENF - 1."""
    var = excess_noise_factor - 1.0
    if var <= 0:
        return np.ones(n)
    return rng.gamma(1.0 / var, var, n)


@njit(cache=True)
def _add_pulse(out, p, t, q, shape, dt):
    """Add q * shape to out[p, :] for a p.e. at time t (ns; sample i at i * dt)."""
    step = PULSE_SAMPLE_WIDTH_NS
    i0 = max(int(np.ceil(t / dt)), 0)
    i1 = min(int((t + shape.size * step) / dt) + 1, out.shape[1])
    for i in range(i0, i1):
        j = int((i * dt - t) / step + 0.5)
        if 0 <= j < shape.size:
            out[p, i] += q * shape[j]


@njit(cache=True)
def _fill_trace(out, pe_offsets, time, charge, shape, dt):
    """Add the pulses of p.e. (rows pe_offsets[p]:[p+1] of pixel p) to a time-major trace.

    Pixels are done in chunks through a pixel-major buffer so both layouts are walked in order.
    """
    n_trace, n_pix = out.shape
    chunk = 16
    buf = np.zeros((chunk, n_trace), np.float32)
    for p0 in range(0, n_pix, chunk):
        p1 = min(p0 + chunk, n_pix)
        for p in range(p0, p1):
            for k in range(pe_offsets[p], pe_offsets[p + 1]):
                _add_pulse(buf, p - p0, time[k], charge[k], shape, dt)
        for i in range(n_trace):
            for p in range(p0, p1):
                out[i, p] += buf[p - p0, i]
                buf[p - p0, i] = 0.0


@njit(cache=True)
def _count(counts, pe_offsets, time, dt):
    """NSB p.e. per sample into a time-major uint8 trace (saturating at 255)."""
    n = counts.shape[0]
    for p in range(counts.shape[1]):
        for k in range(pe_offsets[p], pe_offsets[p + 1]):
            if time[k] >= 0.0:
                i = int(time[k] / dt)
                if i < n and counts[i, p] < 255:
                    counts[i, p] += 1


def pulse_template(camera: CameraDescription) -> np.ndarray:
    """The camera's unit-peak pulse (float32, PULSE_SAMPLE_WIDTH_NS steps), cut where its tail
    falls below PULSE_TAIL_CUT of the peak."""
    shape, _ = camera.readout.reference_pulse()
    last = np.flatnonzero(shape >= PULSE_TAIL_CUT)[-1]
    return shape[: last + 1].astype(np.float32)


def make_noise_trace(rng: np.random.Generator, camera: CameraDescription, n_trace: int = TRACE_SAMPLES,
                     nsb_scale: np.ndarray | None = None) -> NoiseTrace:
    """A long NSB + electronic-noise trace per pixel for a camera.

    ``nsb_scale`` (per pixel, optional) multiplies the camera's NSB rate (non-uniform sky).
    """
    n_pix = camera.geometry.n_pixels
    scale = np.ones(n_pix) if nsb_scale is None else np.asarray(nsb_scale, float)
    return noise_trace_of_rates(rng, camera, camera.nsb_rate_ghz * scale, n_trace)


def noise_trace_of_rates(rng: np.random.Generator, camera: CameraDescription, rate_ghz: np.ndarray,
                         n_trace: int = TRACE_SAMPLES) -> NoiseTrace:
    """NSB + electronic-noise trace of ``rate_ghz.size`` channels of a camera's readout, each with its
    own p.e. rate (p.e./ns; 0: electronic noise only, as a pixel without photo-signal)."""
    ro = camera.readout
    dt = ro.sample_width_ns
    shape = pulse_template(camera)
    rate = np.asarray(rate_ghz, float)
    # p.e. from before the trace start whose pulses reach into it
    t_lo = -shape.size * PULSE_SAMPLE_WIDTH_NS
    n_pe = rng.poisson(rate * (n_trace * dt - t_lo))
    pe_offsets = np.concatenate([[0], np.cumsum(n_pe)]).astype(np.int64)
    time = rng.uniform(t_lo, n_trace * dt, pe_offsets[-1])
    charge = single_pe_charges(rng, time.size, ro.excess_noise_factor)
    amplitude = rng.standard_normal((n_trace, rate.size), np.float32) * np.float32(ro.electronic_noise_pe)
    _fill_trace(amplitude, pe_offsets, time, charge, shape, dt)
    counts = np.zeros((n_trace, rate.size), np.uint8)
    _count(counts, pe_offsets, time, dt)
    return NoiseTrace(amplitude, counts)


@njit(cache=True)
def synthesize_waveforms(trace, start, pe_offsets, pe_pixel, pe_time, pe_charge, shape, dt,
                         n_samples, gains, pedestal, adc_max):
    """Digitised waveforms uint16 [n_events, n_channels, n_pixels, n_samples].

    Event e reads the noise trace from sample ``start[e]``; its p.e. (rows pe_offsets[e]:[e+1])
    arrive at ``pe_time`` ns after the first read-out sample.
    """
    return synthesize_with_overlay(trace, start, pe_offsets, pe_pixel, pe_time, pe_charge, shape, dt, n_samples,
                                   gains, pedestal, adc_max, np.empty(0, np.int64), np.empty((1, 0), np.float32))


@njit(cache=True)
def synthesize_with_overlay(trace, start, pe_offsets, pe_pixel, pe_time, pe_charge, shape, dt,
                            n_samples, gains, pedestal, adc_max, ov_pixels, ov_trace):
    """As ``synthesize_waveforms``, the noise of pixels ``ov_pixels`` read from the columns of their own
    trace ``ov_trace`` [n_trace, ov_pixels.size] instead (a telescope's faulty pixels)."""
    n_ev = start.size
    n_pix = trace.shape[1]
    n_ch = gains.size
    out = np.empty((n_ev, n_ch, n_pix, n_samples), np.uint16)
    buf = np.empty((n_pix, n_samples), np.float32)
    top = np.float32(adc_max)
    for e in range(n_ev):
        s0 = start[e]
        for i in range(n_samples):          # contiguous read of the window, transposed
            for p in range(n_pix):
                buf[p, i] = trace[s0 + i, p]
            for j in range(ov_pixels.size):
                buf[ov_pixels[j], i] = ov_trace[s0 + i, j]
        for k in range(pe_offsets[e], pe_offsets[e + 1]):
            _add_pulse(buf, pe_pixel[k], pe_time[k], pe_charge[k], shape, dt)
        for c in range(n_ch):
            g = np.float32(gains[c])
            base = np.float32(pedestal + 0.5)
            for p in range(n_pix):
                for i in range(n_samples):
                    v = base + g * buf[p, i]
                    out[e, c, p, i] = np.uint16(min(max(v, np.float32(0.0)), top))
    return out


def pedestal_variance_pe2(camera: CameraDescription) -> float:
    """Expected variance of a waveform sample without Cherenkov light (p.e. peak units squared):
    NSB rate x integral of the squared pulse x E[q^2] (= ENF) + electronic noise^2."""
    shape = pulse_template(camera).astype(np.float64)
    ro = camera.readout
    return camera.nsb_rate_ghz * float((shape**2).sum()) * PULSE_SAMPLE_WIDTH_NS * ro.excess_noise_factor \
        + ro.electronic_noise_pe**2
