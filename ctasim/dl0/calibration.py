"""R1 calibration: ADC counts -> p.e. per sample, with gain selection, and the whole R1 -> DL1a step.

Units of calibrated waveforms follow ctapipe's R1 convention: a pulse of ``q`` photoelectrons has
samples summing to ``q`` (p.e. per sample), so window sums times the integration correction are
charges in p.e. The conversion per gain channel is ``(adc - baseline) * scale`` with
``scale = 1 / (gain_adc_per_pe * integral_per_peak)`` (gain is the pulse-peak amplitude per p.e.).

The baseline is what pedestal events of the camera measure (``baseline_adc``): the electronic
pedestal plus the DC shift of the night-sky background, since the simulated cameras are
DC-coupled: NSB p.e. at ``nsb_rate_ghz`` add ``nsb_rate_ghz * sample_width_ns`` p.e. per sample on
average. Leaving that shift in biases every pixel by rate x window length (e.g. 4.8 p.e. for
FlashCam's 24 ns window at 0.2 p.e./ns, above its 4.5 p.e. boundary threshold), as ctapipe would
if R1 were calibrated with a dark (NSB-free) pedestal. Everything given a telescope
(``r1_to_dl1``, ``calibrate_r1``, ``reduction.calibrate_dl0``) subtracts ``baseline_adc``; the
readout-level functions (``calibrate_waveforms``, ``calibrate_selected_rows``) subtract the
``pedestal_adc`` they are given, by default the readout's electronic pedestal alone.

Gain selection as ctapipe's ``ThresholdGainSelector``: the low gain is used for a pixel when any
of its high-gain samples exceeds the threshold, otherwise the high gain.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..datamodel.r1 import TelescopeEvents
from ..instrument.telescope import CameraDescription, CameraReadout, TelescopeDescription
from ._simd import LANES, block_argmax, neighbor_argmax, select_calibrate, window_sums
from .extraction import _FIXED, _NEIGHBOR, ExtractionSettings, extraction_arrays, resolve_settings
from .saturation import recover_saturated

# ctapipe_io_lst selects the low gain above 3500 counts of the 12-bit high gain: the same
# fraction of full scale for every camera here
GAIN_SWITCH_FRACTION = 3500.0 / 4095.0
HIGH_GAIN, LOW_GAIN = 0, 1


def gain_threshold_adc(readout: CameraReadout) -> int:
    """High-gain sample value (ADC counts) above which a pixel's low gain is used."""
    return int(GAIN_SWITCH_FRACTION * readout.adc_max)


def pe_scale(readout: CameraReadout) -> np.ndarray:
    """Factor (p.e. per sample per ADC count) of each gain channel, float64 [n_channels]."""
    gains = np.asarray(readout.gain_adc_per_pe, np.float64)
    return 1.0 / (gains * readout.integral_per_peak())


def nsb_baseline_pe(camera: CameraDescription) -> float:
    """Mean night-sky background per readout sample in calibrated units (p.e. per sample):
    rate x sample width (single-p.e. charges have mean 1)."""
    return float(camera.nsb_rate_ghz * camera.readout.sample_width_ns)


def baseline_adc(camera: CameraDescription) -> np.ndarray:
    """Mean R1 sample without Cherenkov light per gain channel (ADC counts), float64
    [n_channels]: the electronic pedestal plus the DC shift of the camera's night-sky background,
    as pedestal events measure it."""
    ro = camera.readout
    return ro.pedestal_adc + nsb_baseline_pe(camera) / pe_scale(ro)


def _pedestals(readout: CameraReadout, pedestal_adc) -> np.ndarray:
    """Per-channel pedestals (float64 [n_channels]) from None (the electronic pedestal), a number
    or one value per channel."""
    if pedestal_adc is None:
        pedestal_adc = readout.pedestal_adc
    ped = np.broadcast_to(np.asarray(pedestal_adc, np.float64), (readout.n_channels,))
    return np.ascontiguousarray(ped)


@njit(cache=True, inline="always")
def _to_pe(adc_trace, pedestal, scale, out):
    for k in range(adc_trace.size):
        out[k] = (np.float32(adc_trace[k]) - pedestal) * scale


