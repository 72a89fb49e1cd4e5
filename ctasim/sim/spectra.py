"""Energy spectra of gamma-ray sources and cosmic rays, and sampling of primary energies.

All spectra are differential fluxes dN/dE in 1 / (TeV cm^2 s) (point sources) or
1 / (TeV cm^2 s sr) (diffuse cosmic rays), energies in TeV. Parameters from pyirf's spectral.py
(see ../shared/REFERENCE.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

E_REF_TEV = 1.0
# sampling of spectra without an analytic inverse: tabulated CDF on this many log-spaced energies
N_CDF_POINTS = 4096

# Crab Nebula, HEGRA power law (pyirf spectral.CRAB_HEGRA)
CRAB_HEGRA = {"normalization": 2.83e-11, "index": -2.62}
# Crab Nebula, MAGIC log-parabola in log10 form (pyirf spectral.CRAB_MAGIC_JHEAP2015)
CRAB_MAGIC = {"normalization": 3.23e-11, "a": -2.47, "b": -0.24}
# cosmic-ray protons from the CTA IRF document (pyirf spectral.IRFDOC_PROTON_SPECTRUM)
IRFDOC_PROTON = {"normalization": 9.8e-6, "index": -2.62}
# cosmic-ray electrons, power law with a log-normal bump (pyirf spectral.IRFDOC_ELECTRON_SPECTRUM)
IRFDOC_ELECTRON = {"normalization": 2.385e-9, "index": -3.43, "mu": -0.101, "sigma": 0.741, "f": 1.95}


class Spectrum:
    """A differential spectrum dN/dE(E) with sampling of energies between two bounds."""

    def __call__(self, energy_tev: np.ndarray) -> np.ndarray:
        raise NotImplementedError

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

    def __call__(self, energy_tev):
        return self.normalization * (np.asarray(energy_tev) / self.e_ref) ** self.index

    def sample(self, rng, n, e_min, e_max):
        """Exact inverse-CDF sampling of E^index in [e_min, e_max] (TeV)."""
        _check_range(e_min, e_max)
        u = rng.random(n)
        g = self.index + 1.0
        if abs(g) < 1e-12:
            return e_min * (e_max / e_min) ** u
        return (e_min**g + u * (e_max**g - e_min**g)) ** (1.0 / g)


@dataclass(frozen=True)
class LogParabola(Spectrum):
    """normalization * (E / e_ref)^(a + b log10(E / e_ref))."""

    normalization: float
    a: float
    b: float
    e_ref: float = E_REF_TEV

    def __call__(self, energy_tev):
        x = np.asarray(energy_tev) / self.e_ref
        return self.normalization * x ** (self.a + self.b * np.log10(x))


@dataclass(frozen=True)
class PowerLawWithBump(Spectrum):
    """Power law times (1 + f (exp(G(log10 E; mu, sigma)) - 1)), the IRF document's electrons."""

    normalization: float
    index: float
    mu: float
    sigma: float
    f: float
    e_ref: float = E_REF_TEV

    def __call__(self, energy_tev):
        x = np.asarray(energy_tev) / self.e_ref
        bump = np.exp(-0.5 * ((np.log10(x) - self.mu) / self.sigma) ** 2) / (self.sigma * np.sqrt(2 * np.pi))
        return self.normalization * x**self.index * (1.0 + self.f * (np.exp(bump) - 1.0))


def _check_range(e_min: float, e_max: float) -> None:
    if not (0.0 < e_min < e_max):
        raise ValueError(f"energy range [{e_min}, {e_max}] TeV: expected 0 < e_min < e_max")


SPECTRUM_TYPES = ("power_law", "crab_hegra", "crab_log_parabola", "cosmic_proton", "cosmic_electron")


def spectrum_from_config(config: dict[str, Any], source: str = "spectrum") -> Spectrum:
    """Build a spectrum from ``{"type": ..., ...}``.

    Types: ``power_law`` (keys ``index`` < 0, optional ``normalization`` > 0 and ``e_ref`` > 0
    TeV), and the fixed spectra ``crab_hegra``, ``crab_log_parabola``, ``cosmic_proton``,
    ``cosmic_electron`` (no further keys). Anything else raises ConfigError.
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
    return PowerLawWithBump(**IRFDOC_ELECTRON)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))
