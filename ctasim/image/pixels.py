"""Per-geometry pixel quantities for image parametrisation, computed once and cached.

- Pixel centres in the telescope frame (deg): the equidistant mapping of ctapipe's
  CameraFrame -> TelescopeFrame, ``fov_lon = y / f``, ``fov_lat = x / f`` (rad), zero camera
  rotation (see ``ctasim.instrument.frames``).
- Pixel width (deg): in-circle diameter for hexagons, edge for squares, from the pixel area as
  ctapipe's ``CameraGeometry.pixel_width``.
- Border masks of width 1 and 2 as ctapipe's ``CameraGeometry.get_border_pixel_mask``: width 1 are
  the pixels with fewer neighbours than the camera's maximum; width 2 the pixels having a
  neighbour of width 1.

The border masks depend on the geometry only and are cached on the camera name (a camera name
identifies one geometry, as in the instrument tables of the data model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..instrument.camera import HEX, CameraGeometry
from ..instrument.frames import camera_to_telescope


@dataclass(frozen=True, eq=False)
class TelescopePixels:
    """Pixel centres (deg), widths (deg) and border masks of one camera on one telescope."""

    fov_lon: np.ndarray  # float64 [n_pixels], deg
    fov_lat: np.ndarray  # float64 [n_pixels], deg
    width: np.ndarray  # float64 [n_pixels], deg
    border1: np.ndarray  # bool [n_pixels]
    border2: np.ndarray  # bool [n_pixels]


_BORDER_CACHE: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
_PIXELS_CACHE: dict[tuple[str, int, float], TelescopePixels] = {}


def pixel_width_m(geom: CameraGeometry) -> np.ndarray:
    """Pixel width (m) from the pixel area: hexagon in-circle diameter or square edge."""
    if geom.pix_type == HEX:
        return 2.0 * np.sqrt(geom.pix_area / (2.0 * np.sqrt(3.0)))
    return np.sqrt(geom.pix_area)


def border_pixel_masks(geom: CameraGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Border masks (bool [n_pixels]) of width 1 and 2, cached on the camera name."""
    key = (geom.name, geom.n_pixels)
    if key not in _BORDER_CACHE:
        counts = geom.neighbor_counts()
        border1 = counts < counts.max()
        rows = np.repeat(np.arange(geom.n_pixels), counts)
        border2 = np.zeros(geom.n_pixels, bool)
        border2[rows[border1[geom.neighbors_indices]]] = True
        _BORDER_CACHE[key] = (border1, border2)
    return _BORDER_CACHE[key]


def telescope_pixels(geom: CameraGeometry, focal_length_m: float) -> TelescopePixels:
    """Telescope-frame pixel centres and widths (deg) and border masks, cached per camera and f."""
    key = (geom.name, geom.n_pixels, float(focal_length_m))
    if key not in _PIXELS_CACHE:
        fov_lon, fov_lat = camera_to_telescope(geom.pix_x, geom.pix_y, focal_length_m)
        border1, border2 = border_pixel_masks(geom)
        _PIXELS_CACHE[key] = TelescopePixels(
            fov_lon=np.ascontiguousarray(fov_lon, dtype=np.float64),
            fov_lat=np.ascontiguousarray(fov_lat, dtype=np.float64),
            width=np.rad2deg(pixel_width_m(geom) / focal_length_m),
            border1=border1,
            border2=border2,
        )
    return _PIXELS_CACHE[key]