@njit(cache=True)
def _calibrate_event(adc, threshold, pedestal, scale, out, gain):
    """One event: adc [n_channels, n_pix, n_s] -> out float32 [n_pix, n_s], gain uint8 [n_pix];
    pedestal and scale per channel."""
    n_channels, n_pix, n_s = adc.shape
    for p in range(n_pix):
        high = adc[0, p]
        top = high[0]
        for k in range(1, n_s):
            v = high[k]
            top = max(top, v)
        g = LOW_GAIN if n_channels > 1 and top > threshold else HIGH_GAIN
        gain[p] = g
        _to_pe(adc[g, p], np.float32(pedestal[g]), np.float32(scale[g]), out[p])


@njit(cache=True)
def _calibrate_block(adc, threshold, pedestal, scale, out, gain):
    for e in range(adc.shape[0]):
        _calibrate_event(adc[e], threshold, pedestal, scale, out[e], gain[e])


@njit(cache=True)
def _calibrate_extract_block_simd(adc, threshold, pedestal, scale, method, width, shift, fixed_peak,
                                  local_weight, indptr, indices, sample_width_ns, correction,
                                  charge, peak_time, gain):
    """Gain selection, calibration and extraction of a block of unsigned R1 counts, with 8-lane
    SIMD blocks (``_simd``):
    gain selection (block max of the high gain), calibration into a pixel-major scratch whose rows
    are padded to a multiple of 8 samples (allocated once per block), neighbour sums and argmax.
    Sample tails beyond the last full block of 8 are handled by scalar loops; results are
    bit-identical to ``extract_charge`` on ``calibrate_waveforms`` (the scalar definitions)."""
    n, n_channels, n_pix, n_s = adc.shape
    nb = n_s // LANES
    full = nb * LANES
    nbp = (n_s + LANES - 1) // LANES
    # one spare row: window_sums reads up to 7 samples past a window
    scratch = np.zeros((n_pix + 1, nbp * LANES), np.float32)
    trace = np.zeros(nbp * LANES, np.float32)
    peaks = np.empty(n_pix, np.intp)
    ped0 = np.float32(pedestal[0])
    ped1 = np.float32(pedestal[n_channels - 1])
    sc0 = np.float32(scale[0])
    sc1 = np.float32(scale[n_channels - 1])
    w = np.float32(local_weight)
    for e in range(n):
        ev = adc[e]
        ge = gain[e]
        qe = charge[e]
        te = peak_time[e]
        for p in range(n_pix):
            high = ev[0, p]
            lowest = ev[n_channels - 1, p]
            out = scratch[p]
            top = 0
            for k in range(full, n_s):
                top = max(top, np.intp(high[k]))
            low = select_calibrate(high, lowest, nb, top, threshold, n_channels > 1, ped0, ped1, sc0,
                                   sc1, out)
            ge[p] = LOW_GAIN if low else HIGH_GAIN
            src = lowest if low else high
            sc = sc1 if low else sc0
            ped = ped1 if low else ped0
            for k in range(full, n_s):
                out[k] = (np.float32(src[k]) - ped) * sc
            if method == _FIXED:
                peaks[p] = fixed_peak
            elif method != _NEIGHBOR:
                peak = block_argmax(out, nb) if nb > 0 else 0
                for k in range(full, n_s):
                    peak = k if out[k] > out[peak] else peak
                peaks[p] = peak
        if method == _NEIGHBOR:
            for p in range(n_pix):
                peak = neighbor_argmax(scratch, scratch[p], w, indices, indptr[p], indptr[p + 1],
                                       nbp, nb, trace)
                for k in range(full, n_s):
                    peak = k if trace[k] > trace[peak] else peak
                peaks[p] = peak
        # windows in a pass of their own: independent pixels overlap in the pipeline
        for p in range(n_pix):
            peak = peaks[p]
            start = max(peak - shift, 0)
            end = min(peak - shift + width, n_s)
            total, num, den = window_sums(scratch[p], start, max(end - start, 0))
            t = num / den if den > 0 else np.float64(peak)
            qe[p] = total * correction
            te[p] = t * sample_width_ns


@njit(cache=True)
def _calibrate_rows_kernel(adc, gain, pedestal, scale, out):
    """Gain-selected rows: adc [m, 1, n_s] with their channel gain [m] -> out float32 [m, n_s]."""
    for r in range(adc.shape[0]):
        _to_pe(adc[r, 0], np.float32(pedestal[gain[r]]), np.float32(scale[gain[r]]), out[r])


