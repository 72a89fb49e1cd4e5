"""Exponential toy atmosphere: density, depth, refractive index and Cherenkov angle vs altitude.

Heights ``h`` are metres above sea level; depths in g/cm^2. Sources: ../shared/REFERENCE.md
(scale height ~8 km, column ~1000 g/cm^2, n-1 ~ 3e-4 at sea level, Cherenkov angle 1.38 deg at
sea level, 0.84 deg at 8 km).
"""

from __future__ import annotations

import numpy as np
from numba import njit

SCALE_HEIGHT_M = 8000.0          # m, exponential scale height (REFERENCE.md)
RHO0_G_CM3 = 1.225e-3            # g/cm^3 at sea level (US standard atmosphere)
COLUMN_G_CM2 = RHO0_G_CM3 * SCALE_HEIGHT_M * 100.0   # vertical depth at sea level, 980 g/cm^2
DELTA0 = 2.9e-4                  # n - 1 at sea level: gives a 1.38 deg Cherenkov angle (REFERENCE.md)
C_M_PER_NS = 0.299792458         # speed of light


@njit(cache=True)
def vertical_depth(h_m):
    """Vertical depth (g/cm^2) above height h (m a.s.l.)."""
    return COLUMN_G_CM2 * np.exp(-h_m / SCALE_HEIGHT_M)


@njit(cache=True)
def height_of_vertical_depth(x_v):
    """Height (m a.s.l.) at which the vertical depth is x_v (g/cm^2)."""
    return SCALE_HEIGHT_M * np.log(COLUMN_G_CM2 / x_v)


@njit(cache=True)
def relative_density(h_m):
    """Air density at h (m a.s.l.) relative to sea level."""
    return np.exp(-h_m / SCALE_HEIGHT_M)


@njit(cache=True)
def cherenkov_angle(h_m):
    """Cherenkov angle (rad) of a beta = 1 particle at height h (m a.s.l.): arccos(1 / n)."""
    return np.arccos(1.0 / (1.0 + DELTA0 * relative_density(h_m)))


