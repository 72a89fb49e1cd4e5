"""Camera pixel geometry built from a few numbers: pixel grid, neighbours (CSR) and a fast lookup.

Coordinates are in the camera frame, metres, as in ctapipe. Pixels are generated on a regular
hexagonal or square lattice and the ``n_pixels`` lattice sites closest to the camera centre are
kept (hexagonal cameras fill hexagonal rings, square ones are squares of modules less the corner
modules), which reproduces the pixel count, pitch and extent of the real cameras; gaps between
modules are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

HEX = "hexagon"
SQUARE = "square"
LOOKUP_CELLS_PER_PITCH = 6


@dataclass(frozen=True, eq=False)
class CameraGeometry:
    """Pixel positions (m, camera frame), areas (m^2), neighbours and a position -> pixel lookup."""

    name: str
    pix_x: np.ndarray
    pix_y: np.ndarray
    pix_area: np.ndarray
    pix_type: str
    pitch: float
    pix_rotation_deg: float = 0.0
    cam_rotation_deg: float = 0.0
    neighbors_indptr: np.ndarray = field(repr=False, default=None)
    neighbors_indices: np.ndarray = field(repr=False, default=None)
    #: the position -> pixel lookup, built on first use when not given (``lookup``)
    pixel_lookup: PixelLookup | None = field(repr=False, default=None)

    @property
    def n_pixels(self) -> int:
        return int(self.pix_x.size)

    @property
    def radius(self) -> float:
        """Distance of the outermost pixel centre from the camera centre (m)."""
        return float(np.hypot(self.pix_x, self.pix_y).max())

    @property
    def lookup(self) -> PixelLookup:
        """The position -> pixel lookup (cells of 1/``LOOKUP_CELLS_PER_PITCH`` pitch), built on first
        use: ~0.1 s per camera, which readers of files that never call ``pixel_at`` do not pay."""
        if self.pixel_lookup is None:
            xy = np.column_stack([self.pix_x, self.pix_y])
            object.__setattr__(self, "pixel_lookup", _build_lookup(xy, self.pitch, self.pix_type))
        return self.pixel_lookup

    def neighbor_counts(self) -> np.ndarray:
        return np.diff(self.neighbors_indptr)

    def pixel_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Pixel index (int32) containing each camera position (m); -1 outside the camera."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        out = np.empty(x.shape, np.int32)
        lk = self.lookup
        _lookup_kernel(x.ravel(), y.ravel(), lk.x0, lk.y0, lk.cell, lk.table, out.ravel())
        return out


@dataclass(frozen=True, eq=False)
class PixelLookup:
    """Regular grid of cells (side ``cell`` m, origin x0, y0) holding the pixel of each cell centre."""

    x0: float
    y0: float
    cell: float
    table: np.ndarray  # int32 [ny, nx], -1 outside


@njit(cache=True)
def _lookup_kernel(x, y, x0, y0, cell, table, out):
    ny, nx = table.shape
    for k in range(x.size):
        i = int(np.floor((y[k] - y0) / cell))
        j = int(np.floor((x[k] - x0) / cell))
        if i < 0 or j < 0 or i >= ny or j >= nx:
            out[k] = -1
        else:
            out[k] = table[i, j]


def _lattice(pix_type: str, pitch: float, n_pixels: int, rotation_deg: float) -> np.ndarray:
    """The n_pixels lattice sites nearest the centre, [n, 2] m, ordered by radius then angle."""
    n_side = int(np.ceil(np.sqrt(n_pixels))) + 4
    i, j = np.meshgrid(np.arange(-n_side, n_side + 1), np.arange(-n_side, n_side + 1))
    i, j = i.ravel().astype(float), j.ravel().astype(float)
    if pix_type == HEX:
        x = pitch * (i + 0.5 * j)
        y = pitch * (np.sqrt(3.0) / 2.0) * j
        # hexagonal outline: rings of equal hexagonal distance, as the real hexagonal cameras
        ring = np.maximum(np.abs(i), np.maximum(np.abs(j), np.abs(i + j)))
    else:  # square: centre the grid between pixels, as a camera of modules is
        x = pitch * (i + 0.5)
        y = pitch * (j + 0.5)
        ring = np.zeros_like(x)
    r = np.round(np.hypot(x, y) / pitch, 9)
    phi = np.round(np.arctan2(y, x), 9)
    keep = np.lexsort((phi, r, ring))[:n_pixels]
    xy = np.column_stack([x[keep], y[keep]])
    rot = np.deg2rad(rotation_deg)
    c, s = np.cos(rot), np.sin(rot)
    return xy @ np.array([[c, s], [-s, c]])


def _square_outline(pitch: float, n_pixels: int, module_size: int) -> np.ndarray:
    """Square camera of module_size x module_size modules with the corner modules removed (CHEC)."""
    n_mod_pixels = module_size * module_size
    n_modules_side = int(round(np.sqrt(n_pixels / n_mod_pixels + 4)))
    if n_modules_side**2 - 4 != n_pixels // n_mod_pixels or n_pixels % n_mod_pixels:
        raise ValueError(f"{n_pixels} pixels do not fill a square of {module_size}x{module_size} modules")
    n_side = n_modules_side * module_size
    i, j = np.meshgrid(np.arange(n_side), np.arange(n_side))
    mi, mj = i // module_size, j // module_size
    last = n_modules_side - 1
    corner = ((mi == 0) | (mi == last)) & ((mj == 0) | (mj == last))
    x = (i[~corner] - (n_side - 1) / 2.0) * pitch
    y = (j[~corner] - (n_side - 1) / 2.0) * pitch
    return np.column_stack([x.ravel(), y.ravel()])


def _neighbors_csr(xy: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Edge-sharing neighbours as CSR arrays (int32 indptr [n+1], indices)."""
    pairs = cKDTree(xy).query_pairs(r=1.1 * pitch, output_type="ndarray")
    n = len(xy)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols.astype(np.int32)


