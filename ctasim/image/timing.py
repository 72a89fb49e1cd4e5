"""Arrival-time gradient along the shower axis, as ctapipe's ``timing_parameters``.

ctapipe fits peak time against the longitudinal coordinate with a Least Trimmed Squares
regression (``ctapipe.fitting.lts_linear_regression``, 5 random two-point starts, C-steps on the
85 % of points with the smallest residuals, at most 20 iterations, stop when the residual sum of
squares changes by < 1e-12; the deviation is the RMS residual over all points). The same
algorithm is used here, with the same random draws from a ``numpy.random.Generator``: given the
same generator state and the same sequence of images the results equal ctapipe's.

Implementation differences that do not change the result: 2x2 normal equations solved in closed
form and summed in pixel order; the trimmed subset found by a quickselect restricted to the
points near the previous trimming boundary (not a full sort); a start stops as soon as its
subset is a fixed point (ctapipe confirms it with one more C-step); a start whose line equals
one met by an earlier start of the same image takes that start's result (the next subset depends
on the line only, so it would follow the same path).

Differences in corner cases: ties in squared residuals at the trimming boundary are resolved by
pixel order (ctapipe: by its sort); a C-step on a degenerate subset (all points at one
longitudinal position) ends that start, where ctapipe goes on from an arbitrary subset; with 3
points the trimmed fits use 2 points, every pair fits exactly and the "best" start is decided by
rounding (in ctapipe too), so the line through 3-pixel images may differ from ctapipe's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LTS_SAMPLES = 5  # ctapipe timing_parameters
LTS_RELATIVE_SAMPLE_SIZE = 0.85
LTS_MAX_ITERATIONS = 20
LTS_EPS = 1e-12
DET_EPS = 2 * np.finfo(np.float64).eps  # ctapipe.fitting.EPS


@njit(cache=True)
def _fit_pair(x, y, a, b):
    """Line through points a and b -> (slope, intercept, rss); NaN if degenerate, as ctapipe."""
    sx = x[a] + x[b]
    sy = y[a] + y[b]
    sxx = x[a] * x[a] + x[b] * x[b]
    sxy = x[a] * y[a] + x[b] * y[b]
    det = sxx * 2 - sx * sx
    if det < DET_EPS:
        return np.nan, np.nan, np.nan
    slope = (2 * sxy - sx * sy) / det
    intercept = (sxx * sy - sx * sxy) / det
    ra = y[a] - (x[a] * slope + intercept)
    rb = y[b] - (x[b] * slope + intercept)
    return slope, intercept, ra * ra + rb * rb


@njit(cache=True)
def _squared_residuals(x, y, n, slope, intercept, sq, copy):
    """Squared residuals of the line into sq and copy (branch-free, vectorised)."""
    for p in range(n):
        r = y[p] - (x[p] * slope + intercept)
        sq[p] = r * r
        copy[p] = r * r


@njit(cache=True)
def _residuals(x, y, n, slope, intercept, keep, sq):
    """Squared residuals of the line into sq -> (sum, max over keep == 1, min over keep == 0)."""
    rss = 0.0
    max_kept = 0.0
    min_dropped = np.inf
    for p in range(n):
        r = y[p] - (x[p] * slope + intercept)
        v = r * r
        sq[p] = v
        rss += keep[p] * v
        max_kept = max(max_kept, keep[p] * v)
        min_dropped = min(min_dropped, v if keep[p] == 0.0 else np.inf)
    return rss, max_kept, min_dropped


@njit(cache=True)
def _rank_value(bufs, n, rank):
    """Value of ascending rank ``rank`` among bufs[0, :n]; bufs [2, >= n] is overwritten.

    Quickselect with a branch-free partition (each value written to both ends, one end
    advanced) and median-of-three pivots: comparisons on residuals mispredict as branches.
    The two rows take turns as source and destination (indexed, not swapped as array views:
    that would cost reference counting per pass); unsigned store indices spare numba's
    negative-index wraparound.
    """
    src = 0
    lo = 0
    hi = n
    while hi - lo > 1:
        dst = 1 - src
        u = bufs[src, lo]
        v = bufs[src, (lo + hi) // 2]
        w = bufs[src, hi - 1]
        pivot = max(min(u, v), min(max(u, v), w))
        i = lo
        j = hi - 1
        for p in range(np.uint64(lo), np.uint64(hi)):
            value = bufs[src, p]
            below = value < pivot
            bufs[dst, np.uint64(i)] = value
            bufs[dst, np.uint64(j)] = value
            i += below
            j -= not below
        if rank < i:
            hi = i
        elif i > lo:
            lo = i
        else:  # pivot is the smallest value here: step over the values equal to it
            i = lo
            j = hi - 1
            for p in range(np.uint64(lo), np.uint64(hi)):
                value = bufs[dst, p]
                above = value > pivot
                bufs[src, np.uint64(i)] = value
                bufs[src, np.uint64(j)] = value
                i += not above
                j -= above
            if rank < i:
                return pivot
            lo = i
            continue
        src = dst
    return bufs[src, lo]


@njit(cache=True)
def _kth_residual(sq, n, k, lo, hi, bufs):
    """k-th smallest (1-based) of sq[:n], known to lie in [lo, hi].

    Only the values in [lo, hi] go to the selection (scratch ``bufs`` [2, >= n]); after a
    C-step that is the few points near the trimming boundary.
    """
    below = 0
    n_between = 0
    for p in range(n):
        v = sq[p]
        below += v < lo
        bufs[0, np.uint64(n_between)] = v
        n_between += (v >= lo) & (v <= hi)
    return _rank_value(bufs, n_between, k - 1 - below)


@njit(cache=True)
def _fit_smallest(x, y, sq, n, k, threshold, keep):
    """Keep the k points of smallest sq, the k-th being ``threshold``, and fit a line to them.

    keep[:n] is set to 1 for them, 0 otherwise (ties at the threshold: pixel order). Sums run
    in pixel order with 0/1 weights (adding zeros is exact), ties last: the line depends on the
    previous line only. Returns (slope, intercept); NaN if degenerate.
    """
    sx = 0.0
    sy = 0.0
    sxx = 0.0
    sxy = 0.0
    kept = 0
    first_tie = n
    for p in range(n):
        f = 1.0 if sq[p] < threshold else 0.0
        keep[p] = f
        kept += f
        sx += f * x[p]
        sy += f * y[p]
        sxx += f * x[p] * x[p]
        sxy += f * x[p] * y[p]
        first_tie = min(first_tie, p if sq[p] == threshold else n)
    for p in range(first_tie, n):
        if kept == k:
            break
        if sq[p] == threshold:
            keep[p] = 1.0
            kept += 1
            sx += x[p]
            sy += y[p]
            sxx += x[p] * x[p]
            sxy += x[p] * y[p]
    det = sxx * k - sx * sx
    if det < DET_EPS:
        return np.nan, np.nan
    return (k * sxy - sx * sy) / det, (sxx * sy - sx * sxy) / det


@njit(cache=True)
def timing_workspace(n_pixels):
    """Scratch buffers of ``timing`` / ``lts_line`` for up to n_pixels points, reused per image.

    (points float [6, n_pixels], seen lines float [S * I, 2], their iterations left and starts
    int [S * I], start results float [S, 3]) with S starts of at most I C-steps.
    """
    n_lines = LTS_SAMPLES * LTS_MAX_ITERATIONS
    return (
        np.empty((6, n_pixels)),
        np.empty((n_lines, 2)),
        np.empty(n_lines, np.int64),
        np.empty(n_lines, np.int64),
        np.empty((LTS_SAMPLES, 3)),
    )


@njit(cache=True)
def lts_line(x, y, n, rng, work):
    """LTS line through ``x[:n], y[:n]`` (finite) -> (slope, intercept); NaN if n < 2.

    ``work`` is a ``timing_workspace`` for at least n points (its rows 0 and 1 are not used).
    The next trimmed subset depends on the current line only, so a start whose line equals a
    line met by an earlier start follows that start's path: it takes its result without
    re-running the C-steps, when it would reach it within the iteration limit.
    """
    best_slope = np.nan
    best_intercept = np.nan
    if n < 2:
        return best_slope, best_intercept
    k = np.int64(LTS_RELATIVE_SAMPLE_SIZE * n)
    best_error = np.inf
    # lines met by earlier starts: (slope, intercept), iterations left to that start's result
    # (-1: no known continuation) and the start they belong to
    points, seen, seen_left, seen_start, results = work
    sq = points[2]
    keep = points[3]
    bufs = points[4:]
    n_seen = 0
    for start in range(LTS_SAMPLES):
        # two distinct random points, drawn as ctapipe.fitting.choose_two_without_replacement
        a = rng.integers(0, n)
        b = rng.integers(0, n - 1)
        if b >= a:
            b += 1
        slope, intercept, error = _fit_pair(x, y, a, b)
        first = n_seen
        end = -1  # iteration at which this start's result is reached; -1: not known
        fixed_point = False
        if np.isnan(slope) or k < 2:  # no line, or a trimmed subset of one point (ctapipe: NaN)
            error = np.nan
        else:
            # the first trimmed subset is selected among all points
            _squared_residuals(x, y, n, slope, intercept, sq, bufs[0])
            threshold = _rank_value(bufs, n, k - 1)
            for it in range(LTS_MAX_ITERATIONS):
                new_slope, new_intercept = _fit_smallest(x, y, sq, n, k, threshold, keep)
                if np.isnan(new_slope):
                    error = np.nan
                    break
                new_error, max_kept, min_dropped = _residuals(
                    x, y, n, new_slope, new_intercept, keep, sq
                )
                same = new_slope == slope and new_intercept == intercept
                last_error = error
                slope, intercept, error = new_slope, new_intercept, new_error
                seen[n_seen, 0] = slope
                seen[n_seen, 1] = intercept
                seen_start[n_seen] = start
                n_seen += 1
                if abs(last_error - error) < LTS_EPS:
                    end = it
                    fixed_point = same
                    break
                if max_kept < min_dropped:
                    # the next C-step keeps the same points: a fixed point, where ctapipe stops
                    # one C-step later with the same line and error
                    end = it
                    fixed_point = True
                    break
                merged = -1
                for q in range(first):
                    if (
                        seen_left[q] >= 0
                        and it + seen_left[q] < LTS_MAX_ITERATIONS
                        and seen[q, 0] == slope
                        and seen[q, 1] == intercept
                    ):
                        merged = q
                        break
                if merged >= 0:
                    slope, intercept, error = results[seen_start[merged]]
                    end = it + seen_left[merged]
                    break
                threshold = _kth_residual(sq, n, k, min_dropped, max_kept, bufs)
        for q in range(first, n_seen):
            seen_left[q] = end - (q - first) if end >= 0 else -1
        if end >= 0 and not fixed_point:  # met again, the result itself has no known continuation
            seen_left[n_seen - 1] = -1
        results[start, 0] = slope
        results[start, 1] = intercept
        results[start, 2] = error
        if error < best_error:
            best_error = error
            best_slope = slope
            best_intercept = intercept
    return best_slope, best_intercept


@njit(cache=True)
def timing(x, y, t, n, cog_x, cog_y, psi, rng, work):
    """Peak times ``t[:n]`` (ns) of pixels ``x[:n], y[:n]`` (deg) against the shower axis.

    Returns (slope ns/deg, intercept ns, deviation ns). ``work`` is a ``timing_workspace`` for
    at least n points.
    """
    longi = work[0][0]
    tt = work[0][1]
    c = np.cos(psi)
    s = np.sin(psi)
    m = 0
    for k in range(n):  # lts_linear_regression drops non-finite points
        lk = (x[k] - cog_x) * c + (y[k] - cog_y) * s
        tk = np.float64(t[k])
        if np.isfinite(lk) and np.isfinite(tk):
            longi[m] = lk
            tt[m] = tk
            m += 1
    slope, intercept = lts_line(longi, tt, m, rng, work)
    ss = 0.0
    for k in range(n):
        r = t[k] - ((x[k] - cog_x) * c + (y[k] - cog_y) * s) * slope - intercept
        ss += r * r
    return slope, intercept, np.sqrt(ss / n)
