"""Pixel-level instrument faults of the simulated cameras: dead and hot pixels, stars, a non-uniform NSB.

- A dead pixel gives no photo-signal: its Cherenkov p.e. are lost and its waveform holds only the
  electronic noise (no NSB), so it cannot take part in the trigger.
- A hot pixel sees ``hot_rate_ghz`` spurious p.e. per ns on top of its NSB (a noisy or light-leaking
  photodetector): a high pedestal variance, and extra p.e. in its trigger groups.
- A star at a position of the telescope frame (fixed in the sky: with a tracked pointing it stays
  there in every telescope, whatever its position on the ground) adds the p.e. rate of its light
  spread by the optics' PSF (Gaussian, on-axis width plus the off-axis growth, integrated over the
  pixels) to the NSB of the pixels it covers.
- A gradient of the NSB across the field of view: the rate scales with 1 + ``gradient_per_deg`` x
  the field angle (deg) along ``gradient_direction_deg`` (from fov_lon towards fov_lat), at least 0.

Which pixels are dead and hot is drawn per telescope from ``block_rng(seed, "faults/pixels", tel_id)``
(``dead_fraction`` / ``hot_fraction`` of the camera, rounded) plus the listed ``dead_pixels`` /
``hot_pixels``; a pixel both dead and hot is dead. The faulty pixels' own noise traces come from
``block_rng(seed, "faults/noise", tel_id)``. Stars and the gradient are the same in every camera of a
type (a per-pixel NSB factor, ``nsb_scale``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..datamodel.simulation import pixel_fault_dtype
from ..instrument.frames import camera_to_telescope
from ..instrument.telescope import TelescopeDescription
from ..rng import block_rng
from .electronics import TRACE_SAMPLES, NoiseTrace, noise_trace_of_rates

#: photons per m^2 and ns of a star of magnitude 0 in the cameras' band (~300-600 nm): the V-band
#: zero point (Bessell 1998, 3.63e-9 erg cm^-2 s^-1 A^-1 = ~1000 photons cm^-2 s^-1 A^-1 at 550 nm)
#: over ~3000 A (est.); times mirror area and photon detection efficiency it is the p.e. rate
STAR_PHOTONS_PER_M2_NS_MAG0 = 30.0
PSF_GRID = 25            # sample points per axis of the PSF integration over pixels
PSF_GRID_SIGMAS = 4.0    # half-width of the integration grid (PSF sigmas)


@dataclass(frozen=True)
class Star:
    """A star in the telescope frame (deg) with its magnitude (V)."""

    fov_lon_deg: float
    fov_lat_deg: float
    magnitude: float


@dataclass(frozen=True)
class PixelOverlay:
    """A telescope's faulty pixels with their own noise traces: ``pixels`` (ascending), ``column``
    (per camera pixel: its column in ``trace``, -1 for a healthy pixel) and ``rate_ghz`` (their p.e.
    rate, NSB included)."""

    pixels: np.ndarray     # int64 [n_faulty]
    column: np.ndarray     # int64 [n_pixels]
    trace: NoiseTrace      # [TRACE_SAMPLES, n_faulty]
    rate_ghz: np.ndarray   # float64 [n_faulty]
    dead: np.ndarray       # bool [n_pixels]


@dataclass(frozen=True)
class PixelFaultModel:
    """The pixel faults of a run (see the module docstring); the default injects nothing."""

    dead_fraction: float = 0.0
    dead_pixels: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    hot_fraction: float = 0.0
    hot_pixels: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    hot_rate_ghz: float = 2.0
    stars: tuple[Star, ...] = ()
    gradient_per_deg: float = 0.0
    gradient_direction_deg: float = 0.0

    @property
    def empty(self) -> bool:
        """True when nothing is injected."""
        return not (self.dead_fraction or self.dead_pixels or self.hot_fraction or self.hot_pixels
                    or self.stars or self.gradient_per_deg)

    @property
    def per_telescope(self) -> bool:
        """True when some telescope has dead or hot pixels (faults that differ between telescopes)."""
        return bool(self.dead_fraction or self.dead_pixels or self.hot_fraction or self.hot_pixels)

    def dead_and_hot(self, tel_id: int, n_pixels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks [n_pixels] of a telescope's dead and hot pixels (disjoint: dead wins)."""
        rng = block_rng(seed, "faults/pixels", tel_id)
        order = rng.permutation(n_pixels)
        n_dead, n_hot = round(self.dead_fraction * n_pixels), round(self.hot_fraction * n_pixels)
        dead, hot = np.zeros(n_pixels, bool), np.zeros(n_pixels, bool)
        dead[order[:n_dead]] = True
        hot[order[n_dead:n_dead + n_hot]] = True
        dead[list(self.dead_pixels.get(tel_id, ()))] = True
        hot[list(self.hot_pixels.get(tel_id, ()))] = True
        return dead, hot & ~dead

    def star_rate_ghz(self, tel: TelescopeDescription) -> np.ndarray:
        """p.e. rate (p.e./ns) of the stars' light in each pixel of a telescope's camera."""
        geom, optics = tel.camera.geometry, tel.optics
        rate = np.zeros(geom.n_pixels)
        u = np.linspace(-PSF_GRID_SIGMAS, PSF_GRID_SIGMAS, PSF_GRID)
        gu, gv = np.meshgrid(u, u)
        weight = np.exp(-0.5 * (gu**2 + gv**2)).ravel()
        weight /= weight.sum()
        for star in self.stars:
            offset = np.hypot(star.fov_lon_deg, star.fov_lat_deg)
            sigma = np.hypot(optics.psf_sigma_deg, optics.psf_offaxis_deg_per_deg * offset)
            lon = star.fov_lon_deg + sigma * gu.ravel()
            lat = star.fov_lat_deg + sigma * gv.ravel()
            focal = optics.effective_focal_length
            # telescope frame -> camera frame: the inverse of instrument.frames.camera_to_telescope
            pixel = geom.pixel_at(np.deg2rad(lat) * focal, np.deg2rad(lon) * focal)
            inside = pixel >= 0
            total = (STAR_PHOTONS_PER_M2_NS_MAG0 * 10.0 ** (-0.4 * star.magnitude) * optics.mirror_area
                     * tel.camera.photon_detection_efficiency)
            rate += total * np.bincount(pixel[inside], weight[inside], minlength=geom.n_pixels)
        return rate

    def nsb_scale(self, tel: TelescopeDescription) -> np.ndarray | None:
        """Per-pixel factor on the camera's NSB rate from the gradient and the stars (None: uniform)."""
        if not (self.stars or self.gradient_per_deg):
            return None
        geom = tel.camera.geometry
        lon, lat = camera_to_telescope(geom.pix_x, geom.pix_y, tel.optics.effective_focal_length)
        angle = np.deg2rad(self.gradient_direction_deg)
        scale = np.maximum(1.0 + self.gradient_per_deg * (lon * np.cos(angle) + lat * np.sin(angle)), 0.0)
        return scale + self.star_rate_ghz(tel) / tel.camera.nsb_rate_ghz

    def overlay(self, tel_id: int, tel: TelescopeDescription, seed: int,
                nsb_scale: np.ndarray | None = None) -> PixelOverlay | None:
        """The faulty pixels of a telescope with their own noise traces (None: it has none)."""
        cam = tel.camera
        dead, hot = self.dead_and_hot(tel_id, cam.geometry.n_pixels, seed)
        pixels = np.flatnonzero(dead | hot)
        if pixels.size == 0:
            return None
        nsb = cam.nsb_rate_ghz * (np.ones(cam.geometry.n_pixels) if nsb_scale is None else nsb_scale)
        rate = np.where(dead[pixels], 0.0, nsb[pixels] + self.hot_rate_ghz)
        trace = noise_trace_of_rates(block_rng(seed, "faults/noise", tel_id), cam, rate, TRACE_SAMPLES)
        column = np.full(cam.geometry.n_pixels, -1, np.int64)
        column[pixels] = np.arange(pixels.size)
        return PixelOverlay(pixels.astype(np.int64), column, trace, rate, dead)

    def truth(self, tel_id: int, tel: TelescopeDescription, seed: int) -> np.ndarray:
        """The ``/simulation/service/pixel_faults/tel_NNN`` row of a telescope (what was injected)."""
        cam = tel.camera
        n = cam.geometry.n_pixels
        dead, hot = self.dead_and_hot(tel_id, n, seed)
        scale = self.nsb_scale(tel)
        row = np.zeros(1, pixel_fault_dtype(n))
        row["tel_id"] = tel_id
        row["dead"], row["hot"] = dead, hot
        row["nsb_rate"] = cam.nsb_rate_ghz * (np.ones(n) if scale is None else scale)
        row["star_rate"] = self.star_rate_ghz(tel) if self.stars else 0.0
        row["hot_rate"] = np.where(hot, self.hot_rate_ghz, 0.0)
        return row