def _build_lookup(xy: np.ndarray, pitch: float, pix_type: str) -> PixelLookup:
    cell = pitch / LOOKUP_CELLS_PER_PITCH
    lo = xy.min(axis=0) - pitch
    hi = xy.max(axis=0) + pitch
    nx, ny = (np.ceil((hi - lo) / cell).astype(int) + 1).tolist()
    cx = lo[0] + (np.arange(nx) + 0.5) * cell
    cy = lo[1] + (np.arange(ny) + 0.5) * cell
    gx, gy = np.meshgrid(cx, cy)
    dist, idx = cKDTree(xy).query(np.column_stack([gx.ravel(), gy.ravel()]))
    # a cell belongs to its nearest pixel if it lies inside that pixel's cell of the lattice
    limit = pitch / np.sqrt(3.0) if pix_type == HEX else pitch / np.sqrt(2.0)
    table = np.where(dist <= limit, idx, -1).astype(np.int32).reshape(ny, nx)
    return PixelLookup(float(lo[0]), float(lo[1]), float(cell), table)


def build_camera_geometry(
    name: str,
    pix_type: str,
    n_pixels: int,
    pitch: float,
    pix_rotation_deg: float = 0.0,
    cam_rotation_deg: float = 0.0,
    module_size: int | None = None,
) -> CameraGeometry:
    """Generate a camera of ``n_pixels`` pixels of side/flat-to-flat ``pitch`` (m).

    Square cameras with ``module_size`` are built as CHEC is: a square of modules with the four
    corner modules missing.
    """
    if pix_type not in (HEX, SQUARE):
        raise ValueError(f"pixel type {pix_type!r}: expected {HEX!r} or {SQUARE!r}")
    if pix_type == SQUARE and module_size:
        xy = _square_outline(pitch, n_pixels, module_size)
    else:
        xy = _lattice(pix_type, pitch, n_pixels, pix_rotation_deg)
    area = (np.sqrt(3.0) / 2.0 if pix_type == HEX else 1.0) * pitch**2
    indptr, indices = _neighbors_csr(xy, pitch)
    return CameraGeometry(
        name=name,
        pix_x=np.ascontiguousarray(xy[:, 0]),
        pix_y=np.ascontiguousarray(xy[:, 1]),
        pix_area=np.full(len(xy), area),
        pix_type=pix_type,
        pitch=float(pitch),
        pix_rotation_deg=float(pix_rotation_deg),
        cam_rotation_deg=float(cam_rotation_deg),
        neighbors_indptr=indptr,
        neighbors_indices=indices,
    )
