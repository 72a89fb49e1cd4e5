"""Camera trigger: p.e. summed over a pixel and its neighbours within a sliding time window.

Time is binned in readout samples. A group (a pixel and its edge neighbours) fires when its
p.e. count (Cherenkov + night-sky background) within ``window`` consecutive samples reaches the
threshold; the camera trigger time is the first such sample over all groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@njit(cache=True)
def _first_crossing(series, n_bins, window, threshold, limit):
    """First bin < limit where the sum of the last ``window`` bins reaches threshold, else -1."""
    acc = 0
    for b in range(min(n_bins, limit)):
        acc += series[b]
        if b >= window:
            acc -= series[b - window]
        if acc >= threshold:
            return b
    return -1


@njit(cache=True)
def _nsb_count(nsb_counts, ov_column, ov_counts, s, p):
    """NSB p.e. of pixel p in sample s: from its own trace column when it has one (``ov_column[p]``)."""
    j = ov_column[p]
    return nsb_counts[s, p] if j < 0 else ov_counts[s, j]


@njit(cache=True)
def group_nsb_counts(nsb_counts, indptr, indices):
    """NSB p.e. of each trigger group (a pixel and its neighbours) in each sample, pixel-major:
    uint16 [n_pixels, n_trace] from the time-major ``nsb_counts`` [n_trace, n_pixels] (computed once
    per camera type, so that testing a group reads one contiguous row)."""
    n_trace, n_pix = nsb_counts.shape
    out = np.zeros((n_pix, n_trace), np.uint16)
    for s in range(n_trace):
        row = nsb_counts[s]
        for c in range(n_pix):
            total = np.uint16(row[c])
            for q in indices[indptr[c]:indptr[c + 1]]:
                total += row[q]
            out[c, s] = total
    return out


@njit(cache=True)
def group_trigger(pe_offsets, pe_pixel, pe_bin, n_bins, nsb_counts, group_counts, ov_column, ov_counts, trace_start,
                  indptr, indices, threshold, window):
    """Trigger bin of each event (-1: no trigger).

    Event e has its Cherenkov p.e. in rows pe_offsets[e]:[e+1] (pixel, time bin in [0, n_bins[e]))
    and reads NSB counts from ``nsb_counts[trace_start[e] + bin, :]``, or for a pixel p with
    ``ov_column[p] >= 0`` (a faulty pixel's own trace) from ``ov_counts[..., ov_column[p]]``; a group
    without such a pixel reads its sums from ``group_counts`` (``group_nsb_counts`` of ``nsb_counts``:
    the same integers). Only groups that contain a Cherenkov p.e. are tested (accidental NSB-only
    triggers are not simulated per event).
    """
    n_pix = nsb_counts.shape[1]
    n_ev = trace_start.size
    out = np.full(n_ev, -1, np.int64)
    local = np.full(n_pix, -1, np.int64)
    is_centre = np.zeros(n_pix, np.bool_)
    max_bins = n_bins.max() if n_ev else 0
    hits = np.empty(n_pix, np.int64)
    centres = np.empty(n_pix, np.int64)
    series = np.zeros(max_bins, np.int64)
    for e in range(n_ev):
        nb = n_bins[e]
        n_hit = 0
        for k in range(pe_offsets[e], pe_offsets[e + 1]):
            p = pe_pixel[k]
            if local[p] < 0:
                local[p] = n_hit
                hits[n_hit] = p
                n_hit += 1
        sig = np.zeros((n_hit, nb), np.int64)
        for k in range(pe_offsets[e], pe_offsets[e + 1]):
            sig[local[pe_pixel[k]], pe_bin[k]] += 1
        n_c = 0
        for h in range(n_hit):
            p = hits[h]
            if not is_centre[p]:
                is_centre[p] = True
                centres[n_c] = p
                n_c += 1
            for q in indices[indptr[p]:indptr[p + 1]]:
                if not is_centre[q]:
                    is_centre[q] = True
                    centres[n_c] = q
                    n_c += 1
        best = nb
        s0 = trace_start[e]
        for ci in range(n_c):
            c = centres[ci]
            limit = min(best, nb)
            own_traces = ov_column[c] >= 0
            for q in indices[indptr[c]:indptr[c + 1]]:
                own_traces |= ov_column[q] >= 0
            if own_traces:
                for b in range(limit):
                    series[b] = _nsb_count(nsb_counts, ov_column, ov_counts, s0 + b, c)
                for q in indices[indptr[c]:indptr[c + 1]]:
                    for b in range(limit):
                        series[b] += _nsb_count(nsb_counts, ov_column, ov_counts, s0 + b, q)
            else:
                group = group_counts[c]
                for b in range(limit):
                    series[b] = group[s0 + b]
            if local[c] >= 0:
                for b in range(limit):
                    series[b] += sig[local[c], b]
            for q in indices[indptr[c]:indptr[c + 1]]:
                if local[q] >= 0:
                    for b in range(limit):
                        series[b] += sig[local[q], b]
            first = _first_crossing(series, nb, window, threshold, limit)
            if first >= 0:
                best = first
        if best < nb:
            out[e] = best
        for h in range(n_hit):
            local[hits[h]] = -1
        for ci in range(n_c):
            is_centre[centres[ci]] = False
    return out


@njit(cache=True)
def _group_series(nsb_counts, indptr, indices, c, series):
    """``series[b]`` = the counts of pixel ``c`` and its neighbours (the trigger group of ``c``) in bin b."""
    n = nsb_counts.shape[0]
    for b in range(n):
        series[b] = nsb_counts[b, c]
    for q in indices[indptr[c]:indptr[c + 1]]:
        for b in range(n):
            series[b] += nsb_counts[b, q]


@njit(cache=True)
def _nsb_crossings(nsb_counts, indptr, indices, threshold, window):
    n, n_pix = nsb_counts.shape
    series = np.zeros(n, np.int64)
    crossings = 0
    for c in range(n_pix):
        _group_series(nsb_counts, indptr, indices, c, series)
        acc = 0
        above = False
        for b in range(n):
            acc += series[b]
            if b >= window:
                acc -= series[b - window]
            now = acc >= threshold
            if now and not above:
                crossings += 1
            above = now
    return crossings


def nsb_trigger_rate_hz(nsb_counts: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
                        threshold: int, window: int, sample_width_ns: float) -> float:
    """Upper estimate of the camera's NSB-only trigger rate (Hz): group threshold crossings
    summed over all groups of an NSB count trace [n_samples, n_pixels], per second."""
    crossings = _nsb_crossings(nsb_counts, indptr, indices, int(threshold), int(window))
    return crossings / (nsb_counts.shape[0] * sample_width_ns * 1e-9)


# --- accidental (NSB-only) camera trigger rate ------------------------------------------------

@njit(cache=True)
def _camera_crossings(nsb_counts, indptr, indices, thresholds, window):
    """Camera triggers (rising edges of the OR over all groups) of an NSB-only count trace, for
    each threshold of ``thresholds`` (ascending or not): the camera's own group logic, no signal."""
    n, n_pix = nsb_counts.shape
    n_thr = thresholds.size
    above = np.zeros((n_thr, n), np.bool_)
    series = np.zeros(n, np.int64)
    lowest = thresholds.min()
    for c in range(n_pix):
        _group_series(nsb_counts, indptr, indices, c, series)
        acc = 0
        for b in range(n):
            acc += series[b]
            if b >= window:
                acc -= series[b - window]
            if acc >= lowest:
                for k in range(n_thr):
                    if acc >= thresholds[k]:
                        above[k, b] = True
    out = np.zeros(n_thr, np.int64)
    for k in range(n_thr):
        for b in range(window, n):          # the first window bins are not full sums: skipped
            if above[k, b] and not above[k, b - 1]:
                out[k] += 1
    return out


def _log_poisson_pmf(k: np.ndarray, mu: np.ndarray) -> np.ndarray:
    from math import lgamma
    lg = np.vectorize(lgamma)(np.asarray(k, float) + 1.0)
    return k * np.log(mu) - mu - lg


def group_upcrossing_probability(mean_per_bin: np.ndarray, window: int, threshold: int) -> np.ndarray:
    """Exact probability per time bin that a group's sliding ``window``-bin p.e. sum (independent
    Poisson bins of mean ``mean_per_bin``, one value per group) rises from below ``threshold`` to
    at least it: P(Y + X_out < thr <= Y + X_in), Y ~ Pois((window-1) m), X_out, X_in ~ Pois(m)."""
    m = np.maximum(np.atleast_1d(np.asarray(mean_per_bin, np.float64)), 1e-300)[:, None]
    thr = int(threshold)
    if thr <= 0:
        return np.zeros(m.shape[0])
    k = np.arange(thr)[None, :]
    pmf_x = np.exp(_log_poisson_pmf(k, m))             # P(X = k), [groups, thr]
    below = np.cumsum(pmf_x, axis=1)[:, ::-1]          # column y: P(X <= thr - 1 - y)
    if window > 1:
        p_y = np.exp(_log_poisson_pmf(k, (window - 1) * m))
    else:
        p_y = (k == 0) * 1.0
    # Y = y, X_out <= thr-1-y (below) and X_in >= thr-y (1 - below)
    return np.clip((p_y * below * (1.0 - below)).sum(axis=1), 0.0, None)


@dataclass(frozen=True)
class AccidentalRate:
    """NSB-only camera trigger rate of a camera type at a threshold (see ``accidental_rate``)."""

    rate_hz: float             # the estimate at ``threshold``
    threshold: int
    model_hz: float            # sum over groups of the exact single-group up-crossing rate
    cluster_factor: float      # camera triggers measured / model at ``calibration_threshold``
    calibration_threshold: int
    measured_hz: float         # camera triggers counted at ``threshold`` on the trace
    n_counted: int             # ... their number
    trace_ns: float            # NSB-only trace length used


def accidental_rate(nsb_counts: np.ndarray, pixel_rate_ghz: np.ndarray, indptr: np.ndarray,
                    indices: np.ndarray, threshold: float, window: int, sample_width_ns: float,
                    min_counts: int = 100) -> AccidentalRate:
    """NSB-only ("accidental") trigger rate (Hz) of a camera: its group trigger logic run on an
    NSB-only count trace [n_samples, n_pixels] (the camera's own pedestal/NSB trace).

    At real thresholds accidentals are far too rare to count on a trace of microseconds, so the
    count is calibrated against an exact model: the per-group up-crossing rate of the sliding-window
    Poisson sum (``group_upcrossing_probability``, each group with its own pixels' NSB rates), summed
    over groups, overestimates the camera rate by the overlap of groups (one p.e. cluster fires
    several neighbouring groups at once). The ratio counted / model is taken at the highest threshold
    where at least ``min_counts`` camera triggers are counted and applied at ``threshold``; where the
    trace itself holds ``min_counts`` triggers the count is used as it is.
    """
    thr = int(np.ceil(threshold))
    n, _ = nsb_counts.shape
    dt = float(sample_width_ns)
    trace_s = (n - window) * dt * 1e-9
    group_rate = np.asarray(pixel_rate_ghz, np.float64).copy()
    np.add.at(group_rate, np.repeat(np.arange(group_rate.size), np.diff(indptr)), pixel_rate_ghz[indices])

    def model(t: int) -> float:
        return float(group_upcrossing_probability(group_rate * dt, window, t).sum() / (dt * 1e-9))

    ladder = np.arange(thr, 0, -1, dtype=np.int64)
    counts = _camera_crossings(np.ascontiguousarray(nsb_counts), indptr, indices, ladder, int(window))
    measured = counts[0] / trace_s
    if counts[0] >= min_counts:
        return AccidentalRate(measured, thr, model(thr), measured / max(model(thr), 1e-300), thr,
                              measured, int(counts[0]), trace_s * 1e9)
    ok = np.flatnonzero(counts >= min_counts)
    if ok.size == 0:
        factor, t_cal = 1.0, 0
    else:
        t_cal = int(ladder[ok[0]])
        factor = counts[ok[0]] / trace_s / model(t_cal)
    m = model(thr)
    return AccidentalRate(factor * m, thr, m, float(factor), t_cal, measured, int(counts[0]), trace_s * 1e9)
