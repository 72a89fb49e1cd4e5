"""Camera trigger: p.e. summed over a pixel and its neighbours within a sliding time window.

Time is binned in readout samples. A group (a pixel and its edge neighbours) fires when its
p.e. count (Cherenkov + night-sky background) within ``window`` consecutive samples reaches the
threshold; the camera trigger time is the first such sample over all groups.
"""

from __future__ import annotations

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
def group_trigger(pe_offsets, pe_pixel, pe_bin, n_bins, nsb_counts, trace_start, indptr, indices,
                  threshold, window):
    """Trigger bin of each event (-1: no trigger).

    Event e has its Cherenkov p.e. in rows pe_offsets[e]:[e+1] (pixel, time bin in [0, n_bins[e]))
    and reads NSB counts from ``nsb_counts[trace_start[e] + bin, :]``. Only groups that contain a
    Cherenkov p.e. are tested (accidental NSB-only triggers are not simulated per event).
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
            for b in range(limit):
                series[b] = nsb_counts[s0 + b, c]
            if local[c] >= 0:
                for b in range(limit):
                    series[b] += sig[local[c], b]
            for q in indices[indptr[c]:indptr[c + 1]]:
                for b in range(limit):
                    series[b] += nsb_counts[s0 + b, q]
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
def _nsb_crossings(nsb_counts, indptr, indices, threshold, window):
    n, n_pix = nsb_counts.shape
    series = np.zeros(n, np.int64)
    crossings = 0
    for c in range(n_pix):
        for b in range(n):
            series[b] = nsb_counts[b, c]
        for q in indices[indptr[c]:indptr[c + 1]]:
            for b in range(n):
                series[b] += nsb_counts[b, q]
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
