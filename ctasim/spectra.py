"""Energy spectra of gamma-ray sources and cosmic rays: evaluation, integrals and sampling.

The simulator draws primary energies from these spectra and the IRF code weights events with
them, so they live here, outside both. Every spectrum is a differential flux dN/dE with energies
in TeV: 1 / (TeV cm^2 s) for a point source, 1 / (TeV cm^2 s sr) for a ``diffuse`` one (cosmic
rays); ``unit`` gives it as an astropy unit. Parameters from pyirf's spectral.py (see
../shared/REFERENCE.md); cosmic-ray helium from Hoerandel's poly-gonato fit (2003).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import astropy.units as u
import numpy as np

from .errors import ConfigError

E_REF_TEV = 1.0
# spectra without an analytic integral: trapezoid rule in log E on this many points per interval
N_CDF_POINTS = 4096

POINT_SOURCE_FLUX_UNIT = u.Unit("1 / (TeV cm2 s)")
DIFFUSE_FLUX_UNIT = u.Unit("1 / (TeV cm2 s sr)")

# Crab Nebula, HEGRA power law (pyirf spectral.CRAB_HEGRA; Aharonian et al. 2004, ApJ 614)
CRAB_HEGRA = {"normalization": 2.83e-11, "index": -2.62}
# Crab Nebula, MAGIC log-parabola in log10 form (pyirf spectral.CRAB_MAGIC_JHEAP2015; Aleksic et al. 2015)
CRAB_MAGIC = {"normalization": 3.23e-11, "a": -2.47, "b": -0.24}
# cosmic-ray protons from the CTA Prod3b IRF document (pyirf spectral.IRFDOC_PROTON_SPECTRUM)
IRFDOC_PROTON = {"normalization": 9.8e-6, "index": -2.62, "diffuse": True}
# cosmic-ray electrons, power law with a log-normal bump (pyirf spectral.IRFDOC_ELECTRON_SPECTRUM)
IRFDOC_ELECTRON = {"normalization": 2.385e-9, "index": -3.43, "mu": -0.101, "sigma": 0.741, "f": 1.95,
                   "diffuse": True}
# cosmic-ray helium, energy per nucleus: the poly-gonato fit of direct measurements (Hoerandel 2003,
# Astropart. Phys. 19, 193, table 1: Z = 2, Phi0 = 5.71e-2 / (m^2 sr s TeV) at 1 TeV, gamma = 2.64),
# per cm^2 here. Its knee (Z x 4.5 PeV = 9 PeV) is left out: below 1 PeV it changes the flux < 1e-2.
HOERANDEL_HELIUM = {"normalization": 5.71e-6, "index": -2.64, "diffuse": True}


def cone_solid_angle(angle_deg: float | np.ndarray) -> np.ndarray:
    """Solid angle (sr) of a cone of half opening ``angle_deg``: 2 pi (1 - cos angle)."""
    return 2.0 * np.pi * (1.0 - np.cos(np.deg2rad(angle_deg)))


class Spectrum:
    """A differential spectrum dN/dE(E) (E in TeV) with integrals and sampling between two bounds.

    Subclasses are frozen dataclasses with ``normalization`` and ``diffuse`` fields."""

    normalization: float
    diffuse: bool

    def __call__(self, energy_tev: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def unit(self) -> u.UnitBase:
        """Unit of ``self(E)``: per sr for a diffuse spectrum."""
        return DIFFUSE_FLUX_UNIT if self.diffuse else POINT_SOURCE_FLUX_UNIT

    def integral(self, e_min: float | np.ndarray, e_max: float | np.ndarray) -> np.ndarray:
        """Integral of dN/dE over [e_min, e_max] (TeV, broadcast): 1 / (cm^2 s [sr])."""
        e_min, e_max = np.broadcast_arrays(np.asarray(e_min, float), np.asarray(e_max, float))
        log_e = np.linspace(np.log(e_min), np.log(e_max), N_CDF_POINTS, axis=-1)
        return np.trapezoid(self(np.exp(log_e)) * np.exp(log_e), log_e, axis=-1)

    def integrate_cone(self, inner_deg: float, outer_deg: float) -> Spectrum:
        """This diffuse spectrum integrated over the solid angle between two cones around one axis:
        the point-source spectrum (per cm^2 s TeV) of everything arriving in that ring."""
        if not self.diffuse:
            raise ValueError("only a diffuse spectrum (per sr) can be integrated over solid angle")
        solid_angle = cone_solid_angle(outer_deg) - cone_solid_angle(inner_deg)
        return dataclasses.replace(self, normalization=self.normalization * solid_angle, diffuse=False)

    def sample(self, rng: np.random.Generator, n: int, e_min: float, e_max: float) -> np.ndarray:
        """n energies (TeV) in [e_min, e_max] distributed as this spectrum (tabulated inverse CDF)."""
        _check_range(e_min, e_max)
        log_e = np.linspace(np.log(e_min), np.log(e_max), N_CDF_POINTS)
        dn_dloge = self(np.exp(log_e)) * np.exp(log_e)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dn_dloge[1:] + dn_dloge[:-1]) * np.diff(log_e))])
        return np.exp(np.interp(rng.random(n) * cdf[-1], cdf, log_e))


@dataclass(frozen=True)
class PowerLaw(Spectrum):
    """normalization * (E / e_ref)^index."""

    normalization: float
    index: float
    e_ref: float = E_REF_TEV
    diffuse: bool = False

    def __call__(self, energy_tev):
        return self.normalization * (np.asarray(energy_tev) / self.e_ref) ** self.index

    def integral(self, e_min, e_max):
        """Exact integral over [e_min, e_max] (TeV, broadcast)."""
        e_min, e_max = np.asarray(e_min, float), np.asarray(e_max, float)
        g = self.index + 1.0
        if abs(g) < 1e-12:
            return self.normalization * self.e_ref * np.log(e_max / e_min)
        return self.normalization * self.e_ref / g * ((e_max / self.e_ref) ** g - (e_min / self.e_ref) ** g)

    def sample(self, rng, n, e_min, e_max):
        """Exact inverse-CDF sampling of E^index in [e_min, e_max] (TeV)."""
        _check_range(e_min, e_max)
        u_ = rng.random(n)
        g = self.index + 1.0
        if abs(g) < 1e-12:
            return e_min * (e_max / e_min) ** u_
        return (e_min**g + u_ * (e_max**g - e_min**g)) ** (1.0 / g)


@dataclass(frozen=True)
class LogParabola(Spectrum):
    """normalization * (E / e_ref)^(a + b log10(E / e_ref))."""

    normalization: float
    a: float
    b: float
    e_ref: float = E_REF_TEV
    diffuse: bool = False

    def __call__(self, energy_tev):
        x = np.asarray(energy_tev) / self.e_ref
        return self.normalization * x ** (self.a + self.b * np.log10(x))


@dataclass(frozen=True)
class PowerLawWithBump(Spectrum):
    """Power law times (1 + f (exp(G(log10 E; mu, sigma)) - 1)), the IRF document's electrons.

    G is the Gaussian without its 1 / (sigma sqrt(2 pi)) normalisation, as ROOT's TMath::Gauss in
    the CTA macro that defined the spectrum (noted in pyirf's spectral.py)."""

    normalization: float
    index: float
    mu: float
    sigma: float
    f: float
    e_ref: float = E_REF_TEV
    diffuse: bool = False

    def __call__(self, energy_tev):
        x = np.asarray(energy_tev) / self.e_ref
        bump = np.exp(-0.5 * ((np.log10(x) - self.mu) / self.sigma) ** 2)
        return self.normalization * x**self.index * (1.0 + self.f * (np.exp(bump) - 1.0))


def _check_range(e_min: float, e_max: float) -> None:
    if not (0.0 < e_min < e_max):
        raise ValueError(f"energy range [{e_min}, {e_max}] TeV: expected 0 < e_min < e_max")


SPECTRUM_TYPES = ("power_law", "crab_hegra", "crab_log_parabola", "cosmic_proton", "cosmic_electron", "cosmic_helium")


def spectrum_from_config(config: dict[str, Any], source: str = "spectrum") -> Spectrum:
    """Build a spectrum from ``{"type": ..., ...}``.

    Types: ``power_law`` (a point source; keys ``index`` < 0, optional ``normalization`` > 0 in
    1 / (TeV cm^2 s) at ``e_ref`` > 0 TeV; without a normalization it is a shape only, 1 at e_ref),
    and the fixed spectra ``crab_hegra``, ``crab_log_parabola``, ``cosmic_proton``,
    ``cosmic_electron``, ``cosmic_helium`` (the last three diffuse; no further keys). Anything else
    raises ConfigError.
    """
    if not isinstance(config, dict):
        raise ConfigError(source, "spectrum", config, "a mapping with a 'type' key")
    kind = config.get("type")
    if kind not in SPECTRUM_TYPES:
        raise ConfigError(source, "spectrum.type", kind, f"one of {', '.join(SPECTRUM_TYPES)}")
    allowed = {"type", "index", "normalization", "e_ref"} if kind == "power_law" else {"type"}
    for key, value in config.items():
        if key not in allowed:
            raise ConfigError(source, f"spectrum.{key}", value, f"no such key for type {kind}")
    if kind == "power_law":
        index = config.get("index")
        if not _is_number(index) or index >= 0:
            raise ConfigError(source, "spectrum.index", index, "a negative number (dN/dE ~ E^index)")
        params = {}
        for key in ("normalization", "e_ref"):
            if key in config:
                if not _is_number(config[key]) or config[key] <= 0:
                    raise ConfigError(source, f"spectrum.{key}", config[key], "a positive number")
                params[key] = float(config[key])
        return PowerLaw(normalization=params.get("normalization", 1.0), index=float(index),
                        e_ref=params.get("e_ref", E_REF_TEV))
    if kind == "crab_hegra":
        return PowerLaw(**CRAB_HEGRA)
    if kind == "crab_log_parabola":
        return LogParabola(**CRAB_MAGIC)
    if kind == "cosmic_proton":
        return PowerLaw(**IRFDOC_PROTON)
    if kind == "cosmic_helium":
        return PowerLaw(**HOERANDEL_HELIUM)
    return PowerLawWithBump(**IRFDOC_ELECTRON)


def has_absolute_flux(config: dict[str, Any]) -> bool:
    """Whether a spectrum configuration gives an absolute flux (not only a shape): every fixed
    spectrum does, a ``power_law`` only with a ``normalization``."""
    return config.get("type") != "power_law" or "normalization" in config


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))
