"""Charges of pixels whose samples reach the ADC's full scale, from the pulse shape.

A pixel whose selected gain channel has samples clipped at ``adc_max`` loses the charge above the
clip level: single-gain cameras (FlashCam, CHEC: ~900-1000 p.e. in one sample) lose 5 % of the
light of 1-3 x 10^4 p.e. images and 40 % above 3 x 10^4 p.e., which limited the energy resolution
of multi-TeV showers. Such a pixel's charge is recovered as real cameras do with the known pulse
shape: ``A s(t - t0)`` (``s`` the unit-peak reference pulse, A in ADC counts above the baseline)
is fitted to the samples below the clip level by least squares over a grid of start times t0
(``T0_STEP_NS``, then refined 25x finer) around the clipped run, with ``A s >= clip level`` on the clipped samples; the
charge is A / (pulse-peak counts per p.e.). ``recover_saturated`` replaces the extracted charge of
clipped pixels only; all others keep theirs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..instrument.telescope import PULSE_SAMPLE_WIDTH_NS, CameraReadout

T0_STEP_NS = 0.25       # grid of pulse start times searched
MAX_RECOVERY = 100.0    # the recovered amplitude is at most this x the clip level


@njit(cache=True)
def _cost(trace, clip, shape, dt, t0, s):
    """(squared residual of the unclipped samples, amplitude) of the best pulse starting at t0."""
    n = trace.size
    for i in range(n):
        j = (i * dt - t0) / PULSE_SAMPLE_WIDTH_NS
        if j < 0 or j >= shape.size - 1:
            s[i] = 0.0
        else:
            j0 = int(j)
            f = j - j0
            s[i] = shape[j0] * (1.0 - f) + shape[j0 + 1] * f
    num, den, lower = 0.0, 0.0, 0.0
    for i in range(n):
        if trace[i] >= clip:
            if s[i] <= 0.0:
                return np.inf, 0.0      # a clipped sample where this pulse has no signal
            lower = max(lower, clip / s[i])
        else:
            num += s[i] * trace[i]
            den += s[i] * s[i]
    a = num / den if den > 0.0 else lower
    a = min(max(a, lower), MAX_RECOVERY * clip)
    cost = 0.0
    for i in range(n):
        if trace[i] < clip:
            r = trace[i] - a * s[i]
            cost += r * r
    return cost, a


@njit(cache=True)
def _fit_amplitude(trace, clip, shape, t_peak, dt, step):
    """Amplitude (ADC counts above the baseline) of the pulse best fitting a clipped trace: start
    times on a grid of ``step`` ns around the clipped run, then refined to step / 25 around the best."""
    n = trace.size
    first, last = -1, -1
    for i in range(n):
        if trace[i] >= clip:
            if first < 0:
                first = i
            last = i
    if first < 0:
        return -1.0
    s = np.empty(n)
    best_cost, best_a, best_t = np.inf, clip, 0.0
    t_lo = (first - 1) * dt - t_peak
    for k in range(int(((last - first + 2) * dt) / step) + 1):
        cost, a = _cost(trace, clip, shape, dt, t_lo + k * step, s)
        if cost < best_cost:
            best_cost, best_a, best_t = cost, a, t_lo + k * step
    fine = step / 25.0
    centre = best_t
    for k in range(-25, 26):
        cost, a = _cost(trace, clip, shape, dt, centre + k * fine, s)
        if cost < best_cost:
            best_cost, best_a = cost, a
    return best_a


@njit(cache=True)
def _recover(traces, clip, shape, t_peak, dt, step, gain_adc, out):
    for r in range(traces.shape[0]):
        a = _fit_amplitude(traces[r], clip[r], shape, t_peak, dt, step)
        out[r] = a / gain_adc[r]


def saturated_charges(traces: np.ndarray, channel: np.ndarray, readout: CameraReadout,
                      baseline_adc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ADC traces uint16 [m, n_samples] read in gain ``channel`` [m] -> (indices of the traces that
    reach ``adc_max``, their charges in p.e. from the pulse-shape fit); ``baseline_adc`` per channel."""
    rows = np.flatnonzero(traces.max(axis=1) >= readout.adc_max)
    if rows.size == 0:
        return rows, np.zeros(0)
    ch = np.asarray(channel, np.intp)[rows]
    base = np.asarray(baseline_adc, np.float64)[ch]
    sat = traces[rows].astype(np.float64) - base[:, None]
    shape, t_peak = readout.reference_pulse()
    gains = np.asarray(readout.gain_adc_per_pe, np.float64)[ch]
    out = np.empty(rows.size)
    _recover(sat, readout.adc_max - base, shape, t_peak, readout.sample_width_ns, T0_STEP_NS, gains, out)
    return rows, out


@njit(cache=True)
def _clipped_pixels(adc, gain, adc_max, scan_high_gain):
    """Mask [n, n_pix] of pixels whose selected-gain samples reach adc_max. With two channels and a
    gain switch below full scale a pixel read in the high gain has no clipped sample, so only
    low-gain pixels are scanned (``scan_high_gain`` False)."""
    n, n_ch, n_pix, n_s = adc.shape
    mask = np.zeros((n, n_pix), np.bool_)
    for e in range(n):
        for p in range(n_pix):
            c = gain[e, p] if n_ch > 1 else 0
            if n_ch > 1 and c == 0 and not scan_high_gain:
                continue
            top = adc[e, c, p, 0]
            for i in range(1, n_s):     # a plain max: vectorised
                top = max(top, adc[e, c, p, i])
            mask[e, p] = top >= adc_max
    return mask


def recover_saturated(adc: np.ndarray, gain: np.ndarray, charge: np.ndarray, readout: CameraReadout,
                      baseline_adc: np.ndarray, switch_adc: int) -> int:
    """Raise in ``charge`` [n, n_pix] (p.e., in place) the charges of pixels whose selected-gain
    samples in R1 ``adc`` uint16 [n, n_channels, n_pix, n_samples] (``gain`` [n, n_pix] the
    selected channel, switched to the low gain above ``switch_adc`` counts) reach ``adc_max`` to the
    pulse-shape fit's. Returns the pixels recovered."""
    n_ch = adc.shape[1]
    ev, pix = np.nonzero(_clipped_pixels(adc, gain, readout.adc_max, switch_adc >= readout.adc_max))
    if ev.size:
        channel = gain.astype(np.intp) if n_ch > 1 else np.zeros(gain.shape, np.intp)
        _, q = saturated_charges(adc[ev, channel[ev, pix], pix], channel[ev, pix], readout, baseline_adc)
        charge[ev, pix] = np.maximum(charge[ev, pix], q).astype(charge.dtype)   # never below the clipped sum
    return int(ev.size)
