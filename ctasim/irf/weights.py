"""What was simulated, and event weights from the simulated spectrum to a target spectrum.

A population's bookkeeping row (``/simulation/service/shower_distribution``,
``ctasim.datamodel.simulation.DISTRIBUTION_DTYPE``) says how its showers were drawn: ``n_showers``
from a power law of ``spectral_index`` between ``energy_min`` and ``energy_max``, cores uniform in a
disk of ``max_scatter_radius``, directions uniform in solid angle between ``viewcone_min`` and
``viewcone_max`` around the source, which sits ``source_offset`` from the pointing (a viewcone of
zero is a point source). Over a livetime T this is the flux
``n_showers / (pi r^2 T Omega int E^index dE) * E^index``; the weight of an event of true energy E
is the target flux over that flux at E, so weighted counts are counts expected in T.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from ..errors import CtasimError
from ..spectra import PowerLaw, Spectrum, cone_solid_angle
from .binning import bin_index, check_edges

#: points of the numerical integral over the FoV offset of a viewcone that is not centred on the pointing
N_OFFSET_POINTS = 20_001


@dataclass(frozen=True)
class SimulationInfo:
    """The simulated showers of one population (summed over its observations)."""

    n_showers: int
    energy_min: u.Quantity
    energy_max: u.Quantity
    spectral_index: float
    max_scatter_radius: u.Quantity
    viewcone_min: u.Quantity
    viewcone_max: u.Quantity
    source_offset: u.Quantity

    @property
    def is_diffuse(self) -> bool:
        return bool(self.viewcone_max > self.viewcone_min)

    @property
    def area(self) -> u.Quantity:
        """pi r^2 of the scatter disk (m^2)."""
        return (np.pi * self.max_scatter_radius**2).to(u.m**2)

    @property
    def solid_angle(self) -> u.Quantity:
        """Solid angle of the viewcone (sr); zero for a point source."""
        return (cone_solid_angle(self.viewcone_max.to_value(u.deg))
                - cone_solid_angle(self.viewcone_min.to_value(u.deg))) * u.sr

    def n_showers_per_energy(self, energy_bins: u.Quantity) -> np.ndarray:
        """Expected number of simulated showers in each true-energy bin (the part inside the range)."""
        edges = check_edges(energy_bins, u.TeV, "true energy bins").to_value(u.TeV)
        e_min, e_max = self.energy_min.to_value(u.TeV), self.energy_max.to_value(u.TeV)
        lo, hi = np.clip(edges[:-1], e_min, e_max), np.clip(edges[1:], e_min, e_max)
        shape = PowerLaw(1.0, self.spectral_index)
        return self.n_showers * shape.integral(lo, hi) / shape.integral(e_min, e_max)

    def fov_offset_fraction(self, fov_offset_bins: u.Quantity) -> np.ndarray:
        """Fraction of the simulated showers whose true direction is in each FoV-offset bin (angle to
        the pointing): all of them in the bin of ``source_offset`` for a point source."""
        edges = check_edges(fov_offset_bins, u.deg, "FoV offset bins").to_value(u.deg)
        d = self.source_offset.to_value(u.deg)
        if not self.is_diffuse:
            idx, inside = bin_index(np.array([d]), edges)
            if not inside[0]:
                raise CtasimError(f"FoV offset bins {edges.tolist()} deg: the point source at {d} deg is outside")
            return np.eye(edges.size - 1)[idx[0]]
        inner, outer = self.viewcone_min.to_value(u.deg), self.viewcone_max.to_value(u.deg)
        in_cone = _cap_overlap(edges, outer, d) - _cap_overlap(edges, inner, d)
        return np.diff(in_cone) / self.solid_angle.to_value(u.sr)

    def n_showers_per_energy_and_offset(self, energy_bins: u.Quantity, fov_offset_bins: u.Quantity) -> np.ndarray:
        """Expected number of simulated showers per (true energy, FoV offset) bin."""
        return self.n_showers_per_energy(energy_bins)[:, None] * self.fov_offset_fraction(fov_offset_bins)[None, :]

    def spectrum(self, livetime: u.Quantity) -> PowerLaw:
        """The flux that produces these showers in ``livetime``: per cm^2 s TeV (and sr if diffuse)."""
        t = positive_livetime(livetime)
        e_min, e_max = self.energy_min.to_value(u.TeV), self.energy_max.to_value(u.TeV)
        exposure = self.area.to_value(u.cm**2) * t.to_value(u.s)
        if self.is_diffuse:
            exposure *= self.solid_angle.to_value(u.sr)
        norm = self.n_showers / (exposure * PowerLaw(1.0, self.spectral_index).integral(e_min, e_max))
        return PowerLaw(norm, self.spectral_index, diffuse=self.is_diffuse)


def simulation_info(distribution: np.ndarray, obs_ids: int | Iterable[int] | None = None) -> SimulationInfo:
    """The SimulationInfo of the ``DISTRIBUTION_DTYPE`` rows of ``obs_ids`` (default: all rows).

    The rows must describe the same simulation but for their number of showers (they are summed);
    CtasimError otherwise, for no rows, or for a population not drawn from a power law."""
    rows = np.asarray(distribution)
    if obs_ids is not None:
        ids = list(obs_ids) if isinstance(obs_ids, Iterable) else [obs_ids]
        rows = rows[np.isin(rows["obs_id"], ids)]
    if rows.size == 0:
        raise CtasimError(f"shower distribution: no row for obs_id {obs_ids}")
    fields = ("particle", "energy_min", "energy_max", "spectral_index", "max_scatter_radius", "viewcone_min",
              "viewcone_max", "source_offset")
    for name in fields:
        if np.unique(rows[name]).size != 1:
            raise CtasimError(f"shower distribution: obs_ids {rows['obs_id'].tolist()} differ in {name} "
                              f"({rows[name].tolist()}): weight them as separate populations")
    row = rows[0]
    index = float(row["spectral_index"])
    if not np.isfinite(index):
        raise CtasimError(f"shower distribution: obs_id {int(row['obs_id'])} was not drawn from a power law "
                          "(spectral_index NaN): its events cannot be weighted")
    if rows["n_showers"].sum() <= 0 or not 0 < row["energy_min"] < row["energy_max"]:
        raise CtasimError(f"shower distribution: obs_ids {rows['obs_id'].tolist()}: expected n_showers > 0 and "
                          f"0 < energy_min < energy_max, got {rows['n_showers'].sum()}, "
                          f"[{row['energy_min']}, {row['energy_max']}] TeV")
    return SimulationInfo(
        n_showers=int(rows["n_showers"].sum()),
        energy_min=float(row["energy_min"]) * u.TeV,
        energy_max=float(row["energy_max"]) * u.TeV,
        spectral_index=index,
        max_scatter_radius=float(row["max_scatter_radius"]) * u.m,
        viewcone_min=float(row["viewcone_min"]) * u.deg,
        viewcone_max=float(row["viewcone_max"]) * u.deg,
        source_offset=float(row["source_offset"]) * u.deg,
    )


def event_weights(true_energy: u.Quantity, simulation: SimulationInfo, target: Spectrum,
                  livetime: u.Quantity) -> np.ndarray:
    """Weight of each event: target flux / simulated flux at its true energy, for ``livetime``.

    ``target`` and the population must both be point-like or both diffuse (per sr); CtasimError
    otherwise, and for true energies outside the simulated range."""
    simulated = simulation.spectrum(livetime)
    if target.diffuse != simulated.diffuse:
        kinds = {True: "diffuse (per sr)", False: "point-like"}
        raise CtasimError(f"event weights: target spectrum is {kinds[target.diffuse]} but the population "
                          f"is {kinds[simulated.diffuse]}")
    energy = u.Quantity(true_energy).to_value(u.TeV)
    e_min, e_max = simulation.energy_min.to_value(u.TeV), simulation.energy_max.to_value(u.TeV)
    outside = (energy < e_min * (1 - 1e-9)) | (energy > e_max * (1 + 1e-9))
    if outside.any():
        raise CtasimError(f"event weights: {outside.sum()} event(s) with a true energy outside the simulated "
                          f"range [{e_min}, {e_max}] TeV: wrong population?")
    return np.asarray(target(energy) / simulated(energy), np.float64)


def positive_livetime(livetime: u.Quantity) -> u.Quantity:
    """``livetime`` as a Quantity in s; CtasimError unless a finite time above zero."""
    try:
        t = u.Quantity(livetime).to(u.s)
    except (u.UnitsError, TypeError, ValueError):
        raise CtasimError(f"livetime {livetime!r}: expected a time (e.g. 50 h)") from None
    if t.ndim != 0 or not np.isfinite(t.value) or t.value <= 0:
        raise CtasimError(f"livetime {livetime}: expected a time above zero")
    return t


def _cap_overlap(offsets_deg: np.ndarray, radius_deg: float, centre_deg: float) -> np.ndarray:
    """Solid angle (sr) of a cap of ``radius_deg`` around a point ``centre_deg`` from the pointing that
    lies within each offset of the pointing: exact when centred, else the integral over the offset t
    of 2 phi(t) sin t, phi the half angle of the circle of radius t that is inside the cap."""
    if radius_deg <= 0.0:
        return np.zeros(offsets_deg.size)
    if centre_deg == 0.0:
        return cone_solid_angle(np.minimum(offsets_deg, radius_deg))
    r, d = np.deg2rad(radius_deg), np.deg2rad(centre_deg)
    t = np.linspace(0.0, min(np.pi, r + d), N_OFFSET_POINTS)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_phi = (np.cos(r) - np.cos(t) * np.cos(d)) / (np.sin(t) * np.sin(d))
    # at t = 0 the circle is a point: inside the cap (-inf -> phi = pi) or outside (+inf -> phi = 0)
    phi = np.arccos(np.clip(np.nan_to_num(cos_phi, nan=1.0, posinf=1.0, neginf=-1.0), -1.0, 1.0))
    integrand = 2.0 * phi * np.sin(t)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(t))])
    return np.interp(np.deg2rad(offsets_deg), t, cumulative)