def _check_r1(waveform: np.ndarray, readout: CameraReadout) -> np.ndarray:
    if waveform.dtype.kind != "u" or waveform.dtype.itemsize > 2:
        raise ValueError(f"R1 waveform of dtype {waveform.dtype}: expected unsigned ADC counts (uint16)")
    if waveform.ndim != 4 or waveform.shape[1] != readout.n_channels:
        raise ValueError(
            f"R1 waveform of shape {waveform.shape}: expected [n_events, {readout.n_channels}, "
            "n_pixels, n_samples]"
        )
    return np.ascontiguousarray(waveform)


def calibrate_waveforms(
    waveform: np.ndarray, readout: CameraReadout, threshold_adc: int | None = None,
    pedestal_adc: float | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """R1 uint16 [n, n_channels, n_pix, n_s] -> (float32 [n, n_pix, n_s] p.e. per sample,
    selected gain channel uint8 [n, n_pix]).

    ``pedestal_adc``: baseline subtracted (a number or one per channel); default the readout's
    electronic pedestal. Simulated R1 carries the NSB shift too: pass ``baseline_adc(camera)``.
    """
    adc = _check_r1(waveform, readout)
    n, _, n_pix, n_s = adc.shape
    out = np.empty((n, n_pix, n_s), np.float32)
    gain = np.empty((n, n_pix), np.uint8)
    thr = gain_threshold_adc(readout) if threshold_adc is None else int(threshold_adc)
    _calibrate_block(adc, thr, _pedestals(readout, pedestal_adc), pe_scale(readout), out, gain)
    return out, gain


def calibrate_selected_rows(adc: np.ndarray, gain: np.ndarray, readout: CameraReadout,
                            pedestal_adc: float | np.ndarray | None = None) -> np.ndarray:
    """Gain-selected waveforms uint16 [m, 1, n_s] with channel ``gain`` [m] -> float32 [m, n_s]
    (``pedestal_adc`` as in ``calibrate_waveforms``)."""
    out = np.empty((adc.shape[0], adc.shape[2]), np.float32)
    _calibrate_rows_kernel(np.ascontiguousarray(adc), np.ascontiguousarray(gain, np.uint8),
                           _pedestals(readout, pedestal_adc), pe_scale(readout), out)
    return out


def r1_to_dl1(
    waveform: np.ndarray,
    tel: TelescopeDescription,
    settings: ExtractionSettings | None = None,
    threshold_adc: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R1 uint16 [n, n_channels, n_pix, n_s] -> (charge float32 [n, n_pix] p.e., peak_time
    float32 [n, n_pix] ns from the first sample, selected gain uint8 [n, n_pix]).

    Calibration (baseline ``baseline_adc`` of the camera) and extraction run event by event
    inside one numba kernel, so the calibrated waveforms of a block are never materialised.
    Pixels clipped at the ADC's full scale get their charge from the pulse shape
    (``ctasim.dl0.saturation``).
    """
    readout, geom = tel.camera.readout, tel.camera.geometry
    adc = _check_r1(waveform, readout)
    s = settings or resolve_settings(tel.camera_name)
    n, _, n_pix, _ = adc.shape
    charge = np.empty((n, n_pix), np.float32)
    peak_time = np.empty((n, n_pix), np.float32)
    gain = np.empty((n, n_pix), np.uint8)
    thr = gain_threshold_adc(readout) if threshold_adc is None else int(threshold_adc)
    baseline = baseline_adc(tel.camera)
    _calibrate_extract_block_simd(adc, thr, baseline, pe_scale(readout),
           *extraction_arrays(s, geom, readout), charge, peak_time, gain)
    recover_saturated(adc, gain, charge, readout, baseline, thr)
    return charge, peak_time, gain


def calibrate_r1(
    events: TelescopeEvents,
    tel: TelescopeDescription,
    method: str | None = None,
    window_width: int | None = None,
    window_shift: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A block of R1 events -> (image float32 [n, n_pix] p.e., peak_time float32 [n, n_pix] ns).

    Extraction settings not given take the camera's defaults (``extraction.DEFAULT_EXTRACTION``).
    """
    s = resolve_settings(tel.camera_name, method, window_width, window_shift)
    charge, peak_time, _ = r1_to_dl1(events.waveform, tel, s)
    return charge, peak_time
