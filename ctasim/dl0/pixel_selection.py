"""Pixel selection for data-volume reduction, after LST's DVR (cta-lstchain,
``scripts/lstchain_dvr_pixselector.py``).

Per event: pixels above the picture threshold (8 p.e.) plus ``n_rings`` rings of neighbours are
selected; an event with more than ``max_pixels`` selected pixels keeps the whole camera (LST: 500
of 1855 pixels). Per block: if more than ``max_survival_fraction`` (15%) of all pixels survive (whole-camera
events included, as in lstchain), the threshold is raised in steps of 1 p.e. until they do not (lstchain
raises it once, to the 99.9% quantile of interleaved-pedestal charges, which are not simulated
here), up to ``MAX_THRESHOLD_FACTOR`` times the picture threshold. Muon candidates, kept whole
by lstchain, are not identified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..instrument.camera import CameraGeometry

PICTURE_THRESHOLD_PE = 8.0
N_RINGS = 1
FULL_CAMERA_FRACTION = 500.0 / 1855.0   # lstchain: > 500 selected LST pixels keep the camera
MAX_SURVIVAL_FRACTION = 0.15
MAX_THRESHOLD_FACTOR = 4.0


@dataclass(frozen=True)
class PixelSelection:
    """Selected pixels (bool [n, n_pix]), the threshold applied (p.e.), whole-camera events (bool
    [n]) and the fraction of pixels selected."""

    mask: np.ndarray
    threshold_pe: float
    full_camera: np.ndarray
    survival_fraction: float


@njit(cache=True)
def _select_kernel(charge, threshold, n_rings, max_pixels, indptr, indices, mask, full):
    n, n_pix = charge.shape
    frontier = np.empty(n_pix, np.bool_)
    for e in range(n):
        m = mask[e]
        for p in range(n_pix):
            m[p] = charge[e, p] > threshold
        for _ in range(n_rings):
            for p in range(n_pix):   # element-wise: an array copy would compile numba's shape-error code
                frontier[p] = m[p]
            for p in range(n_pix):
                if not frontier[p]:
                    for j in range(indptr[p], indptr[p + 1]):
                        if frontier[indices[j]]:
                            m[p] = True
                            break
        count = 0
        for p in range(n_pix):
            count += m[p]
        full[e] = count > max_pixels
        if full[e]:
            for p in range(n_pix):
                m[p] = True


def select_pixels(
    charge: np.ndarray,
    geom: CameraGeometry,
    threshold_pe: float = PICTURE_THRESHOLD_PE,
    n_rings: int = N_RINGS,
    max_pixels: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One threshold: (mask bool [n, n_pix], whole-camera events bool [n]) for charges (p.e.)."""
    charge = np.ascontiguousarray(charge, np.float32)
    n = charge.shape[0]
    limit = int(FULL_CAMERA_FRACTION * geom.n_pixels) if max_pixels is None else int(max_pixels)
    mask = np.empty(charge.shape, np.bool_)
    full = np.empty(n, np.bool_)
    _select_kernel(charge, np.float32(threshold_pe), int(n_rings), limit,
                   geom.neighbors_indptr, geom.neighbors_indices, mask, full)
    return mask, full


def dvr_pixel_selection(
    charge: np.ndarray,
    geom: CameraGeometry,
    threshold_pe: float = PICTURE_THRESHOLD_PE,
    n_rings: int = N_RINGS,
    max_pixels: int | None = None,
    max_survival_fraction: float = MAX_SURVIVAL_FRACTION,
) -> PixelSelection:
    """Select pixels of a block of charges [n, n_pix] (p.e.), raising the threshold as needed."""
    cap = MAX_THRESHOLD_FACTOR * threshold_pe
    thr = float(threshold_pe)
    while True:
        mask, full = select_pixels(charge, geom, thr, n_rings, max_pixels)
        survival = float(mask.mean()) if mask.size else 0.0
        if survival <= max_survival_fraction or thr + 1.0 > cap:
            return PixelSelection(mask, thr, full, survival)
        thr += 1.0
