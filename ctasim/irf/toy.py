"""Toy DL2 event lists with their bookkeeping row, for tests and benchmarks of the IRF code.

A population of ``n_showers`` is drawn as the simulator books it (power-law energies, cores
uniform in a disk, directions at the source or uniform in solid angle in a cone around it);
showers are kept (triggered) with a probability rising with energy and falling with core
distance; kept ones get a log-normal reconstructed energy, a Gaussian direction error shrinking
with energy and a Beta-distributed gammaness. A few per cent are flagged ``is_valid`` False with
NaN reconstruction, as failed fits. Not physics: only known, smooth inputs for the IRF code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..datamodel.dl2 import DL2_EVENT_TRUE_DTYPE
from ..datamodel.ids import PRIMARY_IDS
from ..datamodel.simulation import DISTRIBUTION_DTYPE
from ..instrument.frames import telescope_to_altaz
from ..spectra import PowerLaw, Spectrum
from .events import event_table
from .weights import SimulationInfo, event_weights, simulation_info


@dataclass(frozen=True)
class ToyResponse:
    """Per-particle response of the toy: threshold (TeV), light-pool radius at 1 TeV (m), energy
    resolution and bias (log-normal), PSF sigma per axis at 1 TeV (deg), gammaness Beta(a, b)."""

    threshold_tev: float
    pool_radius_m: float
    energy_sigma: float
    energy_bias: float
    psf_deg: float
    gammaness_ab: tuple[float, float]


RESPONSES = {
    "gamma": ToyResponse(0.05, 300.0, 0.12, 0.0, 0.06, (5.0, 1.5)),
    "electron": ToyResponse(0.05, 300.0, 0.12, 0.0, 0.06, (5.0, 1.5)),
    "proton": ToyResponse(0.15, 300.0, 0.25, -0.3, 0.15, (1.5, 5.0)),
}
INVALID_FRACTION = 0.03


def toy_population(particle: str, n_showers: int, seed: int = 1, energy_min_tev: float = 0.03,
                   energy_max_tev: float = 100.0, spectral_index: float = -2.0, max_scatter_m: float = 600.0,
                   viewcone_deg: float = 0.0, source_offset_deg: float = 0.0, obs_id: int = 1,
                   pointing: tuple[float, float] = (70.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """(DL2_EVENT_TRUE_DTYPE rows of the kept showers, DISTRIBUTION_DTYPE row of the population)."""
    rng = np.random.default_rng(seed)
    response = RESPONSES[particle]
    energy = PowerLaw(1.0, spectral_index).sample(rng, n_showers, energy_min_tev, energy_max_tev)
    core = max_scatter_m * np.sqrt(rng.random(n_showers))
    pool = response.pool_radius_m * energy**0.2
    kept = rng.random(n_showers) < np.exp(-((core / pool) ** 2)) / (1.0 + (response.threshold_tev / energy) ** 3)
    energy, core, n = energy[kept], core[kept], int(kept.sum())
    lon, lat = _directions(rng, n, viewcone_deg, source_offset_deg)
    true_alt, true_az = telescope_to_altaz(lon, lat, *pointing)
    psf = response.psf_deg * energy**-0.4
    reco_alt, reco_az = telescope_to_altaz(lon + psf * rng.standard_normal(n), lat + psf * rng.standard_normal(n),
                                           *pointing)
    rows = np.zeros(n, DL2_EVENT_TRUE_DTYPE)
    rows["obs_id"], rows["event_id"] = obs_id, np.flatnonzero(kept) + 1
    rows["pointing_alt"], rows["pointing_az"] = pointing
    rows["true_alt"], rows["true_az"], rows["true_energy"] = true_alt, true_az, energy
    rows["true_core_x"], rows["true_core_y"] = core, 0.0
    rows["true_shower_primary_id"] = PRIMARY_IDS[particle]
    rows["reco_alt"], rows["reco_az"] = reco_alt, reco_az
    rows["reco_energy"] = energy * np.exp(response.energy_bias + response.energy_sigma * rng.standard_normal(n))
    rows["gammaness"] = rng.beta(*response.gammaness_ab, n)
    rows["multiplicity"] = 2 + rng.poisson(2.0 * energy**0.3)
    rows["is_valid"] = rng.random(n) >= INVALID_FRACTION
    for name in ("reco_alt", "reco_az", "reco_energy", "gammaness"):
        rows[name][~rows["is_valid"]] = np.nan
    distribution = np.array([(obs_id, particle, n_showers, energy_min_tev, energy_max_tev, spectral_index,
                              max_scatter_m, 0.0, viewcone_deg, source_offset_deg)], DISTRIBUTION_DTYPE)
    return rows, distribution


def _directions(rng: np.random.Generator, n: int, viewcone_deg: float, source_offset_deg: float):
    """Telescope-frame (fov_lon, fov_lat) in deg of n directions uniform in solid angle within
    ``viewcone_deg`` of a source ``source_offset_deg`` from the pointing along +fov_lon."""
    rho = np.arccos(1.0 - rng.random(n) * (1.0 - np.cos(np.deg2rad(viewcone_deg))))
    phi = 2.0 * np.pi * rng.random(n)
    # around the x axis, then rotated by the source offset about the fov_lat axis
    x, y, z = np.cos(rho), np.sin(rho) * np.cos(phi), np.sin(rho) * np.sin(phi)
    d = np.deg2rad(source_offset_deg)
    x, y = x * np.cos(d) - y * np.sin(d), x * np.sin(d) + y * np.cos(d)
    return np.rad2deg(np.arctan2(y, x)), np.rad2deg(np.arcsin(np.clip(z, -1.0, 1.0)))


def weighted_toy_events(spectrum: Spectrum, livetime: u.Quantity, **population: Any) -> tuple[QTable, SimulationInfo]:
    """The IRF event table of ``toy_population(**population)`` with weights to ``spectrum`` over
    ``livetime`` (``observation.PER_SECOND``: expected events per second), and its SimulationInfo."""
    rows, distribution = toy_population(**population)
    info = simulation_info(distribution)
    table = event_table(rows)
    table["weight"] = event_weights(table["true_energy"], info, spectrum, livetime)
    return table, info
