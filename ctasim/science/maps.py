"""Counts, excess and significance sky maps on a tangent-plane (gnomonic, TAN) grid around a centre.

Events are projected with astropy's WCS and histogrammed per pixel (arrays of shape (n_dec, n_ra),
FITS order, RA increasing to the left). The background of each pixel's on region (a disk around its
centre) is either measured in a ring around it (``ring_background``: alpha = on / ring acceptance,
excluded regions left out of the ring) or given as an off map with its alpha (reflected regions, an
off run), and the significance is the signed Li & Ma (``significance.signed_li_ma``). Disks and rings
are drawn on the pixel grid (flat-sky approximation, good to < 1% within a few degrees of the centre).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS
from scipy.signal import fftconvolve

from ..errors import CtasimError
from .significance import signed_li_ma


@dataclass(frozen=True, eq=False)
class SkyGrid:
    """``shape`` = (n_dec, n_ra) square pixels of ``pixel_size`` (deg) centred on ``center`` (ICRS)."""

    center: SkyCoord
    pixel_size: u.Quantity
    shape: tuple[int, int]

    @cached_property
    def wcs(self) -> WCS:
        wcs = WCS(naxis=2)
        size = self.pixel_size.to_value(u.deg)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [self.center.icrs.ra.deg, self.center.icrs.dec.deg]
        wcs.wcs.crpix = [(self.shape[1] + 1) / 2, (self.shape[0] + 1) / 2]  # FITS pixels count from 1
        wcs.wcs.cdelt = [-size, size]
        wcs.wcs.cunit = ["deg", "deg"]
        wcs.wcs.radesys = "ICRS"
        return wcs

    def header(self) -> dict:
        """FITS image keywords of the grid (NAXIS*, CTYPE*, CRVAL*, CRPIX*, CDELT*, CUNIT*, RADESYS ...)."""
        return {"NAXIS": 2, "NAXIS1": self.shape[1], "NAXIS2": self.shape[0], **dict(self.wcs.to_header())}

    def pixel(self, coords: SkyCoord) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) pixel coordinates (0-based, pixel centres at integers) of sky positions; NaN if unprojectable."""
        return self.wcs.world_to_pixel(coords.icrs)

    def pixel_centers(self) -> SkyCoord:
        """Sky positions of the pixel centres, shape ``shape``."""
        y, x = np.mgrid[: self.shape[0], : self.shape[1]]
        return self.wcs.pixel_to_world(x, y)

    def radius_in_pixels(self, angle: u.Quantity) -> float:
        """An angle on the sky in pixels (flat-sky)."""
        return float((angle / self.pixel_size).to_value(u.one))


@dataclass(frozen=True, eq=False)
class SkyMaps:
    """On counts (in each pixel's on region), off counts, alpha, excess = n_on - alpha n_off and the signed Li &
    Ma significance per pixel; NaN where there is no off measurement (alpha undefined)."""

    grid: SkyGrid
    n_on: np.ndarray
    n_off: np.ndarray
    alpha: np.ndarray
    excess: np.ndarray
    significance: np.ndarray


def sky_grid(center: SkyCoord, width: u.Quantity, pixel_size: u.Quantity) -> SkyGrid:
    """A square grid of about ``width`` on a side (rounded to whole pixels) centred on ``center``."""
    try:
        size, side = u.Quantity(pixel_size).to(u.deg), u.Quantity(width).to(u.deg)
    except (u.UnitsError, TypeError, ValueError):
        raise CtasimError(f"sky grid: width {width} and pixel size {pixel_size}: expected angles") from None
    if not (size.value > 0 and side.value >= size.value and side.value < 180):
        raise CtasimError(f"sky grid: width {side} and pixel size {size}: expected 0 < pixel size <= width < 180 deg")
    n = round((side / size).to_value(u.one))
    return SkyGrid(SkyCoord(center).icrs, size, (n, n))


def counts_map(ra: u.Quantity, dec: u.Quantity, grid: SkyGrid) -> np.ndarray:
    """Number of events per pixel from their RA/Dec; events off the grid are left out."""
    try:
        ra, dec = u.Quantity(ra, u.deg), u.Quantity(dec, u.deg)
    except (u.UnitsError, TypeError, ValueError) as err:
        raise CtasimError(f"counts map: expected event RA and Dec as angles ({err})") from None
    if ra.shape != dec.shape:
        raise CtasimError(f"counts map: {ra.size} RA for {dec.size} Dec values: expected RA and Dec of one shape")
    coords = SkyCoord(ra, dec, frame="icrs")
    x, y = grid.pixel(coords)
    finite = np.isfinite(x) & np.isfinite(y)
    edges = [np.arange(n + 1) - 0.5 for n in grid.shape]
    return np.histogram2d(y[finite], x[finite], bins=edges)[0]


