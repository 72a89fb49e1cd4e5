"""Exponential toy atmosphere: density, depth, refractive index, Cherenkov angle and the extinction
of Cherenkov light vs altitude.

Heights ``h`` are metres above sea level; depths in g/cm^2. Sources: ../shared/REFERENCE.md
(scale height ~8 km, column ~1000 g/cm^2, n-1 ~ 3e-4 at sea level, Cherenkov angle 1.38 deg at
sea level, 0.84 deg at 8 km).

The atmosphere is flat (plane-parallel): an inclined shower reaches the slant depth X at the height
where the vertical depth is X cos(zenith), and light crossing the layer between heights h1 < h2 at
zenith angle z meets 1 / cos(z) times the layer's vertical optical depth (airmass). Both are good
to ~1% up to 60 deg zenith.

Extinction (``Extinction``): light of wavelength lambda emitted at height h reaching the observation
level at airmass m is attenuated by exp(-m tau(lambda, h)), with the vertical optical depth of
the layer between the observation level and h

- Rayleigh (molecules): tau_R(lambda) (X_v(obs) - X_v(h)) / X_std, tau_R of the whole standard
  column X_std = 1033.2 g/cm^2 (1013.25 hPa) from Bodhaine et al. 1999 (J. Atmos. Oceanic
  Technol. 16, 1854, their eq. 30: 0.360 at 400 nm); the layer's share follows the toy's density
  profile, so it scales with the same column as the shower;
- aerosols (Mie): tau_A(lambda) = tau_A(532 nm) (lambda / 532 nm)^-angstrom, distributed
  exponentially above the observation level with scale height ``aerosol_scale_height_m``. Values
  (est.) for a clear night at a 2 km mountain site above the marine boundary layer: vertical
  tau_A(532 nm) = 0.04, scale height 1.2 km (the classic Elterman 1968 aerosol profile), Angstrom
  exponent 1.3. The MAGIC LIDAR at La Palma measures this layer night by night (Fruck et al. 2022,
  MNRAS 515, 4520); we have not read their numbers, hence (est.).
- ozone absorbs mostly below 320 nm and above 15 km (above the emission): not modelled.

Photodetectors see the transmission averaged over their band: the Cherenkov spectrum
(dN/dlambda ~ lambda^-2, Frank-Tamm) times a relative detection efficiency, here a Gaussian of
centre ``band_centre_nm`` 380 nm and width ``band_sigma_nm`` 90 nm over 300-600 nm (est.: the shape of
a bialkali PMT's quantum efficiency times mirror reflectivity; the absolute efficiency stays the
camera's ``photon_detection_efficiency``). Because blue light is removed first, the band-averaged
transmission is not exp(-m <tau>): it is summed over ``BAND_NODES`` wavelengths.
"""

from __future__ import annotations

from dataclasses import dataclass

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




# --- extinction of Cherenkov light ---------------------------------------------------------------
STANDARD_COLUMN_G_CM2 = 1033.2   # g/cm^2, vertical column at 1013.25 hPa (Bodhaine et al. 1999)
BAND_NM = (300.0, 600.0)         # the band of the photons counted in ctasim.sim.shower (300-600 nm)
BAND_NODES = 13                  # wavelengths of the band average (every 25 nm)


def rayleigh_optical_depth(wavelength_nm: np.ndarray) -> np.ndarray:
    """Rayleigh optical depth of the whole standard column (1013.25 hPa) at the given wavelengths
    (nm): Bodhaine et al. 1999, eq. 30 (lambda in micrometres inside)."""
    lam = np.asarray(wavelength_nm, float) * 1e-3
    l2 = lam * lam
    return 0.0021520 * (1.0455996 - 341.29061 / l2 - 0.90230850 * l2) / (
        1.0 + 0.0027059889 / l2 - 85.968563 * l2)


@dataclass(frozen=True)
class Extinction:
    """Extinction of Cherenkov light between its emission point and the observation level (see the
    module docstring for the model and the sources). ``enabled=False`` gives transmission 1."""

    enabled: bool = True
    aerosol_tau_532: float = 0.04            # vertical aerosol optical depth above obs. level (est.)
    aerosol_scale_height_m: float = 1200.0   # m (est., Elterman 1968)
    angstrom: float = 1.3                    # aerosol Angstrom exponent (est.)
    band_centre_nm: float = 380.0            # relative detection efficiency (est.)
    band_sigma_nm: float = 90.0

    def band(self) -> tuple[np.ndarray, np.ndarray]:
        """Wavelengths (nm) and normalised weights of the band average (Cherenkov lambda^-2 x
        detection efficiency, trapezoid rule over BAND_NM)."""
        lam = np.linspace(*BAND_NM, BAND_NODES)
        w = lam**-2.0 * np.exp(-0.5 * ((lam - self.band_centre_nm) / self.band_sigma_nm) ** 2)
        w[[0, -1]] *= 0.5
        return lam, w / w.sum()

    def vertical_optical_depth(self, h_m: np.ndarray, obs_level_m: float) -> np.ndarray:
        """Vertical optical depth [n_wavelengths, n] between obs_level_m and heights h_m (m a.s.l.;
        0 below the observation level), at the wavelengths of ``band``."""
        lam, _ = self.band()
        h = np.maximum(np.asarray(h_m, float), obs_level_m)
        column = (vertical_depth(obs_level_m) - COLUMN_G_CM2 * np.exp(-h / SCALE_HEIGHT_M)) / STANDARD_COLUMN_G_CM2
        aerosol = 1.0 - np.exp(-(h - obs_level_m) / self.aerosol_scale_height_m)
        tau_a = self.aerosol_tau_532 * (lam / 532.0) ** -self.angstrom
        return rayleigh_optical_depth(lam)[:, None] * column[None] + tau_a[:, None] * aerosol[None]

    def transmission(self, h_m: np.ndarray, obs_level_m: float, airmass: np.ndarray | float) -> np.ndarray:
        """Band-averaged transmission of light emitted at heights h_m (m a.s.l.) reaching the
        observation level along paths of the given airmass (1 / cos of their zenith angle)."""
        h = np.asarray(h_m, float)
        if not self.enabled:
            return np.ones(h.shape)
        _, w = self.band()
        tau = self.vertical_optical_depth(h.ravel(), obs_level_m)
        m = np.broadcast_to(np.asarray(airmass, float), h.shape).ravel()
        return (w[:, None] * np.exp(-m[None] * tau)).sum(axis=0).reshape(h.shape)

    def log_transmission_coefficients(self, h_m: np.ndarray, obs_level_m: float,
                                      airmass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(a, k) per point such that ln T(m) ~ a - k m near the given airmass m0: the band-averaged
        transmission expanded to first order in the airmass around m0 (exact at m0; the airmass of
        the path to a telescope differs from m0 by a few per cent, so the error is ~1e-4).
        k is the band-averaged optical depth weighted by the light surviving at m0."""
        h = np.asarray(h_m, float)
        m0 = np.asarray(airmass, float)
        if not self.enabled:
            return np.zeros(h.shape), np.zeros(h.shape)
        _, w = self.band()
        tau = self.vertical_optical_depth(h, obs_level_m)
        surviving = w[:, None] * np.exp(-m0[None] * tau)
        t0 = surviving.sum(axis=0)
        k = (surviving * tau).sum(axis=0) / t0
        return np.log(t0) + k * m0, k


NO_EXTINCTION = Extinction(enabled=False)
DEFAULT_EXTINCTION = Extinction()
