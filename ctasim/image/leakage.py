"""Leakage: fraction of selected pixels / intensity in the camera border, as ctapipe."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def leakage(
    pix: np.ndarray, w: np.ndarray, n: int, size: float, border1: np.ndarray, border2: np.ndarray
):
    """Selected pixels ``pix[:n]`` with charges ``w[:n]`` (p.e.) summing to ``size``.

    Returns (pixels_width_1, pixels_width_2, intensity_width_1, intensity_width_2).
    """
    n1 = 0
    n2 = 0
    q1 = 0.0
    q2 = 0.0
    for k in range(n):
        p = pix[k]
        if border1[p]:
            n1 += 1
            q1 += w[k]
        if border2[p]:
            n2 += 1
            q2 += w[k]
    return n1 / n, n2 / n, q1 / size, q2 / size
