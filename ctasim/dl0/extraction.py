"""Charge extraction: calibrated waveforms [n, n_pix, n_samples] -> charge (p.e.) and peak time (ns).

Same definitions as ctapipe 0.28 (``ctapipe/image/extractor.py``), as numba kernels over a whole
block of events:

- ``fixed_window``  (FixedWindowSum): window ``[peak_index - shift, + width)`` at a fixed sample.
- ``local_peak``    (LocalPeakWindowSum): window around each pixel's own maximum sample.
- ``neighbor_peak`` (NeighborPeakWindowSum): window around the maximum of the sum of the
  neighbours' waveforms plus ``local_weight`` times the pixel's own.

The window is clipped to the readout; charge is the window sum times the integration correction
(``integration_correction``: the inverse of the fraction of the reference pulse the window holds,
so a noiseless pulse of ``q`` p.e. gives ``q``); peak time is the mean sample time in the window
weighted by the positive samples (the peak index if none is positive), in ns from the first
sample. Waveforms must be in p.e. per sample (``calibration`` module).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import CtasimError
from ..instrument.camera import CameraGeometry
from ..instrument.telescope import PULSE_SAMPLE_WIDTH_NS, CameraReadout

METHODS = ("fixed_window", "local_peak", "neighbor_peak")
_FIXED, _LOCAL, _NEIGHBOR = range(3)


@dataclass(frozen=True)
class ExtractionSettings:
    """Extractor name (one of METHODS), window width and shift (samples before the peak);
    ``peak_index`` is the window reference of fixed_window, ``local_weight`` the weight of the
    pixel's own waveform in neighbor_peak."""

    method: str
    window_width: int
    window_shift: int
    peak_index: int = 0
    local_weight: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise CtasimError(f"extraction method {self.method!r}: expected one of {', '.join(METHODS)}")
        if self.window_width < 1 or self.window_shift < 0:
            raise CtasimError(
                f"extraction window width {self.window_width}, shift {self.window_shift}: "
                "expected width >= 1 and shift >= 0"
            )


# Per camera. LSTCam: lstchain's LocalPeakWindowSum width 8 shift 4 (REFERENCE.md). NectarCam:
# ctapipe's default NeighborPeakWindowSum 7/3 (base_config.yaml). FlashCam (250 MHz, 10 ns
# pulses) and CHEC (1 GHz, 8 ns pulses): neighbour peak with windows holding the pulse to ~4% for
# any arrival phase (est.; ctapipe uses a deconvolution extractor for FlashCam, not modelled).
DEFAULT_EXTRACTION: dict[str, ExtractionSettings] = {
    "LSTCam": ExtractionSettings("local_peak", 8, 4),
    "NectarCam": ExtractionSettings("neighbor_peak", 7, 3),
    "FlashCam": ExtractionSettings("neighbor_peak", 6, 2),
    "CHEC": ExtractionSettings("neighbor_peak", 16, 6),
}
_FALLBACK = ExtractionSettings("neighbor_peak", 7, 3)


def resolve_settings(
    camera_name: str,
    method: str | None = None,
    window_width: int | None = None,
    window_shift: int | None = None,
) -> ExtractionSettings:
    """The camera's default settings with the given values replacing the defaults."""
    d = DEFAULT_EXTRACTION.get(camera_name, _FALLBACK)
    return ExtractionSettings(
        method or d.method,
        d.window_width if window_width is None else int(window_width),
        d.window_shift if window_shift is None else int(window_shift),
        d.peak_index,
        d.local_weight,
    )


def padded_reference_pulse(readout: CameraReadout) -> np.ndarray:
    """The readout's unit-peak reference pulse (one value every PULSE_SAMPLE_WIDTH_NS ns) after a
    baseline of at least the readout window, as measured templates have, placing the peak at the
    centre of a readout sample. Without the baseline ctapipe's correction clips windows that
    start before the pulse; with the peak centred, the binned pulse sees the window as a
    point-sampled pulse does on average over arrival phases."""
    shape, t_peak = readout.reference_pulse()
    dt = readout.sample_width_ns
    peak_at = (np.ceil(readout.n_samples + t_peak / dt) + 0.5) * dt
    n_pad = int(round((peak_at - t_peak) / PULSE_SAMPLE_WIDTH_NS))
    return np.concatenate([np.zeros(n_pad), shape])


