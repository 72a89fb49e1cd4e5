"""DL1 image parameters of blocks of images of one camera: one numba kernel, one call per block.

``image_parameters`` returns a structured array with the DL1 parameter columns of the data model
(``ctasim.datamodel.dl1.PARAMETERS_DTYPE``), computed in the telescope frame (deg) with
the definitions of ctapipe 0.28's ``ImageProcessor`` (``use_telescope_frame=True``): Hillas,
leakage, concentration, timing, morphology.

Deliberate differences from ctapipe's ImageProcessor:

- Images that fail ctapipe's default image quality query (fewer than 2 selected pixels or
  intensity <= 0) get NaN Hillas, leakage, concentration and timing parameters, as in ctapipe,
  but keep their intensity (0 for an empty mask, where ctapipe writes NaN) and their morphology
  (``morphology_n_pixels``, ``morphology_n_islands`` counted; ctapipe writes -1).
- Nothing raises for a bad image: ctapipe's timing raises for negative charges in the mask,
  here they are used as they are.
- Timing uses ctapipe's random LTS starts from the generator passed in (``rng``; a fresh
  ``default_rng(0)`` per call by default), so a block's timing parameters are reproducible and
  equal ctapipe's for the same generator state and image order (see ``ctasim.image.timing``).
- Exact ties decided by rounding can go the other way: a pixel exactly one pixel width from the
  centroid (``concentration_cog``), the line through 3-pixel images (``timing_*``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..datamodel.dl1 import FLOAT_COLUMNS, INT_COLUMNS, PARAMETERS_DTYPE
from ..instrument.camera import CameraGeometry
from ..instrument.telescope import TelescopeDescription
from .cleaning import CleaningConfig, clean_images, default_cleaning, flagged_pixels, pixel_flags
from .concentration import concentration
from .hillas import hillas
from .leakage import leakage
from .morphology import n_islands
from .pixels import telescope_pixels
from .timing import timing, timing_workspace


@njit(cache=True)
def _parameters_kernel(
    images,
    peak_times,
    masks,
    lon,
    lat,
    pix_width,
    border1,
    border2,
    indptr,
    indices,
    rng,
    out_f,
    out_i,
):
    n_images, n_pixels = images.shape
    pix = np.empty(n_pixels, np.int64)
    x = np.empty(n_pixels)
    y = np.empty(n_pixels)
    w = np.empty(n_pixels)
    t = np.empty(n_pixels)
    width = np.empty(n_pixels)
    labels = np.zeros(n_pixels, np.int32)
    stack = np.empty(n_pixels, np.int64)
    work = timing_workspace(n_pixels)
    words, selected = pixel_flags(n_pixels)
    for i in range(n_images):
        mask = masks[i]
        for p in range(n_pixels):
            selected[p] = mask[p]
        n = flagged_pixels(words, selected, pix)
        total = 0.0
        for k in range(n):
            p = np.uint64(pix[k])  # unsigned: no negative-index wraparound code
            x[k] = lon[p]
            y[k] = lat[p]
            w[k] = images[i, p]
            t[k] = peak_times[i, p]
            width[k] = pix_width[p]
            total += w[k]
        out_i[i, 0] = n
        out_i[i, 1] = n_islands(pix, n, indptr, indices, labels, stack)
        row = out_f[i]
        row[:] = np.nan
        row[0] = total
        if n < 2 or not total > 0.0:  # ctapipe's ImageQualityQuery defaults
            continue
        size, cog_x, cog_y, r, phi, length, wid, psi, skewness, kurtosis = hillas(x, y, w, n)
        row[0] = size
        row[1] = cog_x
        row[2] = cog_y
        row[3] = r
        row[4] = np.rad2deg(phi)
        row[5] = length
        row[6] = wid
        row[7] = np.rad2deg(psi)
        row[8] = skewness
        row[9] = kurtosis
        row[10], row[11], row[12], row[13] = leakage(pix, w, n, size, border1, border2)
        row[14], row[15], row[16] = concentration(
            x, y, w, width, n, size, cog_x, cog_y, length, wid, psi
        )
        row[17], row[18], row[19] = timing(x, y, t, n, cog_x, cog_y, psi, rng, work)


def image_parameters(
    images: np.ndarray,
    peak_times: np.ndarray,
    masks: np.ndarray,
    geom: CameraGeometry,
    focal_length_m: float,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """DL1 parameters of images [n, n_pixels] (p.e.) with peak times (ns) and cleaning masks.

    Pixel positions are mapped to the telescope frame with ``focal_length_m`` (the effective
    focal length, as ``TelescopeDescription.camera_to_fov_deg``). Returns a structured array
    [n] of ``PARAMETERS_DTYPE``.
    """
    shape = (len(images), geom.n_pixels)
    images = np.ascontiguousarray(images)
    peak_times = np.ascontiguousarray(peak_times)
    masks = np.ascontiguousarray(masks, dtype=bool)
    for name, block in (("images", images), ("peak_times", peak_times), ("masks", masks)):
        if block.shape != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {block.shape}")
    px = telescope_pixels(geom, focal_length_m)
    out_f = np.empty((shape[0], len(FLOAT_COLUMNS)))
    out_i = np.empty((shape[0], len(INT_COLUMNS)), np.int32)
    _parameters_kernel(
        images,
        peak_times,
        masks,
        px.fov_lon,
        px.fov_lat,
        px.width,
        px.border1,
        px.border2,
        geom.neighbors_indptr,
        geom.neighbors_indices,
        np.random.default_rng(0) if rng is None else rng,
        out_f,
        out_i,
    )
    params = np.empty(shape[0], PARAMETERS_DTYPE)
    for j, name in enumerate(FLOAT_COLUMNS):
        params[name] = out_f[:, j]
    for j, name in enumerate(INT_COLUMNS):
        params[name] = out_i[:, j]
    return params


def process_images(
    images: np.ndarray,
    peak_times: np.ndarray,
    tel: TelescopeDescription,
    cleaning: CleaningConfig | None = None,
    rng: np.random.Generator | None = None,
    unusable: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Clean (camera default if ``cleaning`` is None; ``unusable`` pixels masked, see
    ``clean_images``) and parametrise -> (masks, parameters)."""
    geom = tel.camera.geometry
    config = default_cleaning(tel.camera_name) if cleaning is None else cleaning
    masks = clean_images(images, peak_times, geom, config, unusable)
    params = image_parameters(
        images, peak_times, masks, geom, tel.optics.effective_focal_length, rng
    )
    return masks, params