def exclusion_mask(grid: SkyGrid, centers: SkyCoord, radii: u.Quantity) -> np.ndarray:
    """True for pixels whose centre lies within ``radii`` of any of ``centers`` (regions kept out of rings)."""
    pixels = grid.pixel_centers()
    centers = centers.reshape(-1)
    radii = u.Quantity(radii, u.deg) * np.ones(centers.shape)
    excluded = np.zeros(grid.shape, bool)
    for center, radius in zip(centers, radii):
        excluded |= pixels.separation(center) < radius
    return excluded


def ring_background(counts: np.ndarray, grid: SkyGrid, on_radius: u.Quantity, inner_radius: u.Quantity,
                    outer_radius: u.Quantity, exclusion: np.ndarray | None = None,
                    acceptance: np.ndarray | None = None) -> SkyMaps:
    """Maps with each pixel's on region a disk of ``on_radius`` and its background from the ring
    [inner_radius, outer_radius] around it, leaving out ``exclusion`` (True = excluded) pixels.
    ``acceptance``: relative background acceptance per pixel (default flat), which sets alpha."""
    counts = _map(counts, grid, "counts")
    accept = np.ones(grid.shape) if acceptance is None else _map(acceptance, grid, "acceptance")
    keep = np.ones(grid.shape) if exclusion is None else ~_map(exclusion, grid, "exclusion").astype(bool)
    r_on, r_in, r_out = (grid.radius_in_pixels(u.Quantity(r, u.deg)) for r in (on_radius, inner_radius, outer_radius))
    if not 0 < r_on <= r_in < r_out:
        raise CtasimError(f"ring background: radii on {on_radius}, ring {inner_radius}-{outer_radius}: expected "
                          "0 < on <= inner < outer")
    disk, ring = _annulus(0.0, r_on), _annulus(r_in, r_out)
    n_on = np.rint(_correlate(counts, disk))
    n_off = np.rint(_correlate(counts * keep, ring))
    on_acceptance, off_acceptance = _correlate(accept, disk), _correlate(accept * keep, ring)
    alpha = np.divide(on_acceptance, off_acceptance, out=np.full(grid.shape, np.nan),
                      where=off_acceptance > 1e-9 * off_acceptance.max())
    return on_off_maps(n_on, n_off, alpha, grid)


def on_off_maps(n_on: np.ndarray, n_off: np.ndarray, alpha: np.ndarray | float, grid: SkyGrid) -> SkyMaps:
    """Excess and significance from on and off counts maps and alpha (scalar or per pixel; NaN: no off data)."""
    n_on, n_off = _map(n_on, grid, "on counts"), _map(n_off, grid, "off counts")
    alpha = np.array(np.broadcast_to(np.asarray(alpha, np.float64), grid.shape))
    if np.any(n_on < 0) or np.any(n_off < 0) or np.any(alpha <= 0):
        raise CtasimError("on/off maps: expected counts >= 0 and alpha > 0 (NaN where there is no off measurement)")
    defined = np.isfinite(alpha)
    safe = np.where(defined, alpha, 1.0)
    excess = np.where(defined, n_on - safe * n_off, np.nan)
    significance = np.where(defined, signed_li_ma(n_on, n_off, safe), np.nan)
    return SkyMaps(grid, n_on, n_off, alpha, excess, significance)


def _map(values: np.ndarray, grid: SkyGrid, name: str) -> np.ndarray:
    array = np.asarray(values, np.float64)
    if array.shape != grid.shape:
        raise CtasimError(f"sky maps: {name} has shape {array.shape}, the grid {grid.shape}")
    if not np.all(np.isfinite(array)):
        raise CtasimError(f"sky maps: {name} has non-finite values")
    return array


def _annulus(inner: float, outer: float) -> np.ndarray:
    """Kernel of the pixels whose centre lies at a distance in [inner, outer] pixels from the central one."""
    n = int(np.ceil(outer))
    y, x = np.mgrid[-n : n + 1, -n : n + 1]
    distance = np.hypot(x, y)
    return ((distance >= inner) & (distance <= outer)).astype(np.float64)


def _correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Sum of ``image`` under the (symmetric) kernel centred on each pixel; zero outside the map."""
    return np.clip(fftconvolve(image, kernel, mode="same"), 0.0, None)