def integration_correction(readout: CameraReadout, window_width: int, window_shift: int) -> float:
    """Inverse of the fraction of the reference pulse inside the window (ctapipe's definition:
    the pulse is binned into readout samples and the window starts ``shift`` samples before the
    binned maximum), computed on ``padded_reference_pulse``."""
    shape = padded_reference_pulse(readout)
    dt = readout.sample_width_ns
    t_max = shape.size * PULSE_SAMPLE_WIDTH_NS
    x = np.arange(0.0, t_max, PULSE_SAMPLE_WIDTH_NS)
    sampled, _ = np.histogram(x, np.arange(0.0, t_max, dt), weights=shape, density=True)
    start = max(sampled.argmax() - window_shift, 0)
    end = min(start + window_width, sampled.size)
    if start >= end:
        return 1.0
    return float(1.0 / np.sum(sampled[start:end] * dt))


@njit(cache=True, inline="always")
def _argmax(trace):
    """Index of the first maximum (as np.argmax), written without branches."""
    best = trace[0]
    index = 0
    for k in range(1, trace.size):
        v = trace[k]
        higher = v > best
        index = k if higher else index
        best = v if higher else best
    return index


@njit(cache=True, inline="always")
def _window(trace, peak, width, shift, sample_width_ns, correction):
    """(charge, peak time ns) of one trace for a window around sample ``peak``."""
    start = max(peak - shift, 0)
    end = min(peak - shift + width, trace.size)
    total = 0.0
    num = 0.0
    den = 0.0
    for k in range(start, end):
        v = np.float64(trace[k])
        positive = max(v, 0.0)
        total += v
        num += positive * k
        den += positive
    t = num / den if den > 0 else float(peak)
    return total * correction, t * sample_width_ns


@njit(cache=True)
def _extract_event(wf, method, width, shift, fixed_peak, local_weight, indptr, indices,
                   sample_width_ns, correction, charge, peak_time, trace):
    """One event: wf float32 [n_pix, n_s] -> charge, peak_time [n_pix]; trace: scratch [n_s]."""
    n_pix, n_s = wf.shape
    w = np.float32(local_weight)
    for p in range(n_pix):
        own = wf[p]
        if method == _FIXED:
            peak = fixed_peak
        elif method == _LOCAL:
            peak = _argmax(own)
        else:
            for k in range(n_s):
                trace[k] = own[k] * w
            for j in range(indptr[p], indptr[p + 1]):
                nb = wf[indices[j]]
                for k in range(n_s):
                    trace[k] += nb[k]
            peak = _argmax(trace)
        q, t = _window(own, peak, width, shift, sample_width_ns, correction)
        charge[p] = q
        peak_time[p] = t


@njit(cache=True)
def _extract_block(wf, method, width, shift, fixed_peak, local_weight, indptr, indices,
                   sample_width_ns, correction, charge, peak_time):
    trace = np.empty(wf.shape[2], np.float32)
    for e in range(wf.shape[0]):
        _extract_event(wf[e], method, width, shift, fixed_peak, local_weight, indptr, indices,
                       sample_width_ns, correction, charge[e], peak_time[e], trace)


def extraction_arrays(s: ExtractionSettings, geom: CameraGeometry, readout: CameraReadout) -> tuple:
    """Kernel arguments for the settings: (method code, width, shift, peak index, local weight,
    neighbour indptr, indices, sample width ns, integration correction)."""
    return (
        METHODS.index(s.method), s.window_width, s.window_shift, s.peak_index, s.local_weight,
        geom.neighbors_indptr.astype(np.int64), geom.neighbors_indices.astype(np.int64),
        readout.sample_width_ns, integration_correction(readout, s.window_width, s.window_shift),
    )


def extract_charge(
    waveforms_pe: np.ndarray,
    geom: CameraGeometry,
    readout: CameraReadout,
    method: str | None = None,
    window_width: int | None = None,
    window_shift: int | None = None,
    settings: ExtractionSettings | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated waveforms float32 [n, n_pix, n_s] (p.e. per sample) -> (charge float32
    [n, n_pix] p.e., peak_time float32 [n, n_pix] ns from the first sample).

    ``settings`` wins over the keyword values; missing values take the camera's defaults.
    """
    wf = np.ascontiguousarray(waveforms_pe, np.float32)
    if wf.ndim != 3 or wf.shape[1] != geom.n_pixels:
        raise ValueError(f"waveforms of shape {wf.shape}: expected [n_events, {geom.n_pixels}, n_samples]")
    s = settings or resolve_settings(readout.name, method, window_width, window_shift)
    charge = np.empty(wf.shape[:2], np.float32)
    peak_time = np.empty(wf.shape[:2], np.float32)
    _extract_block(wf, *extraction_arrays(s, geom, readout), charge, peak_time)
    return charge, peak_time
