"""Concentration: light near the centroid, inside the Hillas ellipse and in the brightest pixel.

As ctapipe's ``concentration_parameters``: ``cog`` sums pixels whose centre lies within one pixel
width of the centroid, ``core`` those inside the ellipse (0 when width == 0), ``pixel`` the
brightest pixel, each divided by the intensity. A pixel lying exactly one pixel width from the
centroid (equal charges on a square grid can put it there) falls on either side of the strict
``<`` by rounding, here as in ctapipe, so ``cog`` can differ from ctapipe's in such ties.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def concentration(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    pix_width: np.ndarray,
    n: int,
    size: float,
    cog_x: float,
    cog_y: float,
    length: float,
    width: float,
    psi: float,
):
    """Selected pixels ``x[:n], y[:n]`` (deg), charges ``w[:n]``, widths ``pix_width[:n]`` (deg).

    Returns (cog, core, pixel) fractions of ``size``.
    """
    c = np.cos(psi)
    s = np.sin(psi)
    q_cog = 0.0
    q_core = 0.0
    q_max = -np.inf
    for k in range(n):
        dx = x[k] - cog_x
        dy = y[k] - cog_y
        if dx * dx + dy * dy < pix_width[k] * pix_width[k]:
            q_cog += w[k]
        if width != 0.0:
            longi = dx * c + dy * s
            trans = -dx * s + dy * c
            if longi**2 / length**2 + trans**2 / width**2 <= 1.0:
                q_core += w[k]
        q_max = max(q_max, w[k])
    return q_cog / size, q_core / size, q_max / size
