"""Hillas moments of one selected-pixel list, as ctapipe's ``hillas_parameters``.

Closed-form 2x2 eigen-decomposition instead of ``np.linalg.eigh``; same conventions: weighted
covariance with ddof=0, eigenvalues with |value| <= float64 eps set to 0, psi = arctan(vy/vx) of
the major-axis eigenvector in (-pi/2, pi/2] (pi/2 when vx == 0), psi/skewness/kurtosis NaN when
length == 0, width NaN when the minor eigenvalue is negative beyond eps.
"""

from __future__ import annotations

import numpy as np
from numba import njit

HILLAS_ATOL = np.finfo(np.float64).eps  # ctapipe.image.hillas.HILLAS_ATOL


@njit(cache=True)
def hillas(x: np.ndarray, y: np.ndarray, w: np.ndarray, n: int):
    """Moments of pixels ``x[:n], y[:n]`` (deg) weighted by ``w[:n]`` (p.e., sum > 0).

    Returns (intensity, cog_x, cog_y, r, phi_rad, length, width, psi_rad, skewness, kurtosis).
    """
    size = 0.0
    sx = 0.0
    sy = 0.0
    for k in range(n):
        size += w[k]
        sx += w[k] * x[k]
        sy += w[k] * y[k]
    cog_x = sx / size
    cog_y = sy / size
    # np.cov(dx, dy, aweights=w, ddof=0) re-centres on the weighted mean of dx, dy
    mdx = 0.0
    mdy = 0.0
    for k in range(n):
        mdx += w[k] * (x[k] - cog_x)
        mdy += w[k] * (y[k] - cog_y)
    mdx /= size
    mdy /= size
    cxx = 0.0
    cxy = 0.0
    cyy = 0.0
    for k in range(n):
        dx = x[k] - cog_x - mdx
        dy = y[k] - cog_y - mdy
        cxx += w[k] * dx * dx
        cxy += w[k] * dx * dy
        cyy += w[k] * dy * dy
    cxx /= size
    cxy /= size
    cyy /= size
    half_trace = 0.5 * (cxx + cyy)
    d = np.sqrt((0.5 * (cxx - cyy)) ** 2 + cxy * cxy)
    major = half_trace + d
    minor = half_trace - d
    if abs(major) <= HILLAS_ATOL:
        major = 0.0
    if abs(minor) <= HILLAS_ATOL:
        minor = 0.0
    length = np.sqrt(major)
    width = np.sqrt(minor)
    psi = np.nan
    skewness = np.nan
    kurtosis = np.nan
    if length != 0.0:
        if cxx >= cyy:
            vx, vy = major - cyy, cxy
        else:
            vx, vy = cxy, major - cxx
        psi = np.arctan(vy / vx) if vx != 0.0 else np.pi / 2
        c = np.cos(psi)
        s = np.sin(psi)
        m3 = 0.0
        m4 = 0.0
        for k in range(n):
            longi = (x[k] - cog_x) * c + (y[k] - cog_y) * s
            l2 = longi * longi
            m3 += w[k] * l2 * longi
            m4 += w[k] * l2 * l2
        skewness = m3 / size / length**3
        kurtosis = m4 / size / length**4
    r = np.sqrt(cog_x * cog_x + cog_y * cog_y)
    phi = np.arctan2(cog_y, cog_x)
    return size, cog_x, cog_y, r, phi, length, width, psi, skewness, kurtosis
