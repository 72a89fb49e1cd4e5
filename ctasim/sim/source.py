"""Shower populations and the shower source: deterministic blocks of simulated showers.

Block i of a population holds showers ``i * block_size ... (i + 1) * block_size - 1`` with
``event_id = i * block_size + k + 1`` and spans the fixed simulated time interval
``start_s + [i, i + 1) * block_size / rate_hz`` (s; the last block ends after its n showers at
``n / rate_hz``); its arrival times are uniform order statistics inside that span, i.e. a Poisson
process of rate ``rate_hz`` conditioned on the block's count. Every block draws from
``block_rng(seed, population name, i)`` alone, so blocks can be made in any order and on any worker.

``rate_hz`` is either given or the physical arrival rate of the population's absolute flux through
its simulated phase space (``arrival_rate_hz``); then simulated seconds are real seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..datamodel.ids import PRIMARY_IDS
from ..datamodel.simulation import SHOWER_DTYPE
from ..errors import ConfigError
from ..instrument.frames import altaz_to_vector, telescope_to_altaz, vector_to_altaz
from ..instrument.subarray import SubarrayDescription
from ..rng import block_rng
from ..spectra import Spectrum, cone_solid_angle, spectrum_from_config
from .blocks import ShowerBlock
from .shower import simulate_showers, tilt_vectors


@dataclass(frozen=True)
class Population:
    """One simulated population (a CORSIKA-run-like set of showers with its own obs_id).

    Energies in TeV, scatter radius in m (cores uniform in a ground disk around the array
    centre), angles in deg: ``viewcone_deg`` = 0 for a point source, else directions uniform in
    solid angle within that cone around the source; the source sits ``source_offset_deg`` from
    the pointing towards positive fov_lon (higher azimuth). ``rate_hz``: arrival rate of
    simulated showers (Hz; a scenario population with ``rate_from_flux`` gets ``arrival_rate_hz``
    of its spectrum); ``start_s``: simulated time of the population's first block (s since the run
    start; a flare is a point-source population that starts late and lasts n_showers / rate_hz).
    """

    name: str
    particle: str
    spectrum: dict[str, Any] = field(default_factory=lambda: {"type": "power_law", "index": -2.0})
    n_showers: int = 1000
    energy_min_tev: float = 0.01
    energy_max_tev: float = 100.0
    max_scatter_m: float = 1000.0
    viewcone_deg: float = 0.0
    source_offset_deg: float = 0.0
    rate_hz: float = 1000.0
    obs_id: int = 1
    start_s: float = 0.0

    def n_blocks(self, block_size: int) -> int:
        """Blocks of ``block_size`` showers that hold all the population's showers."""
        return -(-self.n_showers // block_size)

    def block_start_s(self, block_index: int, block_size: int) -> float:
        """Simulated start time (s) of block ``block_index`` of ``block_size`` showers."""
        return self.start_s + block_index * block_size / self.rate_hz

    def block_span_s(self, block_index: int, block_size: int) -> float:
        """Simulated duration (s) of that block: its showers / rate_hz (a last, partial block is shorter)."""
        return min(block_size, self.n_showers - block_index * block_size) / self.rate_hz

    def validate(self) -> Spectrum:
        """Check the values; returns the spectrum. Raises ConfigError naming the bad field."""
        src = f"population {self.name!r}"
        if self.particle not in PRIMARY_IDS:
            raise ConfigError(src, "particle", self.particle, f"one of {', '.join(PRIMARY_IDS)}")
        checks = [
            ("n_showers", self.n_showers > 0 and isinstance(self.n_showers, (int, np.integer)), "a positive integer"),
            ("energy_min_tev", self.energy_min_tev > 0, "a positive number"),
            ("energy_max_tev", self.energy_max_tev > self.energy_min_tev, "a number above energy_min_tev"),
            ("max_scatter_m", self.max_scatter_m >= 0, "a non-negative number"),
            ("viewcone_deg", 0 <= self.viewcone_deg < 90, "a number in [0, 90)"),
            ("source_offset_deg", 0 <= self.source_offset_deg < 30, "a number in [0, 30)"),
            ("rate_hz", self.rate_hz > 0, "a positive number"),
            ("start_s", self.start_s >= 0, "a non-negative number"),
        ]
        for key, ok, expected in checks:
            if not ok:
                raise ConfigError(src, key, getattr(self, key), expected)
        return spectrum_from_config(self.spectrum, src)


CM2_PER_M2 = 1.0e4


def check_flux_geometry(diffuse: bool, viewcone_deg: float, zenith_deg: float = 0.0) -> None:
    """Whether a flux can be turned into an arrival rate (``arrival_rate_hz``): a diffuse spectrum
    (per sr) needs a view cone, a point source none, and the cone must stay above the horizon.
    Raises ValueError with a one-line message naming the key."""
    if diffuse and viewcone_deg <= 0.0:
        raise ValueError("viewcone_deg > 0 for a diffuse spectrum (its flux is per sr: the rate needs the "
                         "view cone's solid angle)")
    if not diffuse and viewcone_deg > 0.0:
        raise ValueError(f"viewcone_deg 0 for a point-source spectrum (got {viewcone_deg:g}; only a diffuse "
                         "spectrum, per sr, fills a view cone)")
    if not 0.0 <= zenith_deg + viewcone_deg < 90.0:
        raise ValueError(f"source zenith angle + viewcone_deg below 90 deg (got {zenith_deg:g} + {viewcone_deg:g}): "
                         "cores are in a ground disk, the cone must stay above the horizon")


def arrival_rate_hz(spectrum: Spectrum, population: Population, zenith_deg: float) -> float:
    """Arrival rate (Hz) of the showers of ``spectrum``'s absolute flux in ``population``'s phase
    space: energies in [energy_min_tev, energy_max_tev], cores in the scatter disk, directions in
    the view cone around a source at ``zenith_deg`` (deg; 90 - the source's altitude).

    Convention of the simulator (``ShowerSource.block``): cores are uniform in a horizontal disk of
    radius ``max_scatter_m`` on the ground (the observation level), not in the plane perpendicular
    to the shower. A flux F, counted per cm^2 perpendicular to the arrival direction, crosses a
    horizontal disk of area pi r^2 from a zenith angle theta at the rate F pi r^2 cos(theta):

    - point source (``viewcone_deg`` 0; F in 1 / (TeV cm^2 s)):
      ``rate = int_Emin^Emax F dE * pi r^2 * 1e4 cm^2/m^2 * cos(zenith)``;
    - diffuse (F in 1 / (TeV cm^2 s sr), directions uniform in solid angle within the cone):
      ``rate = int F dE * pi r^2 * 1e4 * int_cone cos(theta) dOmega
      = int F dE * pi r^2 * 1e4 * Omega * cos(zenith) * (1 + cos viewcone) / 2``, with
      Omega = 2 pi (1 - cos viewcone): averaged over the cone, the z component of a direction is
      cos(zenith) times the mean cosine of its angle from the axis, (1 + cos viewcone) / 2
      (exact while the whole cone is above the horizon; 0.998 for a 5 deg cone).

    The rate is exact; the simulated directions stay uniform in solid angle, whereas the showers
    crossing the disk are weighted by cos(theta) (within a 5 deg cone at 20 deg zenith, +-3 %).
    Raises ValueError (one line, naming the key) for a diffuse spectrum with ``viewcone_deg`` 0, a
    point source with ``viewcone_deg`` > 0, or a cone reaching the horizon.
    """
    viewcone = float(population.viewcone_deg)
    check_flux_geometry(spectrum.diffuse, viewcone, zenith_deg)
    energy_integral = float(spectrum.integral(population.energy_min_tev, population.energy_max_tev))
    area_cm2 = np.pi * population.max_scatter_m**2 * CM2_PER_M2
    projection = np.cos(np.deg2rad(zenith_deg))
    if spectrum.diffuse:
        projection *= float(cone_solid_angle(viewcone)) * 0.5 * (1.0 + np.cos(np.deg2rad(viewcone)))
    return energy_integral * area_cm2 * float(projection)


class ShowerSource:
    """Blocks of showers of a population seen by an array pointing at (alt, az) deg."""

    def __init__(self, population: Population, subarray: SubarrayDescription, pointing_alt_deg: float,
                 pointing_az_deg: float, seed: int, block_size: int) -> None:
        self.spectrum = population.validate()
        if block_size <= 0:
            raise ConfigError(f"population {population.name!r}", "block_size", block_size, "a positive integer")
        self.population = population
        self.obs_level_m = subarray.site.obs_level_m
        self.pointing = (float(pointing_alt_deg), float(pointing_az_deg))
        self.seed = int(seed)
        self.block_size = int(block_size)
        src_alt, src_az = telescope_to_altaz(population.source_offset_deg, 0.0, *self.pointing)
        self.source_alt_deg, self.source_az_deg = float(src_alt), float(src_az)

    @property
    def n_blocks(self) -> int:
        return self.population.n_blocks(self.block_size)

    def block(self, block_index: int) -> ShowerBlock:
        """Block ``block_index`` (0-based): truth table, Cherenkov emission and muons."""
        if not 0 <= block_index < self.n_blocks:
            raise IndexError(f"block {block_index} of {self.n_blocks}")
        pop = self.population
        rng = block_rng(self.seed, pop.name, block_index)
        first = block_index * self.block_size
        n = min(self.block_size, pop.n_showers - first)
        t_start = pop.block_start_s(block_index, self.block_size)
        t_stop = t_start + pop.block_span_s(block_index, self.block_size)

        energy = self.spectrum.sample(rng, n, pop.energy_min_tev, pop.energy_max_tev)
        alt, az = self._directions(rng, n)
        r = pop.max_scatter_m * np.sqrt(rng.random(n))
        phi = rng.uniform(0.0, 2 * np.pi, n)
        core_x, core_y = r * np.cos(phi), r * np.sin(phi)
        times = t_start + np.sort(rng.random(n)) * (t_stop - t_start)
        emission, muons, h_first, x_max = simulate_showers(
            rng, pop.particle, energy, alt, az, core_x, core_y, self.obs_level_m)

        showers = np.zeros(n, SHOWER_DTYPE)
        showers["obs_id"] = pop.obs_id
        showers["event_id"] = first + np.arange(n) + 1
        showers["true_energy"] = energy
        showers["true_alt"], showers["true_az"] = alt, az
        showers["true_core_x"], showers["true_core_y"] = core_x, core_y
        showers["true_h_first_int"] = h_first
        showers["true_x_max"] = x_max
        showers["true_shower_primary_id"] = PRIMARY_IDS[pop.particle]
        showers["time"] = times
        return ShowerBlock(pop.name, block_index, showers, emission, t_start, t_stop, muons)

    def _directions(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Arrival directions (alt, az) deg: the source, or uniform in solid angle in the view cone."""
        if self.population.viewcone_deg == 0:
            return np.full(n, self.source_alt_deg), np.full(n, self.source_az_deg)
        cos_max = np.cos(np.deg2rad(self.population.viewcone_deg))
        theta = np.arccos(1.0 - rng.random(n) * (1.0 - cos_max))
        src = altaz_to_vector(self.source_alt_deg, self.source_az_deg)
        v = tilt_vectors(np.full(n, src[0]), np.full(n, src[1]), np.full(n, src[2]), theta,
                         rng.uniform(0.0, 2 * np.pi, n))
        return vector_to_altaz(v)
