"""Image cleaning over blocks of images: tail cuts and an optional arrival-time constraint.

``tailcuts_clean`` selects exactly the pixels of ctapipe's ``tailcuts_clean`` (same thresholds,
``min_number_picture_neighbors`` and ``keep_isolated_pixels`` semantics), ``time_delta_clean``
those of ctapipe's ``apply_time_delta_cleaning`` (lstchain's time constraint: a selected pixel
survives if at least ``min_number_neighbors`` selected neighbours arrived within
``time_limit_ns``). Thresholds are compared in the dtype of the images / times, as numpy does.

Default thresholds per camera (p.e., picture/boundary, two picture neighbours, isolated pixels
dropped) are ctapipe 0.28's ``resources/base_config.yaml``: LSTCam 8.5/4.25, NectarCam and
FlashCam 9/4.5, CHEC 4/2. The time constraint is off by default; lstchain uses 2 ns with one
neighbour (see ../shared/REFERENCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..instrument.camera import CameraGeometry


@dataclass(frozen=True)
class CleaningConfig:
    """Tail-cuts thresholds (p.e.) and the optional time constraint (ns; None = off)."""

    picture_pe: float
    boundary_pe: float
    min_picture_neighbors: int = 2
    keep_isolated_pixels: bool = False
    time_limit_ns: float | None = None
    min_time_neighbors: int = 1


# ctapipe 0.28 resources/base_config.yaml (TailcutsImageCleaner), keyed by camera name
DEFAULT_CLEANING: dict[str, CleaningConfig] = {
    "LSTCam": CleaningConfig(8.5, 4.25),
    "NectarCam": CleaningConfig(9.0, 4.5),
    "FlashCam": CleaningConfig(9.0, 4.5),
    "CHEC": CleaningConfig(4.0, 2.0),
}


def default_cleaning(camera_name: str) -> CleaningConfig:
    """The default cleaning of a camera (KeyError naming the known cameras if unknown)."""
    try:
        return DEFAULT_CLEANING[camera_name]
    except KeyError:
        raise KeyError(
            f"no default cleaning for camera {camera_name!r}; known: {sorted(DEFAULT_CLEANING)}"
        ) from None


@njit(cache=True)
def pixel_flags(n_pixels):
    """Zeroed flag bytes for n_pixels, padded to whole words -> (words uint64, flags uint8 view).

    Set ``flags[p]`` (0/1) for p < n_pixels, then ``flagged_pixels`` lists the set ones.
    """
    words = np.zeros((n_pixels + 7) // 8, np.uint64)
    return words, words.view(np.uint8)


@njit(cache=True)
def flagged_pixels(words, flags, out):
    """Indices of the set ``flags`` (ascending) into out -> their count; 8 flags per test."""
    n = 0
    for w in range(len(words)):
        if words[w]:
            for p in range(8 * w, 8 * w + 8):
                out[np.uint64(n)] = p  # unsigned: no negative-index wraparound code
                n += flags[p]
    return n


@njit(cache=True)
def _tailcuts_kernel(
    images, indptr, indices, picture, boundary, min_neighbors, keep_isolated, masks
):
    n_images, n_pixels = images.shape
    words, above_picture = pixel_flags(n_pixels)
    core = np.empty(n_pixels, np.int64)  # pixels above the picture threshold
    count_neighbors = min_neighbors > 0 and not keep_isolated
    for i in range(n_images):
        img = images[i]
        mask = masks[i]
        mask[:] = False
        for p in range(n_pixels):  # branch-free, vectorised
            above_picture[p] = img[p] >= picture
        n_core = flagged_pixels(words, above_picture, core)
        for k in range(n_core):
            p = core[k]
            if count_neighbors:  # in the picture only with enough picture neighbours
                count = 0
                for j in range(indptr[p], indptr[p + 1]):
                    count += above_picture[np.uint64(indices[j])]  # unsigned: no wraparound
                if count < min_neighbors:
                    continue
            keep = keep_isolated
            for j in range(indptr[p], indptr[p + 1]):
                q = np.uint64(indices[j])
                above_boundary = img[q] >= boundary  # next to the picture, and p has one
                mask[q] |= above_boundary
                keep |= above_boundary
            mask[p] |= keep


@njit(cache=True)
def _time_delta_kernel(masks, times, indptr, indices, min_neighbors, time_limit, out):
    n_images, n_pixels = masks.shape
    for i in range(n_images):
        mask = masks[i]
        t = times[i]
        for p in range(n_pixels):
            keep = False
            if mask[p]:
                count = 0
                for j in range(indptr[p], indptr[p + 1]):
                    q = indices[j]
                    if mask[q] and abs(t[p] - t[q]) < time_limit:
                        count += 1
                keep = count >= min_neighbors
            out[i, p] = keep


def _check_block(name: str, block: np.ndarray, geom: CameraGeometry) -> np.ndarray:
    block = np.ascontiguousarray(block)
    if block.ndim != 2 or block.shape[1] != geom.n_pixels:
        raise ValueError(f"{name}: expected shape (n_images, {geom.n_pixels}), got {block.shape}")
    return block


def tailcuts_clean(
    images: np.ndarray,
    geom: CameraGeometry,
    picture_pe: float,
    boundary_pe: float,
    min_picture_neighbors: int = 0,
    keep_isolated_pixels: bool = False,
) -> np.ndarray:
    """Two-threshold cleaning of images [n_images, n_pixels] (p.e.) -> bool masks, as ctapipe.

    A picture pixel (>= picture_pe, and with >= min_picture_neighbors picture neighbours unless
    keep_isolated_pixels) is kept if it has a neighbour >= boundary_pe (always, if
    keep_isolated_pixels); a pixel >= boundary_pe is kept if it has a picture neighbour.
    """
    images = _check_block("images", images, geom)
    masks = np.empty(images.shape, bool)
    dtype = images.dtype.type
    _tailcuts_kernel(
        images,
        geom.neighbors_indptr,
        geom.neighbors_indices,
        dtype(picture_pe),
        dtype(boundary_pe),
        int(min_picture_neighbors),
        bool(keep_isolated_pixels),
        masks,
    )
    return masks


def time_delta_clean(
    masks: np.ndarray,
    peak_times: np.ndarray,
    geom: CameraGeometry,
    min_number_neighbors: int,
    time_limit_ns: float,
) -> np.ndarray:
    """Keep selected pixels with >= min_number_neighbors selected neighbours |dt| < limit ns."""
    masks = _check_block("masks", masks, geom).astype(bool, copy=False)
    peak_times = _check_block("peak_times", peak_times, geom)
    out = np.empty(masks.shape, bool)
    _time_delta_kernel(
        masks,
        peak_times,
        geom.neighbors_indptr,
        geom.neighbors_indices,
        int(min_number_neighbors),
        peak_times.dtype.type(time_limit_ns),
        out,
    )
    return out


def clean_images(
    images: np.ndarray,
    peak_times: np.ndarray,
    geom: CameraGeometry,
    config: CleaningConfig,
    unusable: np.ndarray | None = None,
) -> np.ndarray:
    """Tail cuts, then the time constraint if ``config.time_limit_ns`` is set -> bool masks.

    ``unusable`` (bool [n_pixels], e.g. dead or noisy pixels of the data quality): their charge is
    taken as 0, so they neither seed nor extend a picture, and they never survive cleaning.
    """
    if unusable is not None and unusable.any():
        images = np.where(unusable, images.dtype.type(0), images)
    masks = tailcuts_clean(
        images,
        geom,
        config.picture_pe,
        config.boundary_pe,
        config.min_picture_neighbors,
        config.keep_isolated_pixels,
    )
    if config.time_limit_ns is not None:
        masks = time_delta_clean(
            masks, peak_times, geom, config.min_time_neighbors, config.time_limit_ns
        )
    if unusable is not None:
        masks[:, unusable] = False
    return masks
